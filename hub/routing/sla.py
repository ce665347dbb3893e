"""SLA clocks in business time: due times, ok/warning/breached, and the events and escalations they cause."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hub.routing.calendar import BusinessCalendar
from hub.routing.model import ConversationTimes, EscalationRule, Priority, SlaTargets

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
WARNING = "warning"
BREACH = "breach"

_ALWAYS_OPEN = BusinessCalendar.always_open()


class SlaState(enum.StrEnum):
    """Where one SLA clock stands."""

    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"


_SEVERITY = {SlaState.OK: 0, SlaState.WARNING: 1, SlaState.BREACHED: 2}


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """One clock (first response or resolution): when it started, warns, is due, and whether it stopped."""

    target: str
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    state: SlaState
    remaining_business_seconds: float | None

    @property
    def running(self) -> bool:
        """Whether the clock is still ticking."""
        return self.stopped_at is None


@dataclass(frozen=True, slots=True)
class SlaStatus:
    """All clocks of one conversation, the worst state, and when the state can next change."""

    conversation_id: int
    targets: tuple[TargetStatus, ...]
    state: SlaState
    next_check_at: datetime | None


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """A warning or breach to publish once."""

    conversation_id: int
    target: str
    kind: str
    due_at: datetime
    at: datetime


@dataclass(frozen=True, slots=True)
class PriorityChange:
    """Escalate a conversation's priority because of an SLA event."""

    conversation_id: int
    old: Priority
    new: Priority
    reason: str


@dataclass(frozen=True, slots=True)
class SlaActions:
    """New events to publish and the priority change, if any, to persist with them."""

    events: tuple[SlaEvent, ...]
    priority_change: PriorityChange | None


def sla_status(
    times: ConversationTimes,
    targets: SlaTargets,
    calendar: BusinessCalendar | None,
    now: datetime,
    warn_before_seconds: int | None = None,
) -> SlaStatus:
    """Clocks start when the conversation enters a queue and count only business hours (24/7 without a calendar)."""
    cal = calendar or _ALWAYS_OPEN
    warn_before = targets.warn_before_seconds if warn_before_seconds is None else warn_before_seconds
    clocks: list[TargetStatus] = []
    if times.enqueued_at is not None:
        start = times.enqueued_at
        # A customer who left stops both clocks: there is no one left to answer.
        first_stop = _earliest(times.first_agent_response_at, times.abandoned_at, times.resolved_at)
        resolve_stop = _earliest(times.resolved_at, times.abandoned_at)
        if targets.first_response_seconds is not None:
            clocks.append(
                _clock(FIRST_RESPONSE, start, targets.first_response_seconds, first_stop, cal, now, warn_before)
            )
        if targets.resolution_seconds is not None:
            clocks.append(_clock(RESOLUTION, start, targets.resolution_seconds, resolve_stop, cal, now, warn_before))
    state = max((c.state for c in clocks), key=_SEVERITY.__getitem__, default=SlaState.OK)
    upcoming = [t for c in clocks if c.running for t in (c.warn_at, c.due_at) if t > now]
    return SlaStatus(times.id, tuple(clocks), state, min(upcoming, default=None))


def plan_sla_actions(
    status: SlaStatus,
    already_emitted: frozenset[tuple[str, str]],
    priority: Priority,
    rule: EscalationRule,
    now: datetime,
) -> SlaActions:
    """Events not emitted yet (by (target, kind)); a priority step up when a running clock newly escalates."""
    events: list[SlaEvent] = []
    escalate = False
    for clock in status.targets:
        kind = {SlaState.WARNING: WARNING, SlaState.BREACHED: BREACH}.get(clock.state)
        if kind is None or (clock.target, kind) in already_emitted:
            continue
        events.append(SlaEvent(status.conversation_id, clock.target, kind, clock.due_at, now))
        if clock.running and (
            (kind == BREACH and rule.raise_priority_on_breach) or (kind == WARNING and rule.raise_priority_on_warning)
        ):
            escalate = True
    change = None
    if escalate and priority.raised() != priority:
        change = PriorityChange(status.conversation_id, priority, priority.raised(), reason="sla")
    return SlaActions(tuple(events), change)


def _clock(
    target: str,
    start: datetime,
    seconds: int,
    stopped_at: datetime | None,
    cal: BusinessCalendar,
    now: datetime,
    warn_before: int,
) -> TargetStatus:
    """Evaluate one clock: breached once due passes unanswered, or when it stopped after the due time."""
    due = cal.add_business_seconds(start, seconds)
    warn_at = cal.add_business_seconds(start, max(0, seconds - warn_before))
    if stopped_at is not None:
        state = SlaState.BREACHED if stopped_at > due else SlaState.OK
        remaining = None
    elif now >= due:
        state, remaining = SlaState.BREACHED, 0.0
    else:
        state = SlaState.WARNING if now >= warn_at else SlaState.OK
        remaining = cal.business_seconds_between(now, due)
    return TargetStatus(target, start, warn_at, due, stopped_at, state, remaining)


def _earliest(*moments: datetime | None) -> datetime | None:
    """The first of the given instants that is set."""
    return min((m for m in moments if m is not None), default=None)
