"""Bot designer: review items carry a key of their normalised text, so the same question is one group.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")


def _key(text: str) -> str:
    # Frozen here as it was when this migration was written; the live one is bots.review_store.review_key.
    folded = unicodedata.normalize("NFKC", text).casefold()
    normal = _EDGE_PUNCT.sub("", _SPACE.sub(" ", folded).strip())
    return hashlib.sha1(normal.encode("utf-8")).hexdigest()[:16]


def upgrade() -> None:
    op.add_column("bot_review_items", sa.Column("text_key", sa.String(16), nullable=True))
    op.create_index("ix_bot_review_items_status_text_key", "bot_review_items", ["status", "text_key"])
    conn = op.get_bind()
    items = sa.table("bot_review_items", sa.column("id", sa.Integer), sa.column("text", sa.Text),
                     sa.column("text_key", sa.String))
    rows = conn.execute(sa.select(items.c.id, items.c.text)).all()
    for row in rows:
        conn.execute(sa.update(items).where(items.c.id == row.id).values(text_key=_key(row.text or "")))


def downgrade() -> None:
    op.drop_index("ix_bot_review_items_status_text_key", table_name="bot_review_items")
    op.drop_column("bot_review_items", "text_key")
