"""Agent console: an index to find the snoozed conversations whose time has come.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversations_snoozed_until", "conversations", ["snoozed_until"])


def downgrade() -> None:
    op.drop_index("ix_conversations_snoozed_until", table_name="conversations")
