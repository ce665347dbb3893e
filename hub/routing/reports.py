"""Queue and agent metrics from stored timestamps, in SQL (docs/metrics.md), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.routing.metrics import HandlingInterval, PresenceInterval, QueueMetrics, agent_report
from hub.routing.model import Presence
from hub.routing.store import assignment_intervals, presence_intervals
from hub.storage.database import Database
from hub.storage.tables import UTCDateTime

_TIMES = ("start", "end", "now", "open_end")


def _seconds(dialect: str, later: str, earlier: str) -> str:
    """SQL for `later - earlier` in seconds; SQLite rounds to milliseconds so thresholds compare exactly."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {later} - {earlier})"
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


def queue_sql(dialect: str) -> str:
    """The per-queue query of docs/metrics.md, limited to rows that can count in the range or now."""
    answer_wait = _seconds(dialect, "first_agent_response_at", "enqueued_at")
    abandon_wait = _seconds(dialect, "abandoned_at", "enqueued_at")
    waited_now = _seconds(dialect, ":now", "enqueued_at")
    handle = _seconds(dialect, "resolved_at", "assigned_at")
    cast = "::float" if dialect == "postgresql" else " * 1.0"
    return f"""
WITH c AS (
  SELECT queue_id, status, enqueued_at, assigned_at, resolved_at,
         first_agent_response_at IS NOT NULL AND enqueued_at IS NOT NULL
           AND (abandoned_at IS NULL OR first_agent_response_at <= abandoned_at)
           AND first_agent_response_at >= :start AND first_agent_response_at < :end     AS answered,
         abandoned_at IS NOT NULL AND enqueued_at IS NOT NULL
           AND (first_agent_response_at IS NULL OR first_agent_response_at > abandoned_at)
           AND abandoned_at >= :start AND abandoned_at < :end                           AS left_queue,
         {answer_wait} AS answer_wait,
         {abandon_wait} AS abandon_wait
  FROM conversations
  WHERE status = 'queued'
     OR (first_agent_response_at >= :start AND first_agent_response_at < :end)
     OR (abandoned_at >= :start AND abandoned_at < :end)
     OR (resolved_at >= :start AND resolved_at < :end)
)
SELECT queue_id,
  COUNT(*) FILTER (WHERE status = 'queued')                                   AS waiting_now,
  MAX({waited_now}) FILTER (WHERE status = 'queued')                          AS longest_wait,
  COUNT(*) FILTER (WHERE answered)                                            AS answered,
  COUNT(*) FILTER (WHERE answered AND answer_wait <= :t)                      AS answered_within,
  COUNT(*) FILTER (WHERE left_queue AND abandon_wait >= :short)               AS abandoned,
  COUNT(*) FILTER (WHERE left_queue AND abandon_wait < :short)                AS short_abandoned,
  COUNT(*) FILTER (WHERE answered AND answer_wait <= :t){cast}
    / NULLIF(COUNT(*) FILTER (WHERE answered OR (left_queue AND abandon_wait >= :short)), 0)
                                                                              AS service_level,
  AVG(answer_wait) FILTER (WHERE answered)                                    AS asa,
  COUNT(*) FILTER (WHERE resolved_at >= :start AND resolved_at < :end AND assigned_at IS NOT NULL)
                                                                              AS handled,
  AVG({handle})
    FILTER (WHERE resolved_at >= :start AND resolved_at < :end AND assigned_at IS NOT NULL)
                                                                              AS aht,
  COUNT(*) FILTER (WHERE left_queue AND abandon_wait >= :short){cast}
    / NULLIF(COUNT(*) FILTER (WHERE answered OR (left_queue AND abandon_wait >= :short)), 0)
                                                                              AS abandonment_rate
FROM c
GROUP BY queue_id
"""


_HANDLED_SQL = """
SELECT assignee_id AS agent_id, COUNT(*) AS handled, AVG({handle}) AS aht
FROM conversations
WHERE resolved_at >= :start AND resolved_at < :end AND assigned_at IS NOT NULL AND assignee_id IS NOT NULL
GROUP BY assignee_id
"""

# docs/metrics.md's occupancy query on `timestamp without time zone` columns (tsrange, not tstzrange);
# open intervals run to :open_end, which is `end` or `now`, whichever is earlier.
_OCCUPANCY_PG = """
WITH window_ AS (SELECT tsrange(:start, :end) AS w),
avail AS (
  SELECT agent_id, range_agg(tsrange(started_at, COALESCE(ended_at, :open_end)) * w) AS r
  FROM agent_presence_intervals, window_
  WHERE presence = 'available' AND started_at < :end AND COALESCE(ended_at, :open_end) > :start
  GROUP BY agent_id),
busy AS (
  SELECT agent_id, range_agg(tsrange(started_at, COALESCE(ended_at, :open_end)) * w) AS r
  FROM assignment_intervals, window_
  WHERE started_at < :end AND COALESCE(ended_at, :open_end) > :start
  GROUP BY agent_id)
SELECT a.agent_id,
       (SELECT SUM(EXTRACT(EPOCH FROM upper(x) - lower(x))) FROM unnest(a.r) x)            AS available_s,
       COALESCE((SELECT SUM(EXTRACT(EPOCH FROM upper(x) - lower(x)))
                 FROM unnest(a.r * COALESCE(b.r, '{}'::tsmultirange)) x), 0)             AS handling_s
FROM avail a LEFT JOIN busy b USING (agent_id)
"""


