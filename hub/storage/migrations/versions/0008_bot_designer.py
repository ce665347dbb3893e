"""Bot designer: version evaluations, the working draft, the review inbox.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("bot_versions") as batch:
        batch.add_column(sa.Column("evaluation", sa.JSON(), nullable=True))
    op.create_table(
        "bot_drafts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("base_version_id", _ID, nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["base_version_id"], ["bot_versions.id"],
                                name=op.f("fk_bot_drafts_base_version_id_bot_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_drafts")),
    )
    op.create_table(
        "bot_review_items",
        sa.Column("id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("intent", sa.String(length=200), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("version_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_bot_review_items_message_id_messages")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_bot_review_items_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["version_id"], ["bot_versions.id"],
                                name=op.f("fk_bot_review_items_version_id_bot_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_review_items")),
        sa.UniqueConstraint("message_id", name=op.f("uq_bot_review_items_message_id")),
    )
    op.create_index("ix_bot_review_items_status_id", "bot_review_items", ["status", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bot_review_items_status_id", table_name="bot_review_items")
    op.drop_table("bot_review_items")
    op.drop_table("bot_drafts")
    with op.batch_alter_table("bot_versions") as batch:
        batch.drop_column("evaluation")
