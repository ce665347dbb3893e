"""Queue and agent metrics (docs/metrics.md) from stored timestamps, on SQLite and PostgreSQL.

Whole settled hours come from the hourly rollup (hub/routing/rollups.py); the ragged edges of the range,
and hours not settled yet, are counted from the raw rows with the same definitions.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.routing.metrics import QueueMetrics
from hub.routing.rollups import (
    Buckets,
    RollupState,
    ceil_hour,
    event_queries,
    floor_hour,
    fold_events,
    fold_occupancy,
    fold_stored,
    interval_queries,
    read_state,
    seconds_between,
    stored_queries,
)
from hub.routing.store import conversations
from hub.storage.database import Database
from hub.storage.tables import UTCDateTime

Span = tuple[datetime, datetime]
RECENT = timedelta(days=7)

# docs/metrics.md's occupancy query on `timestamp without time zone` columns (tsrange, not tstzrange);
# open intervals run to :open_end, which is `end` or `now`, whichever is earlier.
_OCCUPANCY_PG = """
WITH window_ AS (SELECT tsrange(:start, :end) AS w),
avail AS (
  SELECT agent_id, range_agg(tsrange(started_at, GREATEST(started_at, COALESCE(ended_at, :open_end))) * w) AS r
  FROM agent_presence_intervals, window_
  WHERE presence = 'available' AND started_at < :end AND (ended_at > :start OR ended_at IS NULL)
  GROUP BY agent_id),
busy AS (
  SELECT agent_id, range_agg(tsrange(started_at, GREATEST(started_at, COALESCE(ended_at, :open_end))) * w) AS r
  FROM assignment_intervals, window_
  WHERE started_at < :end AND (ended_at > :start OR ended_at IS NULL)
  GROUP BY agent_id)
SELECT a.agent_id,
       (SELECT SUM(EXTRACT(EPOCH FROM upper(x) - lower(x))) FROM unnest(a.r) x)            AS available_s,
       COALESCE((SELECT SUM(EXTRACT(EPOCH FROM upper(x) - lower(x)))
                 FROM unnest(a.r * COALESCE(b.r, '{}'::tsmultirange)) x), 0)             AS handling_s
FROM avail a LEFT JOIN busy b USING (agent_id)
"""


def split_range(
    start: datetime, end: datetime, state: RollupState | None, *, stored_ok: bool
) -> tuple[list[Span], Span | None]:
    """(ranges to count from raw rows, range of stored hours) that together make [start, end)."""
    if state is None or state.settled_until is None or not stored_ok:
        return [(start, end)], None
    inner_start, inner_end = ceil_hour(start), min(floor_hour(end), state.settled_until)
    if inner_start >= inner_end:
        return [(start, end)], None
    raw = [(a, b) for a, b in ((start, inner_start), (inner_end, end)) if a < b]
    return raw, (inner_start, inner_end)


async def _state(conn: AsyncConnection) -> RollupState | None:
    return await conn.run_sync(read_state)


async def queue_metrics(
    db: Database, start: datetime, end: datetime, now: datetime, threshold_s: float, short_abandon_s: float
) -> dict[int | None, QueueMetrics]:
    """Every queue's figures over [start, end), plus waiting now, keyed by queue id."""
    buckets = Buckets()
    async with db.read() as conn:
        dialect = conn.dialect.name
        state = await _state(conn)
        same = state is not None and (state.threshold_s, state.short_abandon_s) == (threshold_s, short_abandon_s)
        raw, stored = split_range(start, end, state, stored_ok=same)
        for a, b in raw:
            queries = event_queries(dialect, a, b, threshold_s, short_abandon_s, by_hour=False)
            results = {k: (await conn.execute(q)).all() for k, q in queries.items() if k != "agent_handled"}
            fold_events({**results, "agent_handled": []}, buckets)
        if stored is not None:
            queue_sums, _ = stored_queries(*stored)
            fold_stored((await conn.execute(queue_sums)).all(), [], buckets)
        c = conversations.c
        waited = seconds_between(dialect, bindparam("now", now, type_=UTCDateTime()), c.enqueued_at)
        live = {
            r.queue_id: (int(r.n), r.longest)
            for r in (
                await conn.execute(
                    select(c.queue_id, func.count().label("n"), func.max(waited).label("longest"))
                    .where(c.status == "queued")
                    .group_by(c.queue_id)
                )
            ).all()
        }
    report: dict[int | None, QueueMetrics] = {}
    for queue_id in {q for q, _ in buckets.queues} | set(live):
        s = buckets.queues[(queue_id, None)]
        waiting, longest = live.get(queue_id, (0, None))
        offered = s.answered + s.abandoned
        report[queue_id] = QueueMetrics(
            queue_id=queue_id,
            waiting_now=waiting,
            longest_wait_seconds=None if longest is None else float(longest),
            answered=s.answered,
            answered_within_threshold=s.answered_within,
            abandoned=s.abandoned,
            short_abandoned=s.short_abandoned,
            service_level=s.answered_within / offered if offered else None,
            average_speed_of_answer_seconds=s.answer_wait_s / s.answered if s.answered else None,
            handled=s.handled,
            average_handle_time_seconds=s.handle_s / s.handled if s.handled else None,
            abandonment_rate=s.abandoned / offered if offered else None,
        )
    return report


