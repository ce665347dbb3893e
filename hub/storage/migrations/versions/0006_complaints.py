"""Complaint cases, labels and corrections.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_IN_HAND = sa.text("status IN ('open', 'in_progress')")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "complaint_cases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("threatened_to_leave", sa.Boolean(), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("first_message_id", _ID, nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("last_message_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("outcome_state", sa.String(length=16), nullable=True),
        sa.Column("outcome_message_id", _ID, nullable=True),
        _fk("complaint_cases", "conversation_id", "conversations"),
        _fk("complaint_cases", "customer_id", "customers"),
        _fk("complaint_cases", "owner_id", "agents"),
        _fk("complaint_cases", "first_message_id", "messages"),
        _fk("complaint_cases", "outcome_message_id", "messages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_cases")),
    )
    op.create_index(
        "uq_complaint_cases_in_hand",
        "complaint_cases",
        ["conversation_id"],
        unique=True,
        sqlite_where=_IN_HAND,
        postgresql_where=_IN_HAND,
    )
    op.create_index("ix_complaint_cases_customer_opened", "complaint_cases", ["customer_id", "opened_at"])
    op.create_index("ix_complaint_cases_opened_at", "complaint_cases", ["opened_at"])
    op.create_index("ix_complaint_cases_status", "complaint_cases", ["status"])

    op.create_table(
        "complaint_corrections",
        sa.Column("id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("customer_id", _ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("is_complaint", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("previous", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        _fk("complaint_corrections", "message_id", "messages"),
        _fk("complaint_corrections", "customer_id", "customers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_corrections")),
    )
    op.create_index("ix_complaint_corrections_message_id", "complaint_corrections", ["message_id"])

    op.create_table(
        "complaint_scores",
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("detected", sa.Boolean(), nullable=False),
        sa.Column("is_complaint", sa.Boolean(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("severity", sa.String(length=8), nullable=True),
        sa.Column("cues", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("correction_id", _ID, nullable=True),
        sa.Column("case_id", _ID, nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("scored_at", sa.DateTime(), nullable=False),
        _fk("complaint_scores", "message_id", "messages"),
        _fk("complaint_scores", "conversation_id", "conversations"),
        _fk("complaint_scores", "customer_id", "customers"),
        _fk("complaint_scores", "correction_id", "complaint_corrections"),
        _fk("complaint_scores", "case_id", "complaint_cases"),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_complaint_scores")),
    )
    op.create_index("ix_complaint_scores_conversation_id", "complaint_scores", ["conversation_id"])
    op.create_index("ix_complaint_scores_customer_id", "complaint_scores", ["customer_id"])
    op.create_index("ix_complaint_scores_case_id", "complaint_scores", ["case_id"])


def downgrade() -> None:
    op.drop_table("complaint_scores")
    op.drop_table("complaint_corrections")
    op.drop_table("complaint_cases")
