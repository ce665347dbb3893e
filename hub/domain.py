"""Pure domain vocabulary: statuses, roles, and the conversation state machine."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any


class ConversationStatus(str, enum.Enum):
    """Where a conversation is: with the bot, waiting, with an agent, or done."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Priority(str, enum.Enum):
    """How soon a conversation should be answered."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Direction(str, enum.Enum):
    """Inbound from the customer, outbound to them, or an internal note agents only see."""

    IN = "in"
    OUT = "out"
    NOTE = "note"


class Author(str, enum.Enum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Role(str, enum.Enum):
    """What an agent account may do; admin may do everything."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DESIGNER = "designer"
    ADMIN = "admin"


class Presence(str, enum.Enum):
    """Whether an agent can take work now."""

    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class DomainError(Exception):
    """A request that the domain refuses; carries an HTTP-ish status and a stable code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, message: str, *, code: str | None = None, status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        # Extra fields of the JSON error body, for a client that acts on them (e.g. which items conflict).
        self.details = details or {}
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class NotFound(DomainError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request does not fit the current state (taken by someone else, already resolved...)."""

    status = 409
    code = "conflict"


class Forbidden(DomainError):
    """The caller may not do this."""

    status = 403
    code = "forbidden"


_S = ConversationStatus
_TRANSITIONS: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    _S.BOT: frozenset({_S.QUEUED, _S.ASSIGNED, _S.RESOLVED}),
    _S.QUEUED: frozenset({_S.ASSIGNED, _S.RESOLVED}),
    _S.ASSIGNED: frozenset({_S.QUEUED, _S.ASSIGNED, _S.RESOLVED}),
    _S.RESOLVED: frozenset({_S.QUEUED, _S.ASSIGNED, _S.BOT}),
}


def check_transition(current: ConversationStatus, target: ConversationStatus) -> None:
    """Raise Conflict unless a conversation may move from `current` to `target`."""
    if target not in _TRANSITIONS[current]:
        raise Conflict(
            f"a {current.value} conversation cannot become {target.value}", code="invalid_transition"
        )


def initial_status(bot_enabled: bool) -> ConversationStatus:
    """A new conversation starts with the bot when one is on, else straight in the queue."""
    return ConversationStatus.BOT if bot_enabled else ConversationStatus.QUEUED


def should_reopen(resolved_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """A customer writing soon after a resolution reopens it; later, a new conversation starts."""
    return resolved_at is not None and now - resolved_at <= window


ROLE_RANK: dict[Role, int] = {Role.AGENT: 1, Role.DESIGNER: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


def role_allows(role: Role, allowed: frozenset[Role]) -> bool:
    """Admins may do anything; others only what the route lists."""
    return role is Role.ADMIN or role in allowed
