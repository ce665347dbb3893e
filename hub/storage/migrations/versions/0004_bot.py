"""Bot: content versions, trained models, activation history, per-conversation memory.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bot_versions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_sha", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("progress_note", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model_path", sa.String(length=500), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=True),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_versions")),
    )
    op.create_table(
        "bot_activations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("version_id", _ID, nullable=False),
        sa.Column("previous_version_id", _ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["bot_versions.id"],
                                name=op.f("fk_bot_activations_version_id_bot_versions")),
        sa.ForeignKeyConstraint(["previous_version_id"], ["bot_versions.id"],
                                name=op.f("fk_bot_activations_previous_version_id_bot_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_activations")),
    )
    op.create_table(
        "bot_conversations",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("version_id", _ID, nullable=True),
        sa.Column("memory", sa.JSON(), nullable=False),
        sa.Column("last_message_id", _ID, nullable=True),
        sa.Column("handed_off_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_bot_conversations_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["version_id"], ["bot_versions.id"],
                                name=op.f("fk_bot_conversations_version_id_bot_versions")),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_bot_conversations")),
    )
    op.create_index("ix_bot_conversations_updated_at", "bot_conversations", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bot_conversations_updated_at", table_name="bot_conversations")
    op.drop_table("bot_conversations")
    op.drop_table("bot_activations")
    op.drop_table("bot_versions")
