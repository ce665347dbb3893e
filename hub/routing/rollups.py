"""Metric sums per hour: the SQL that counts events in a time range, and the rollup of settled hours.

A report over [start, end) adds stored hours for the whole hours inside it and counts the ragged edges
from the raw rows, so a month costs about as much as a day. An hour is settled once it lies
`SETTLE` behind now: abandonments are stamped with the time the customer was last seen, minutes in
the past, and nothing else writes an event time earlier than now. Settled hours are frozen: a later
transfer or reopen does not rewrite them (docs/metrics.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from hub.routing.metrics import HandlingInterval, PresenceInterval, occupancy_parts
from hub.routing.model import Presence
from hub.routing.store import assignment_intervals, conversations, presence_intervals
from hub.storage.tables import AgentHourStats, MetricRollup, QueueHourStats

queue_hours = cast(Table, QueueHourStats.__table__)
agent_hours = cast(Table, AgentHourStats.__table__)
rollup_state = cast(Table, MetricRollup.__table__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
SETTLE = timedelta(hours=1)
MAX_CHUNK = timedelta(hours=24)
ROLLUP = "hourly"


def floor_hour(at: datetime) -> datetime:
    """The start of the hour `at` falls in (UTC)."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(at: datetime) -> datetime:
    """The first whole hour at or after `at`."""
    floor = floor_hour(at)
    return floor if floor == at else floor + HOUR


def floor_day(at: datetime) -> datetime:
    """The start of the UTC day `at` falls in."""
    return floor_hour(at).replace(hour=0)


def ceil_day(at: datetime) -> datetime:
    """The first UTC midnight at or after `at`."""
    floor = floor_day(at)
    return floor if floor == at else floor + DAY


# ---------------------------------------------------------------- sums


