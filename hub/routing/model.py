"""Frozen snapshot types that the routing core reads and the decisions it returns."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CHAT = "chat"
EMAIL = "email"

# Channels that behave like a live conversation share one "chat" capacity.
_CHANNEL_TYPES: Mapping[str, str] = {
    "webchat": CHAT,
    "sms": CHAT,
    "whatsapp": CHAT,
    "telegram": CHAT,
    "email": EMAIL,
}


def channel_type(channel: str) -> str:
    """The capacity bucket a channel counts against ("chat" or "email")."""
    try:
        return _CHANNEL_TYPES[channel]
    except KeyError:
        raise ValueError(f"unknown channel {channel!r}") from None


class Presence(enum.StrEnum):
    """Whether an agent takes new work."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class Priority(enum.StrEnum):
    """How urgent a conversation is; `rank` 0 is served first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 for urgent up to 3 for low."""
        return _PRIORITY_RANK[self]

    def raised(self) -> Priority:
        """One step more urgent (urgent stays urgent)."""
        return _PRIORITY_ORDER[max(0, self.rank - 1)]


_PRIORITY_ORDER: tuple[Priority, ...] = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
_PRIORITY_RANK: Mapping[Priority, int] = {p: i for i, p in enumerate(_PRIORITY_ORDER)}


class Policy(enum.StrEnum):
    """How a queue picks among eligible agents."""

    LEAST_BUSY = "least_busy"
    LONGEST_IDLE = "longest_idle"
    MANUAL = "manual"


class ConversationStatus(enum.StrEnum):
    """Where a conversation is in its life."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Business-time targets for a queue; None means no target."""

    first_response_seconds: int | None = None
    resolution_seconds: int | None = None
    warn_before_seconds: int = 0


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """What an SLA warning or breach does besides being reported."""

    raise_priority_on_warning: bool = False
    raise_priority_on_breach: bool = True


@dataclass(frozen=True, slots=True)
class AgentState:
    """One agent as routing sees them at the snapshot instant."""

    id: int
    presence: Presence
    queue_ids: frozenset[int] = frozenset()
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    capacity: Mapping[str, int] = field(default_factory=dict)
    open_load: Mapping[str, int] = field(default_factory=dict)
    pending_offers: Mapping[str, int] = field(default_factory=dict)
    last_assignment_at: datetime | None = None
    available_since: datetime | None = None
    last_activity_at: datetime | None = None
    missed_offers_in_a_row: int = 0

    def free_slots(self, kind: str) -> int:
        """Slots left for a channel type once open work and pending offers are counted."""
        return self.capacity.get(kind, 0) - self.open_load.get(kind, 0) - self.pending_offers.get(kind, 0)

    @property
    def idle_since(self) -> datetime | None:
        """Since when the agent has had no new work (None: never had any, idlest of all)."""
        return self.last_assignment_at or self.available_since


@dataclass(frozen=True, slots=True)
class WaitingConversation:
    """A queued conversation that may be offered to an agent."""

    id: int
    queue_id: int
    channel: str
    enqueued_at: datetime
    priority: Priority = Priority.NORMAL
    key_account: bool = False
    required_skills: frozenset[str] = frozenset()
    language: str | None = None
    declined_by: frozenset[int] = frozenset()
    pending_offer_to: int | None = None


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """How one queue routes, times out offers, closes idle chats and measures SLAs."""

    id: int
    policy: Policy = Policy.LEAST_BUSY
    required_skills: frozenset[str] = frozenset()
    language: str | None = None
    offer_timeout_seconds: int = 30
    auto_accept: bool = False
    max_missed_offers: int = 3
    sla: SlaTargets | None = None
    escalation: EscalationRule = EscalationRule()
    calendar_id: str | None = None
    out_of_hours_message: str | None = None
    requeue_on_agent_offline: frozenset[str] = frozenset({CHAT})
    close_inactive_after_seconds: int | None = None
    abandon_after_seconds: int | None = None

    @property
    def offer_timeout(self) -> timedelta:
        """How long an offer rings before it counts as missed."""
        return timedelta(seconds=self.offer_timeout_seconds)


@dataclass(frozen=True, slots=True)
class Offer:
    """A pending (or just expired) offer of one conversation to one agent."""

    conversation_id: int
    agent_id: int
    queue_id: int
    channel_type: str
    offered_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OfferDecision:
    """Offer (or, with auto-accept, assign) a conversation to an agent."""

    conversation_id: int
    agent_id: int
    queue_id: int
    channel_type: str
    offered_at: datetime
    expires_at: datetime | None
    auto_accept: bool = False

    def as_offer(self) -> Offer | None:
        """The pending offer this decision creates, or None when it assigns at once."""
        if self.auto_accept or self.expires_at is None:
            return None
        return Offer(
            self.conversation_id, self.agent_id, self.queue_id, self.channel_type, self.offered_at, self.expires_at
        )


@dataclass(frozen=True, slots=True)
class OpenConversation:
    """A queued or assigned conversation, with what lifecycle rules need to know."""

    id: int
    queue_id: int
    channel: str
    status: ConversationStatus
    enqueued_at: datetime | None
    agent_id: int | None = None
    assigned_at: datetime | None = None
    first_agent_response_at: datetime | None = None
    last_customer_activity_at: datetime | None = None
    last_agent_message_at: datetime | None = None
    declined_by: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class ConversationTimes:
    """The timestamps a conversation collects, as stored; metrics and SLAs read only these."""

    id: int
    queue_id: int | None
    channel: str
    status: ConversationStatus
    created_at: datetime
    agent_id: int | None = None
    enqueued_at: datetime | None = None
    offered_at: datetime | None = None
    assigned_at: datetime | None = None
    first_agent_response_at: datetime | None = None
    resolved_at: datetime | None = None
    abandoned_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Requeue:
    """Put a conversation back in a queue, unassigned; `exclude_agent_ids` become its declined set."""

    conversation_id: int
    queue_id: int
    from_agent_id: int | None
    enqueued_at: datetime
    reason: str
    exclude_agent_ids: frozenset[int] = frozenset()
