"""Tables for the bot (see hub/storage/tables.py for the shared Base)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.storage.tables import Base, Id, UTCDateTime


class BotVersion(Base):
    """One version of the bot: its content, engine settings, trained model file and evaluation."""

    __tablename__ = "bot_versions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(32))  # starter, kefu-json, rasa, cli
    engine: Mapped[str] = mapped_column(String(16))  # embedded or rasa
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_sha: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # new, training, ready, failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    progress_note: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    model_path: Mapped[str | None] = mapped_column(String(500))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BotActivation(Base):
    """The activation history: the newest row names the active version; rollback walks back."""

    __tablename__ = "bot_activations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("bot_versions.id"))
    previous_version_id: Mapped[int | None] = mapped_column(ForeignKey("bot_versions.id"))
    kind: Mapped[str] = mapped_column(String(16))  # activate or rollback
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BotConversation(Base):
    """What the bot remembers of one conversation between turns (offered buttons, unsure streak)."""

    __tablename__ = "bot_conversations"
    __table_args__ = (Index("ix_bot_conversations_updated_at", "updated_at"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("bot_versions.id"))
    memory: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_message_id: Mapped[int | None] = mapped_column(Id)
    handed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
