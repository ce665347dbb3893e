"""Tables for complaints: one score per inbound message, complaint cases, and agents' corrections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.tables import Base, Id, UTCDateTime


class ComplaintCase(Base):
    """One complaint being handled: opened by a complaint message, later complaint messages attach to it."""

    __tablename__ = "complaint_cases"
    __table_args__ = (
        # One case in hand per conversation, even with several hub processes scoring at once.
        Index(
            "uq_complaint_cases_in_hand",
            "conversation_id",
            unique=True,
            sqlite_where=text("status IN ('open', 'in_progress')"),
            postgresql_where=text("status IN ('open', 'in_progress')"),
        ),
        Index("ix_complaint_cases_customer_opened", "customer_id", "opened_at"),
        Index("ix_complaint_cases_opened_at", "opened_at"),
        Index("ix_complaint_cases_status", "status"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open, in_progress, resolved, dismissed
    category: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(8))
    threatened_to_leave: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    first_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    message_count: Mapped[int] = mapped_column(Integer, default=1)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # Telling the customer the outcome: pending -> sent / failed, or skipped when the agent says not to.
    outcome_state: Mapped[str | None] = mapped_column(String(16))
    outcome_message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))


class ComplaintMessageScore(Base):
    """The detector's verdict on one inbound message, and the label in force after any correction."""

    __tablename__ = "complaint_scores"
    __table_args__ = (
        Index("ix_complaint_scores_conversation_id", "conversation_id"),
        Index("ix_complaint_scores_customer_id", "customer_id"),
        Index("ix_complaint_scores_case_id", "case_id"),
    )
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(32))
    probability: Mapped[float] = mapped_column(Float)
    detected: Mapped[bool] = mapped_column(Boolean)
    is_complaint: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(8))
    cues: Mapped[list[str]] = mapped_column(JSON, default=list)
    model_version: Mapped[int] = mapped_column(Integer, default=0)
    correction_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_corrections.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("complaint_cases.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintCorrection(Base):
    """An agent's or designer's verdict on a message (or on example text); the detector retrains on these."""

    __tablename__ = "complaint_corrections"
    __table_args__ = (Index("ix_complaint_corrections_message_id", "message_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    text: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(32), default="")
    is_complaint: Mapped[bool] = mapped_column(Boolean)
    category: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str | None] = mapped_column(String(8))
    previous: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