@dataclass(slots=True)
class QueueSums:
    """Additive queue figures: counts and total seconds."""

    answered: int = 0
    answered_within: int = 0
    answer_wait_s: float = 0.0
    abandoned: int = 0
    short_abandoned: int = 0
    handled: int = 0
    handle_s: float = 0.0

    def add(self, other: QueueSums) -> None:
        """Add another range's sums."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class AgentSums:
    """Additive agent figures."""

    handled: int = 0
    handle_s: float = 0.0
    available_s: float = 0.0
    handling_s: float = 0.0

    def add(self, other: AgentSums) -> None:
        """Add another range's sums."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class Buckets:
    """Sums keyed by (queue or agent id, hour start or None for the whole range)."""

    queues: defaultdict[tuple[int, datetime | None], QueueSums] = field(default_factory=lambda: defaultdict(QueueSums))
    agents: defaultdict[tuple[int, datetime | None], AgentSums] = field(default_factory=lambda: defaultdict(AgentSums))


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds; SQLite rounds to milliseconds so thresholds compare exactly."""
    if dialect == "postgresql":
        # date_part returns double precision; EXTRACT returns numeric, several times slower to sum.
        return cast(ColumnElement[float], func.date_part("epoch", later - earlier))
    return cast(ColumnElement[float], func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3))


def _hour_of(dialect: str, column: Any, by_hour: bool) -> ColumnElement[Any]:
    if not by_hour:
        return literal(None).label("hour")
    if dialect == "postgresql":
        return func.date_trunc("hour", column).label("hour")
    return func.strftime("%Y-%m-%d %H:00:00", column).label("hour")


def _hour_value(raw: Any) -> datetime | None:
    """What the hour column came back as (datetime on PostgreSQL, text on SQLite) as aware UTC."""
    if raw is None:
        return None
    value = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def event_queries(
    dialect: str, start: datetime, end: datetime, threshold_s: float, short_s: float, *, by_hour: bool
) -> dict[str, Select[Any]]:
    """The three event counts of docs/metrics.md for events in [start, end), per queue (and hour), plus per agent."""
    c = conversations.c
    wait = seconds_between(dialect, c.first_agent_response_at, c.enqueued_at)
    left = seconds_between(dialect, c.abandoned_at, c.enqueued_at)
    handle = seconds_between(dialect, c.resolved_at, c.assigned_at)
    answered_hour = _hour_of(dialect, c.first_agent_response_at, by_hour)
    abandoned_hour = _hour_of(dialect, c.abandoned_at, by_hour)
    resolved_hour = _hour_of(dialect, c.resolved_at, by_hour)
    return {
        "answered": select(
            c.queue_id,
            answered_hour,
            func.count(),
            func.sum(case((wait <= threshold_s, 1), else_=0)),
            func.sum(wait),
        )
        .where(
            c.first_agent_response_at >= start,
            c.first_agent_response_at < end,
            c.enqueued_at.is_not(None),
            or_(c.abandoned_at.is_(None), c.first_agent_response_at <= c.abandoned_at),
        )
        .group_by(c.queue_id, answered_hour),
        "abandoned": select(
            c.queue_id,
            abandoned_hour,
            func.sum(case((left >= short_s, 1), else_=0)),
            func.sum(case((left < short_s, 1), else_=0)),
        )
        .where(
            c.abandoned_at >= start,
            c.abandoned_at < end,
            c.enqueued_at.is_not(None),
            or_(c.first_agent_response_at.is_(None), c.first_agent_response_at > c.abandoned_at),
        )
        .group_by(c.queue_id, abandoned_hour),
        "handled": select(c.queue_id, resolved_hour, func.count(), func.sum(handle))
        .where(c.resolved_at >= start, c.resolved_at < end, c.assigned_at.is_not(None))
        .group_by(c.queue_id, resolved_hour),
        "agent_handled": select(c.assignee_id, resolved_hour, func.count(), func.sum(handle))
        .where(c.resolved_at >= start, c.resolved_at < end, c.assigned_at.is_not(None), c.assignee_id.is_not(None))
        .group_by(c.assignee_id, resolved_hour),
    }


def fold_events(results: Mapping[str, Iterable[Any]], into: Buckets) -> None:
    """Add the rows of `event_queries` into buckets."""
    for queue_id, hour, n, within, wait in results["answered"]:
        s = into.queues[(queue_id, _hour_value(hour))]
        s.answered += int(n)
        s.answered_within += int(within or 0)
        s.answer_wait_s += float(wait or 0)
    for queue_id, hour, long_, short in results["abandoned"]:
        s = into.queues[(queue_id, _hour_value(hour))]
        s.abandoned += int(long_ or 0)
        s.short_abandoned += int(short or 0)
    for queue_id, hour, n, total in results["handled"]:
        s = into.queues[(queue_id, _hour_value(hour))]
        s.handled += int(n)
        s.handle_s += float(total or 0)
    for agent_id, hour, n, total in results["agent_handled"]:
        a = into.agents[(agent_id, _hour_value(hour))]
        a.handled += int(n)
        a.handle_s += float(total or 0)


# Far bounds that change no answer but tell SQLite which index narrows the search: without histograms
# it rates a two-sided range far above a one-sided one.
_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def interval_queries(start: datetime, end: datetime, *, recent: bool = True) -> tuple[Select[Any], Select[Any]]:
    """Presence (available) and assignment intervals that overlap [start, end).

    Open intervals and closed ones are read apart (an OR with IS NULL defeats every index); closed ones
    are found from their end when the window is recent and from their start when it is old.
    """
    p, a = presence_intervals.c, assignment_intervals.c

    def overlapping(table: Table, *columns: Any, where: Any = None) -> Select[Any]:
        c = table.c
        if recent:
            closed = (c.ended_at > start, c.ended_at < _FAR_FUTURE, c.started_at < end)
        else:
            closed = (c.started_at > _FAR_PAST, c.started_at < end, c.ended_at > start)
        extra = () if where is None else (where,)
        still_open = select(*columns).where(c.ended_at.is_(None), c.started_at < end, *extra)
        return cast(Select[Any], select(*columns).where(*closed, *extra).union_all(still_open))

    presence = overlapping(
        presence_intervals,
        p.agent_id,
        p.presence,
        p.started_at,
        p.ended_at,
        where=p.presence == Presence.AVAILABLE.value,
    )
    handling = overlapping(assignment_intervals, a.agent_id, a.conversation_id, a.started_at, a.ended_at)
    return presence, handling


def fold_occupancy(
    presence_rows: Iterable[Any],
    handling_rows: Iterable[Any],
    start: datetime,
    end: datetime,
    open_end: datetime,
    into: Buckets,
    *,
    by_hour: bool,
) -> None:
    """Available and handling-while-available seconds per agent (and hour) in [start, end)."""
    presence: defaultdict[int, list[PresenceInterval]] = defaultdict(list)
    handling: defaultdict[int, list[HandlingInterval]] = defaultdict(list)
    for r in presence_rows:
        presence[r.agent_id].append(
            PresenceInterval(r.agent_id, Presence(r.presence), r.started_at, r.ended_at or open_end)
        )
    for r in handling_rows:
        handling[r.agent_id].append(
            HandlingInterval(r.agent_id, r.conversation_id, r.started_at, r.ended_at or open_end)
        )
    windows = _hours(start, end) if by_hour else [(start, end)]
    for agent_id in set(presence) | set(handling):
        mine_p, mine_h = presence[agent_id], handling[agent_id]
        for a, b in windows:
            # Only the pieces touching this window: intervals are few per agent-hour.
            p = [x for x in mine_p if x.start < b and (x.end is None or x.end > a)]
            if not p:
                continue
            h = [x for x in mine_h if x.start < b and (x.end is None or x.end > a)]
            available, busy = occupancy_parts(p, h, a, b)
            if available or busy:
                s = into.agents[(agent_id, a if by_hour else None)]
                s.available_s += available
                s.handling_s += busy


def _hours(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    out = []
    at = start
    while at < end:
        out.append((at, min(at + HOUR, end)))
        at += HOUR
    return out


# ---------------------------------------------------------------- the rollup


@dataclass(frozen=True, slots=True)
class RollupState:
    """How far hours are settled and under which thresholds."""

    settled_until: datetime | None
    threshold_s: float
    short_abandon_s: float


def read_state(conn: Connection) -> RollupState | None:
    """The rollup's watermark, if any."""
    row = conn.execute(select(rollup_state).where(rollup_state.c.name == ROLLUP)).first()
    if row is None:
        return None
    return RollupState(row.settled_until, row.threshold_s, row.short_abandon_s)