async def agent_metrics(db: Database, start: datetime, end: datetime, now: datetime) -> dict[int, dict[str, Any]]:
    """Handled, handle time and occupancy per agent over [start, end); open intervals end at min(end, now)."""
    open_end = min(end, now)
    buckets = Buckets()
    async with db.read() as conn:
        dialect = conn.dialect.name
        # Agent figures do not depend on the thresholds: stored hours always serve.
        raw, stored = split_range(start, end, await _state(conn), stored_ok=True)
        for a, b in raw:
            handled_q = event_queries(dialect, a, b, 0, 0, by_hour=False)["agent_handled"]
            rows = (await conn.execute(handled_q)).all()
            fold_events({"answered": [], "abandoned": [], "handled": [], "agent_handled": rows}, buckets)
            await _occupancy(conn, dialect, a, b, open_end, buckets)
        if stored is not None:
            _, agent_sums = stored_queries(*stored)
            fold_stored([], (await conn.execute(agent_sums)).all(), buckets)
    report: dict[int, dict[str, Any]] = {}
    for agent_id in sorted({a for a, _ in buckets.agents}):
        s = buckets.agents[(agent_id, None)]
        report[agent_id] = {
            "agent_id": agent_id,
            "handled": s.handled,
            "average_handle_time_seconds": s.handle_s / s.handled if s.handled else None,
            "available_seconds": s.available_s,
            "handling_seconds": s.handling_s,
            "occupancy": s.handling_s / s.available_s if s.available_s else None,
        }
    return report


async def agent_csat(db: Database, start: datetime, end: datetime) -> dict[int, tuple[float, int]]:
    """Average CSAT score and number of ratings per agent, for conversations they resolved in [start, end).

    A rating belongs to the agent the conversation was assigned to when it was resolved (the assignee
    stays on the row), counted on the day of the resolution, as the wallboard counts queues.
    """
    c = conversations.c
    query = (
        select(c.assignee_id, func.avg(c.csat_score), func.count(c.csat_score))
        .where(c.resolved_at >= start, c.resolved_at < end, c.csat_score.is_not(None), c.assignee_id.is_not(None))
        .group_by(c.assignee_id)
    )
    async with db.read() as conn:
        rows = (await conn.execute(query)).all()
    return {int(agent_id): (float(avg), int(n)) for agent_id, avg, n in rows}


async def _occupancy(
    conn: AsyncConnection, dialect: str, start: datetime, end: datetime, open_end: datetime, buckets: Buckets
) -> None:
    """Available and handling seconds in one raw range: range types on PostgreSQL, the formulas on SQLite."""
    if dialect == "postgresql":
        stmt = text(_OCCUPANCY_PG).bindparams(
            bindparam("start", start, type_=UTCDateTime()),
            bindparam("end", end, type_=UTCDateTime()),
            bindparam("open_end", max(open_end, start), type_=UTCDateTime()),
        )
        for r in (await conn.execute(stmt)).all():
            s = buckets.agents[(r.agent_id, None)]
            s.available_s += float(r.available_s or 0)
            s.handling_s += float(r.handling_s or 0)
        return
    presence_q, handling_q = interval_queries(start, end, recent=open_end - start <= RECENT)
    presence = (await conn.execute(presence_q)).all()
    handling = (await conn.execute(handling_q)).all()
    fold_occupancy(presence, handling, start, end, max(open_end, start), buckets, by_hour=False)


def metrics_dict(m: QueueMetrics) -> dict[str, Any]:
    """A QueueMetrics as JSON-ready data."""
    return asdict(m)
