"""SQLAlchemy tables: the one place the schema is described (migrations mirror it)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without zone info (SQLite has none) and always hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    """One person or company, whatever channel they use."""

    __tablename__ = "customers"
    # Routing serves key accounts first: it looks them up by tier.
    __table_args__ = (Index("ix_customers_tier", "tier"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    company: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    lifecycle_stage: Mapped[str] = mapped_column(String(32), default="customer")
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Identity(Base):
    """An address on a channel (phone, email, chat id, web visitor) that belongs to one customer."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Agent(Base):
    """A person who works in the console."""

    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32), default="agent")
    presence: Mapped[str] = mapped_column(String(32), default="offline")
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Routing state (hub/routing): idle clocks for longest-idle, and the missed-offer streak.
    last_assignment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    available_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_offers_in_a_row: Mapped[int] = mapped_column(Integer, default=0)


class Calendar(Base):
    """Business hours in one time zone: weekly ranges, holidays and dated special hours (hub/routing/calendar.py)."""

    __tablename__ = "calendars"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Dated exceptions to the weekly hours: {"2026-02-14": ["09:00-18:00"], "2026-02-24": []} (migration 0011).
    special_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Queue(Base):
    """Where waiting conversations line up (by team, language, product...)."""

    __tablename__ = "queues"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    policy: Mapped[str] = mapped_column(String(32), default="least_busy")
    offer_timeout_s: Mapped[int] = mapped_column(Integer, default=30)
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_missed_offers: Mapped[int] = mapped_column(Integer, default=3)
    sla_first_response_s: Mapped[int | None] = mapped_column(Integer)
    sla_resolution_s: Mapped[int | None] = mapped_column(Integer)
    sla_warn_before_s: Mapped[int] = mapped_column(Integer, default=0)
    escalate_on_warning: Mapped[bool] = mapped_column(Boolean, default=False)
    escalate_on_breach: Mapped[bool] = mapped_column(Boolean, default=True)
    calendar_id: Mapped[str | None] = mapped_column(ForeignKey("calendars.id"))
    out_of_hours_message: Mapped[str | None] = mapped_column(Text)
    requeue_on_agent_offline: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["chat"])
    close_inactive_after_s: Mapped[int | None] = mapped_column(Integer)
    abandon_after_s: Mapped[int | None] = mapped_column(Integer)


class AgentQueue(Base):
    """Which queues an agent takes work from."""

    __tablename__ = "agent_queues"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)


class Conversation(Base):
    """One thread with a customer on one channel, from first message to resolution."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_inbox", "status", "queue_id", "priority", "enqueued_at"),
        Index("ix_conversations_assignee_status", "assignee_id", "status"),
        Index("ix_conversations_customer_channel", "customer_id", "channel"),
        Index("ix_conversations_created_at", "created_at"),
        # Metrics count events by when they happened; the SLA timer looks up what is due.
        Index("ix_conversations_first_agent_response_at", "first_agent_response_at"),
        Index("ix_conversations_abandoned_at", "abandoned_at"),
        Index("ix_conversations_resolved_at", "resolved_at"),
        Index("ix_conversations_sla_next_check_at", "sla_next_check_at"),
        # Routing reads the head of the line per priority: status, priority, then first in first out.
        Index("ix_conversations_waiting_order", "status", "priority", "enqueued_at", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    channel: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    subject: Mapped[str | None] = mapped_column(String(500))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    handoff_reason: Mapped[str | None] = mapped_column(Text)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    unread_count: Mapped[int] = mapped_column(Integer, default=0)
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_agent_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    abandoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    csat_score: Mapped[int | None] = mapped_column(Integer)
    csat_comment: Mapped[str | None] = mapped_column(Text)
    # Routing (hub/routing): what an agent needs, who declined (agent id -> epoch seconds), liveness,
    # SLA state and when it next changes, the out-of-hours notice and why routing closed it.
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    declined_by: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    customer_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_agent_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_state: Mapped[str | None] = mapped_column(String(16))
    sla_next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    out_of_hours_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(32))


class Message(Base):
    """One message in a conversation; outbound rows double as the outbox."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index("uq_messages_channel_external_id", "channel", "external_id", unique=True),
        Index("ix_messages_outbox", "delivery_status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    seq: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    buttons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_status: Mapped[str] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerEvent(Base):
    """Append-only log on the customer record: every exchange and every state change."""

    __tablename__ = "customer_events"
    __table_args__ = (Index("ix_customer_events_customer_at", "customer_id", "at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    kind: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentSession(Base):
    """A logged-in browser: the cookie carries the token, the row keeps only its hash."""

    __tablename__ = "agent_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Offer(Base):
    """A conversation ringing at one agent until accepted, declined or expired; one per conversation."""

    __tablename__ = "routing_offers"
    __table_args__ = (
        UniqueConstraint("conversation_id"),
        Index("ix_routing_offers_agent_id", "agent_id"),
        Index("ix_routing_offers_expires_at", "expires_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    channel_type: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # queue or transfer
    from_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    note: Mapped[str | None] = mapped_column(Text)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PresenceInterval(Base):
    """An agent was available or away from `started_at` until `ended_at` (null: still is); offline is a gap."""

    __tablename__ = "agent_presence_intervals"
    __table_args__ = (
        Index("ix_agent_presence_intervals_agent_started", "agent_id", "started_at"),
        Index("ix_agent_presence_intervals_started_at", "started_at"),
        Index("ix_agent_presence_intervals_ended_at", "ended_at"),
        # One open interval per agent, even with several hub processes noticing the same change.
        Index(
            "uq_agent_presence_intervals_open",
            "agent_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    presence: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssignmentInterval(Base):
    """An agent held a conversation from assignment until resolve, transfer or requeue (null: still does)."""

    __tablename__ = "assignment_intervals"
    __table_args__ = (
        Index("ix_assignment_intervals_agent_started", "agent_id", "started_at"),
        Index("ix_assignment_intervals_started_at", "started_at"),
        Index("ix_assignment_intervals_ended_at", "ended_at"),
        Index(
            "uq_assignment_intervals_open",
            "conversation_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class SlaEvent(Base):
    """A warning or breach published for one SLA clock of a conversation; at most one per (target, kind)."""

    __tablename__ = "sla_events"
    __table_args__ = (UniqueConstraint("conversation_id", "target", "kind"), Index("ix_sla_events_at", "at"))
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    target: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class QueueHourStats(Base):
    """Settled queue figures for one hour or one whole UTC day (span_h 1 or 24), so long ranges sum few rows."""

    __tablename__ = "queue_hour_stats"
    # Key order (span, hour, id): reports read a time range of one span.
    span_h: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    queue_id: Mapped[int] = mapped_column(Id, primary_key=True)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    answered_within: Mapped[int] = mapped_column(Integer, default=0)
    answer_wait_s: Mapped[float] = mapped_column(Float, default=0.0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handle_s: Mapped[float] = mapped_column(Float, default=0.0)


class AgentHourStats(Base):
    """Settled agent figures for one hour or day: conversations resolved, available, handling while available."""

    __tablename__ = "agent_hour_stats"
    span_h: Mapped[int] = mapped_column(Integer, primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Id, primary_key=True)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handle_s: Mapped[float] = mapped_column(Float, default=0.0)
    available_s: Mapped[float] = mapped_column(Float, default=0.0)
    handling_s: Mapped[float] = mapped_column(Float, default=0.0)


class MetricRollup(Base):
    """How far the hourly stats are settled, and with which thresholds they were counted."""

    __tablename__ = "metric_rollups"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    settled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    threshold_s: Mapped[float] = mapped_column(Float)
    short_abandon_s: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