def first_activity(conn: Connection) -> datetime | None:
    """The earliest moment any metric can refer to."""
    found = [
        conn.execute(select(func.min(conversations.c.created_at))).scalar(),
        conn.execute(select(func.min(presence_intervals.c.started_at))).scalar(),
    ]
    times = [t for t in found if t is not None]
    return min(times) if times else None


def compute_hours(conn: Connection, start: datetime, end: datetime, threshold_s: float, short_s: float) -> Buckets:
    """Per-hour sums for [start, end) from the raw rows."""
    buckets = Buckets()
    dialect = conn.dialect.name
    queries = event_queries(dialect, start, end, threshold_s, short_s, by_hour=True)
    fold_events({k: conn.execute(q).all() for k, q in queries.items()}, buckets)
    presence_q, handling_q = interval_queries(start, end)
    fold_occupancy(
        conn.execute(presence_q).all(), conn.execute(handling_q).all(), start, end, end, buckets, by_hour=True
    )
    return buckets


def _insert_ignoring_conflict(conn: Connection, table: Any) -> Any:
    """INSERT that does nothing when the row exists: two hub processes may both start the rollup."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def rollup_tx(conn: Connection, now: datetime, threshold_s: float, short_s: float) -> int:
    """Settle the next hours (at most a day's worth per call); returns how many hours were stored."""
    state = conn.execute(
        select(rollup_state).where(rollup_state.c.name == ROLLUP).with_for_update(skip_locked=True)
    ).first()
    if state is None:
        exists = conn.execute(select(rollup_state.c.name).where(rollup_state.c.name == ROLLUP)).first()
        if exists is not None:
            return 0  # another process holds it
        created = conn.execute(
            _insert_ignoring_conflict(conn, rollup_state),
            {"name": ROLLUP, "settled_until": None, "threshold_s": threshold_s, "short_abandon_s": short_s,
             "updated_at": now},
        )  # fmt: skip
        if created.rowcount != 1:
            return 0  # another process created it a moment ago and holds it
        settled = None
    elif (state.threshold_s, state.short_abandon_s) != (threshold_s, short_s):
        # Counted with other thresholds: start over.
        conn.execute(delete(queue_hours))
        conn.execute(delete(agent_hours))
        settled = None
    else:
        settled = state.settled_until
    target = floor_hour(now - SETTLE)
    if settled is None:
        first = first_activity(conn)
        settled = floor_hour(first) if first is not None else target
    if settled >= target:
        _save_state(conn, settled, threshold_s, short_s, now)
        return 0
    until = min(target, settled + MAX_CHUNK)
    buckets = compute_hours(conn, settled, until, threshold_s, short_s)
    for table in (queue_hours, agent_hours):
        conn.execute(delete(table).where(table.c.span_h == 1, table.c.hour >= settled, table.c.hour < until))
    queue_rows = [
        {"queue_id": q, "span_h": 1, "hour": h, **{k: getattr(s, k) for k in s.__dataclass_fields__}}
        for (q, h), s in buckets.queues.items()
        if q is not None
    ]
    agent_rows = [
        {"agent_id": a, "span_h": 1, "hour": h, **{k: getattr(s, k) for k in s.__dataclass_fields__}}
        for (a, h), s in buckets.agents.items()
    ]
    if queue_rows:
        conn.execute(insert(queue_hours), queue_rows)
    if agent_rows:
        conn.execute(insert(agent_hours), agent_rows)
    day = floor_day(settled)
    while day + DAY <= until:
        if day + DAY > settled:
            _sum_day(conn, day)
        day += DAY
    _save_state(conn, until, threshold_s, short_s, now)
    return int((until - settled) / HOUR)


def _sum_day(conn: Connection, day: datetime) -> None:
    """A settled UTC day as one row per queue and agent: the sum of its hour rows."""
    for table, key in ((queue_hours, "queue_id"), (agent_hours, "agent_id")):
        figures = [c for c in table.c if c.name not in (key, "span_h", "hour")]
        conn.execute(delete(table).where(table.c.span_h == 24, table.c.hour == day))
        summed = (
            select(table.c[key], literal(24), literal(day, type_=table.c.hour.type), *(func.sum(c) for c in figures))
            .where(table.c.span_h == 1, table.c.hour >= day, table.c.hour < day + DAY)
            .group_by(table.c[key])
        )
        conn.execute(insert(table).from_select([key, "span_h", "hour", *(c.name for c in figures)], summed))


def _save_state(conn: Connection, settled: datetime, threshold_s: float, short_s: float, now: datetime) -> None:
    conn.execute(
        update(rollup_state)
        .where(rollup_state.c.name == ROLLUP)
        .values(settled_until=settled, threshold_s=threshold_s, short_abandon_s=short_s, updated_at=now)
    )


def stored_queries(start: datetime, end: datetime) -> tuple[Select[Any], Select[Any]]:
    """Sums of stored rows covering [start, end) (whole hours): day rows inside, hour rows at the ends."""
    days_from, days_to = ceil_day(start), floor_day(end)

    def covering(table: Table) -> Any:
        c = table.c
        if days_from >= days_to:
            return and_(c.span_h == 1, c.hour >= start, c.hour < end)
        return or_(
            and_(c.span_h == 24, c.hour >= days_from, c.hour < days_to),
            and_(c.span_h == 1, c.hour >= start, c.hour < days_from),
            and_(c.span_h == 1, c.hour >= days_to, c.hour < end),
        )

    q, a = queue_hours.c, agent_hours.c
    queue_sums = (
        select(
            q.queue_id,
            func.sum(q.answered),
            func.sum(q.answered_within),
            func.sum(q.answer_wait_s),
            func.sum(q.abandoned),
            func.sum(q.short_abandoned),
            func.sum(q.handled),
            func.sum(q.handle_s),
        )
        .where(covering(queue_hours))
        .group_by(q.queue_id)
    )
    agent_sums = (
        select(a.agent_id, func.sum(a.handled), func.sum(a.handle_s), func.sum(a.available_s), func.sum(a.handling_s))
        .where(covering(agent_hours))
        .group_by(a.agent_id)
    )
    return queue_sums, agent_sums


def fold_stored(queue_rows: Iterable[Any], agent_rows: Iterable[Any], into: Buckets) -> None:
    """Add stored-hour sums into whole-range buckets."""
    for queue_id, answered, within, wait, abandoned, short, handled, handle in queue_rows:
        into.queues[(queue_id, None)].add(
            QueueSums(int(answered), int(within), float(wait), int(abandoned), int(short), int(handled), float(handle))
        )
    for agent_id, handled, handle, available, busy in agent_rows:
        into.agents[(agent_id, None)].add(AgentSums(int(handled), float(handle), float(available), float(busy)))