def _statement(sql: str, **params: Any) -> Any:
    """A text statement whose datetime parameters go through the same UTC conversion as the columns."""
    stmt = text(sql)
    typed = [bindparam(name, type_=UTCDateTime()) for name in _TIMES if f":{name}" in sql]
    return stmt.bindparams(*typed, **{k: v for k, v in params.items() if f":{k}" in sql})


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


async def queue_metrics(
    db: Database, start: datetime, end: datetime, now: datetime, threshold_s: float, short_abandon_s: float
) -> dict[int | None, QueueMetrics]:
    """Every queue's figures over [start, end), plus waiting now, keyed by queue id."""
    async with db.read() as conn:
        sql = queue_sql(conn.dialect.name)
        rows = (
            await conn.execute(_statement(sql, start=start, end=end, now=now, t=threshold_s, short=short_abandon_s))
        ).all()
    return {
        r.queue_id: QueueMetrics(
            queue_id=r.queue_id,
            waiting_now=int(r.waiting_now),
            longest_wait_seconds=_num(r.longest_wait),
            answered=int(r.answered),
            answered_within_threshold=int(r.answered_within),
            abandoned=int(r.abandoned),
            short_abandoned=int(r.short_abandoned),
            service_level=_num(r.service_level),
            average_speed_of_answer_seconds=_num(r.asa),
            handled=int(r.handled),
            average_handle_time_seconds=_num(r.aht),
            abandonment_rate=_num(r.abandonment_rate),
        )
        for r in rows
    }


async def agent_metrics(db: Database, start: datetime, end: datetime, now: datetime) -> dict[int, dict[str, Any]]:
    """Handled, handle time and occupancy per agent over [start, end); open intervals end at min(end, now)."""
    open_end = min(end, now)
    async with db.read() as conn:
        dialect = conn.dialect.name
        handled = (
            await conn.execute(
                _statement(
                    _HANDLED_SQL.format(handle=_seconds(dialect, "resolved_at", "assigned_at")), start=start, end=end
                )
            )
        ).all()
        if dialect == "postgresql":
            occupancy = {
                r.agent_id: (float(r.available_s or 0), float(r.handling_s or 0))
                for r in (await conn.execute(_statement(_OCCUPANCY_PG, start=start, end=end, open_end=open_end))).all()
            }
        else:
            occupancy = await _occupancy_in_python(conn, start, end, open_end)
    report: dict[int, dict[str, Any]] = {}
    for agent_id in sorted({r.agent_id for r in handled} | set(occupancy)):
        available, busy = occupancy.get(agent_id, (0.0, 0.0))
        report[agent_id] = {
            "agent_id": agent_id,
            "handled": 0,
            "average_handle_time_seconds": None,
            "available_seconds": available,
            "handling_seconds": busy,
            "occupancy": busy / available if available else None,
        }
    for r in handled:
        report[r.agent_id].update(handled=int(r.handled), average_handle_time_seconds=_num(r.aht))
    return report


async def _occupancy_in_python(
    conn: AsyncConnection, start: datetime, end: datetime, open_end: datetime
) -> dict[int, tuple[float, float]]:
    """SQLite has no range types: read the intervals that touch the window and use the metric formulas."""
    p, a = presence_intervals.c, assignment_intervals.c
    presence_rows = (
        await conn.execute(
            select(p.agent_id, p.presence, p.started_at, p.ended_at).where(
                p.presence == Presence.AVAILABLE.value,
                p.started_at < end,
                or_(p.ended_at.is_(None), p.ended_at > start),
            )
        )
    ).all()
    handling_rows = (
        await conn.execute(
            select(a.agent_id, a.conversation_id, a.started_at, a.ended_at).where(
                a.started_at < end,
                or_(a.ended_at.is_(None), a.ended_at > start),
            )
        )
    ).all()
    presence = [
        PresenceInterval(r.agent_id, Presence(r.presence), r.started_at, r.ended_at or open_end) for r in presence_rows
    ]
    handling = [
        HandlingInterval(r.agent_id, r.conversation_id, r.started_at, r.ended_at or open_end) for r in handling_rows
    ]
    report = agent_report([], presence, handling, start, end)
    return {agent_id: (m.available_seconds, m.handling_seconds) for agent_id, m in report.items()}


def metrics_dict(m: QueueMetrics) -> dict[str, Any]:
    """A QueueMetrics as JSON-ready data."""
    return asdict(m)
