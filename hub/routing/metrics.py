"""Contact-center metric formulas over plain records (docs/metrics.md gives the same formulas in SQL)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.routing.model import ConversationStatus, ConversationTimes, Presence
from hub.routing.outcome import Outcome, classify, queue_wait_seconds


@dataclass(frozen=True, slots=True)
class ServiceLevelConfig:
    """Service-level threshold and the short-abandon cut-off, in seconds (Flex Insights defaults: 60 and 5)."""

    threshold_seconds: float = 60.0
    short_abandon_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class PresenceInterval:
    """An agent was in one presence from `start` until `end` (None: still is)."""

    agent_id: int
    presence: Presence
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class HandlingInterval:
    """An agent held a conversation (assigned, not yet resolved or moved) from `start` until `end`."""

    agent_id: int
    conversation_id: int
    start: datetime
    end: datetime | None


@dataclass(frozen=True, slots=True)
class QueueMetrics:
    """One queue over [start, end), plus the live figures at `now`."""

    queue_id: int | None
    waiting_now: int
    longest_wait_seconds: float | None
    answered: int
    answered_within_threshold: int
    abandoned: int
    short_abandoned: int
    service_level: float | None
    average_speed_of_answer_seconds: float | None
    handled: int
    average_handle_time_seconds: float | None
    abandonment_rate: float | None


@dataclass(frozen=True, slots=True)
class AgentMetrics:
    """One agent over [start, end)."""

    agent_id: int
    handled: int
    average_handle_time_seconds: float | None
    available_seconds: float
    handling_seconds: float
    occupancy: float | None


_Span = tuple[datetime, datetime]


def waiting_now(records: Iterable[ConversationTimes]) -> int:
    """Conversations in the queued state right now."""
    return sum(1 for r in records if r.status == ConversationStatus.QUEUED)


def longest_wait_seconds(records: Iterable[ConversationTimes], now: datetime) -> float | None:
    """max(now - enqueued_at) over queued conversations; None when none wait."""
    waits = [
        (now - r.enqueued_at).total_seconds()
        for r in records
        if r.status == ConversationStatus.QUEUED and r.enqueued_at is not None
    ]
    return max(waits, default=None)


def answered_in(records: Iterable[ConversationTimes], start: datetime, end: datetime) -> list[ConversationTimes]:
    """Conversations whose first agent response falls in [start, end)."""
    return [
        r
        for r in records
        if r.first_agent_response_at is not None
        and start <= r.first_agent_response_at < end
        and classify(r) == Outcome.ANSWERED
    ]


def abandoned_in(
    records: Iterable[ConversationTimes], start: datetime, end: datetime, short_abandon_seconds: float
) -> tuple[list[ConversationTimes], list[ConversationTimes]]:
    """(abandoned, short-abandoned) conversations whose abandon time falls in [start, end)."""
    long_: list[ConversationTimes] = []
    short: list[ConversationTimes] = []
    for r in records:
        if r.abandoned_at is None or not start <= r.abandoned_at < end:
            continue
        outcome = classify(r, short_abandon_seconds)
        if outcome == Outcome.ABANDONED:
            long_.append(r)
        elif outcome == Outcome.SHORT_ABANDON:
            short.append(r)
    return long_, short


def service_level(
    records: Sequence[ConversationTimes], start: datetime, end: datetime, config: ServiceLevelConfig
) -> float | None:
    """answered within threshold / (answered + abandoned), short abandons left out of both; None if 0/0."""
    answered = answered_in(records, start, end)
    abandoned, _short = abandoned_in(records, start, end, config.short_abandon_seconds)
    within = sum(1 for r in answered if _wait(r) <= config.threshold_seconds)
    return _ratio(within, len(answered) + len(abandoned))


def average_speed_of_answer(records: Sequence[ConversationTimes], start: datetime, end: datetime) -> float | None:
    """mean(first_agent_response_at - enqueued_at) over conversations answered in the range."""
    waits = [_wait(r) for r in answered_in(records, start, end)]
    return _mean(waits)


def average_handle_time(records: Iterable[ConversationTimes], start: datetime, end: datetime) -> float | None:
    """mean(resolved_at - assigned_at) over conversations resolved in the range that an agent held."""
    return _mean([_handle(r) for r in handled_in(records, start, end)])


def handled_in(records: Iterable[ConversationTimes], start: datetime, end: datetime) -> list[ConversationTimes]:
    """Conversations resolved in [start, end) after an agent was assigned."""
    return [
        r for r in records if r.resolved_at is not None and r.assigned_at is not None and start <= r.resolved_at < end
    ]


def abandonment_rate(
    records: Sequence[ConversationTimes], start: datetime, end: datetime, config: ServiceLevelConfig
) -> float | None:
    """abandoned / (answered + abandoned), short abandons left out of both; None if 0/0."""
    answered = answered_in(records, start, end)
    abandoned, _short = abandoned_in(records, start, end, config.short_abandon_seconds)
    return _ratio(len(abandoned), len(answered) + len(abandoned))


def occupancy(
    presence: Iterable[PresenceInterval],
    handling: Iterable[HandlingInterval],
    start: datetime,
    end: datetime,
) -> float | None:
    """|handling ∩ available| / |available| within [start, end) for one agent's intervals; None if never available."""
    available, busy = _occupancy_parts(presence, handling, start, end)
    return _ratio(busy, available)


