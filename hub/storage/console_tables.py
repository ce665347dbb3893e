"""Tables for the agent console: canned responses shared by the team."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.tables import Base, Conversation, Id, UTCDateTime


class CannedResponse(Base):
    """A saved reply an agent inserts by its shortcut; {{customer.name}}-style placeholders fill in."""

    __tablename__ = "canned_responses"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


_conversations = Conversation.__table__
# The console's Waiting list: oldest first within a status, read straight off the index (no sort).
Index("ix_conversations_status_enqueued", _conversations.c.status, _conversations.c.enqueued_at, _conversations.c.id)
# Snoozed conversations wake when their time comes (hub/snooze.py reads the earliest off this index).
Index("ix_conversations_snoozed_until", _conversations.c.snoozed_until)
