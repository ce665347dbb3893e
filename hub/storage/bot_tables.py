"""Tables for the bot (see hub/storage/tables.py for the shared Base)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
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
    # held-out per-intent scores and confusions, written when training ends (migration 0008)
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
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


class BotDraft(Base):
    """The designer's working copy of the content (one row, id 1); `revision` guards concurrent saves."""

    __tablename__ = "bot_drafts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    base_version_id: Mapped[int | None] = mapped_column(ForeignKey("bot_versions.id"))
    revision: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(64))


class BotReviewItem(Base):
    """A customer message the bot was unsure about, handed off on, or that did not help; one per message."""

    __tablename__ = "bot_review_items"
    __table_args__ = (
        Index("ix_bot_review_items_status_id", "status", "id"),
        Index("ix_bot_review_items_status_text_key", "status", "text_key"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(32))  # unsure, kb_fallback, handed_off, did_not_help
    intent: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None] = mapped_column(Float)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("bot_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending, assigned, dismissed
    resolution: Mapped[str | None] = mapped_column(String(16))  # intent, article, out_of_scope
    target: Mapped[str | None] = mapped_column(String(200))  # intent name or article id
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The same question however it was typed (bots.review_store.review_key): the inbox groups by it.
    text_key: Mapped[str | None] = mapped_column(String(16))