def queue_report(
    records: Sequence[ConversationTimes],
    start: datetime,
    end: datetime,
    now: datetime,
    config: ServiceLevelConfig,
) -> dict[int | None, QueueMetrics]:
    """Every metric per queue (keyed by the conversation's current queue)."""
    by_queue: defaultdict[int | None, list[ConversationTimes]] = defaultdict(list)
    for r in records:
        by_queue[r.queue_id].append(r)
    report = {}
    for queue_id, rows in by_queue.items():
        answered = answered_in(rows, start, end)
        abandoned, short = abandoned_in(rows, start, end, config.short_abandon_seconds)
        waits = [_wait(r) for r in answered]
        handled = handled_in(rows, start, end)
        offered = len(answered) + len(abandoned)
        report[queue_id] = QueueMetrics(
            queue_id=queue_id,
            waiting_now=waiting_now(rows),
            longest_wait_seconds=longest_wait_seconds(rows, now),
            answered=len(answered),
            answered_within_threshold=sum(1 for w in waits if w <= config.threshold_seconds),
            abandoned=len(abandoned),
            short_abandoned=len(short),
            service_level=_ratio(sum(1 for w in waits if w <= config.threshold_seconds), offered),
            average_speed_of_answer_seconds=_mean(waits),
            handled=len(handled),
            average_handle_time_seconds=_mean([_handle(r) for r in handled]),
            abandonment_rate=_ratio(len(abandoned), offered),
        )
    return report


def agent_report(
    records: Iterable[ConversationTimes],
    presence: Iterable[PresenceInterval],
    handling: Iterable[HandlingInterval],
    start: datetime,
    end: datetime,
) -> dict[int, AgentMetrics]:
    """Handled count, handle time and occupancy per agent; open intervals run to `end`, so pass end <= now."""
    handled_by: defaultdict[int, list[float]] = defaultdict(list)
    for r in handled_in(records, start, end):
        if r.agent_id is not None:
            handled_by[r.agent_id].append(_handle(r))
    presence_by: defaultdict[int, list[PresenceInterval]] = defaultdict(list)
    for p in presence:
        presence_by[p.agent_id].append(p)
    handling_by: defaultdict[int, list[HandlingInterval]] = defaultdict(list)
    for h in handling:
        handling_by[h.agent_id].append(h)
    report = {}
    for agent_id in sorted(set(handled_by) | set(presence_by) | set(handling_by)):
        available, busy = _occupancy_parts(presence_by[agent_id], handling_by[agent_id], start, end)
        times = handled_by[agent_id]
        report[agent_id] = AgentMetrics(
            agent_id=agent_id,
            handled=len(times),
            average_handle_time_seconds=_mean(times),
            available_seconds=available,
            handling_seconds=busy,
            occupancy=_ratio(busy, available),
        )
    return report


def occupancy_parts(
    presence: Iterable[PresenceInterval],
    handling: Iterable[HandlingInterval],
    start: datetime,
    end: datetime,
) -> tuple[float, float]:
    """(available seconds, seconds handling while available) inside [start, end) for one agent's intervals.

    Both parts add up over adjacent ranges, so hourly figures can be stored and summed later.
    """
    return _occupancy_parts(presence, handling, start, end)


def _occupancy_parts(
    presence: Iterable[PresenceInterval],
    handling: Iterable[HandlingInterval],
    start: datetime,
    end: datetime,
) -> tuple[float, float]:
    """(available seconds, seconds handling while available) inside [start, end)."""
    available = _union(_clip(p.start, p.end, start, end) for p in presence if p.presence == Presence.AVAILABLE)
    busy = _union(_clip(h.start, h.end, start, end) for h in handling)
    return _length(available), _length(_intersect(available, busy))


def _clip(a: datetime, b: datetime | None, start: datetime, end: datetime) -> _Span | None:
    """The part of [a, b) inside [start, end); an open end runs to `end`."""
    lo, hi = max(a, start), min(b or end, end)
    return (lo, hi) if hi > lo else None


def _union(spans: Iterable[_Span | None]) -> list[_Span]:
    """Sorted, merged spans: concurrent chats count once."""
    merged: list[_Span] = []
    for lo, hi in sorted(s for s in spans if s is not None):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _intersect(a: list[_Span], b: list[_Span]) -> list[_Span]:
    """Intersection of two merged span lists."""
    out: list[_Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _length(spans: Iterable[_Span]) -> float:
    """Total seconds covered by disjoint spans."""
    return sum((hi - lo).total_seconds() for lo, hi in spans)


def _wait(r: ConversationTimes) -> float:
    """Queue wait of a conversation known to be answered or abandoned."""
    wait = queue_wait_seconds(r)
    assert wait is not None
    return wait


def _handle(r: ConversationTimes) -> float:
    """Handle time of a conversation known to be resolved after assignment."""
    assert r.resolved_at is not None and r.assigned_at is not None
    return (r.resolved_at - r.assigned_at).total_seconds()


def _mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return sum(values) / len(values) if values else None


def _ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when the denominator is zero."""
    return numerator / denominator if denominator else None
