"""The churn report in SQL: the same figures as churn_report.py's pure functions, without loading profiles.

Every customer who contacted support gets a window end: the day they left (became a former customer,
or their last message plus `inactive_days`) or now. Complaints and CSAT in the `window_days` before that
end are counted per group (leavers, stayers) in the database; only the in-window complaint rows come
back to Python, for medians and the list of leavers. tests/complaints_db checks it against the pure
functions on the same data.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect

from hub.analysis.churn_report import SMOOTHING, CategoryLift
from hub.storage.tables import UTCDateTime

LEAVERS_SHOWN = 50


def _ends_sql(dialect: str) -> str:
    """CTEs naming each live customer's churn date (NULL for stayers) and look-back window."""
    if dialect == "postgresql":
        after = "(ev.data -> 'after' ->> 'lifecycle_stage')"
        before = "(ev.data -> 'before' ->> 'lifecycle_stage')"
        lapse = "act.last_at + make_interval(days => :inactive_days)"
        start = "end_at - make_interval(days => :window_days)"
    else:
        after = "json_extract(ev.data, '$.after.lifecycle_stage')"
        before = "json_extract(ev.data, '$.before.lifecycle_stage')"
        lapse = "strftime('%Y-%m-%d %H:%M:%f', act.last_at, '+' || :inactive_days || ' days')"
        start = "strftime('%Y-%m-%d %H:%M:%f', end_at, '-' || :window_days || ' days')"
    return f"""
WITH act AS MATERIALIZED (
  SELECT customer_id, MAX(last_customer_message_at) AS last_at
  FROM conversations GROUP BY customer_id
),
fm AS (
  SELECT ev.customer_id, MAX(ev.at) AS at
  FROM customer_events ev
  WHERE ev.kind = 'customer.updated'
    AND lower({after}) IN :former
    AND ({before} IS NULL OR lower({before}) NOT IN :former)
  GROUP BY ev.customer_id
),
ends AS (
  SELECT c.id AS customer_id, c.tier AS tier,
         lower(c.lifecycle_stage) IN :former AS former,
         CASE WHEN lower(c.lifecycle_stage) IN :former THEN COALESCE(fm.at, c.updated_at)
              WHEN act.last_at <= :lapsed THEN {lapse}
         END AS churned_at
  FROM customers c
  JOIN act ON act.customer_id = c.id
  LEFT JOIN fm ON fm.customer_id = c.id
  WHERE c.merged_into_id IS NULL AND c.erased_at IS NULL
),
win0 AS (
  SELECT customer_id, tier, former, churned_at IS NOT NULL AS leaver, COALESCE(churned_at, :now) AS end_at
  FROM ends
),
win AS MATERIALIZED (SELECT win0.*, {start} AS start_at FROM win0)
"""


def _seconds(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {later} - {earlier})"
    return f"(julianday({later}) - julianday({earlier})) * 86400.0"


def _query(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("former", expanding=True),
        bindparam("now", type_=UTCDateTime()),
        bindparam("lapsed", type_=UTCDateTime()),
    )


def report_sql(dialect: str) -> TextualSelect:
    """One statement, so the per-customer windows are computed once: three kinds of rows.

    part 'p': customers and leavers; 'k': one row per complaint in its customer's window, with hours to a
    resolution before the window end; 'c': CSAT ratings in window, summed per group.
    """
    hours = _seconds(dialect, "k.resolved_at", "k.opened_at")
    rated = "COALESCE(v.resolved_at, v.last_message_at, v.created_at)"
    return _query(
        _ends_sql(dialect)
        + f"""
SELECT 'p' AS part, NULL AS leaver, NULL AS former, NULL AS customer_id, NULL AS tier, NULL AS category,
       NULL AS churned_at, NULL AS seconds,
       COUNT(*) AS n, SUM(CASE WHEN leaver THEN 1 ELSE 0 END) AS total, CAST(NULL AS BIGINT) AS low
FROM win
UNION ALL
SELECT 'k', w.leaver, w.former, w.customer_id, w.tier, k.category,
       CASE WHEN w.leaver THEN w.end_at END,
       CASE WHEN k.status = 'resolved' AND k.resolved_at <= w.end_at THEN {hours} END,
       NULL, NULL, NULL
FROM win w
JOIN complaint_cases k ON k.customer_id = w.customer_id
WHERE k.status <> 'dismissed' AND k.opened_at >= w.start_at AND k.opened_at < w.end_at
UNION ALL
SELECT 'c', w.leaver, NULL, NULL, NULL, NULL, NULL, NULL,
       COUNT(*), SUM(v.csat_score), SUM(CASE WHEN v.csat_score <= 2 THEN 1 ELSE 0 END)
FROM win w
JOIN conversations v ON v.customer_id = w.customer_id
WHERE v.csat_score BETWEEN 1 AND 5 AND {rated} >= w.start_at AND {rated} < w.end_at
GROUP BY w.leaver
"""
    ).columns(churned_at=UTCDateTime())


def _percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, as churn_report.py computes it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass(slots=True)
class _Group:
    customers: int = 0
    complaints: int = 0
    hours: list[float] | None = None
    ratings: int = 0
    rating_total: float = 0.0
    low: int = 0

    def figures(self) -> dict[str, Any]:
        hours = self.hours or []
        return {
            "customers": self.customers,
            "complaints": self.complaints,
            "complaints_per_customer": self.complaints / self.customers if self.customers else 0.0,
            "resolved_share": len(hours) / self.complaints if self.complaints else None,
            "median_resolution_hours": _round(statistics.median(hours)) if hours else None,
            "p90_resolution_hours": _round(_percentile(hours, 0.9)) if hours else None,
            "mean_csat": self.rating_total / self.ratings if self.ratings else None,
            "low_csat_share": self.low / self.ratings if self.ratings else None,
        }


def _round(value: float) -> float:
    return round(value, 2)


async def churn_figures(
    conn: AsyncConnection, now: datetime, inactive_days: int, window_days: int, former: Sequence[str]
) -> dict[str, Any]:
    """The churn report: leavers after complaints, category lift, and leavers' vs stayers' handling."""
    dialect = conn.dialect.name
    params = {
        "former": list(former) or ["\x00"],
        "now": now,
        "lapsed": now - timedelta(days=inactive_days),
        "inactive_days": inactive_days,
        "window_days": window_days,
    }
    result = (await conn.execute(report_sql(dialect), params)).all()
    pop = next(r for r in result if r.part == "p")
    rows = [r for r in result if r.part == "k"]
    rated = [r for r in result if r.part == "c"]
    customers, leavers = int(pop.n), int(pop.total or 0)
    groups = {True: _Group(leavers, hours=[]), False: _Group(customers - leavers, hours=[])}
    with_category: dict[tuple[bool, str], set[int]] = defaultdict(set)
    after: dict[int, dict[str, Any]] = {}
    for r in rows:
        leaver = bool(r.leaver)
        group = groups[leaver]
        group.complaints += 1
        if r.seconds is not None and group.hours is not None:
            group.hours.append(float(r.seconds) / 3600)
        with_category[(leaver, r.category)].add(r.customer_id)
        if leaver:
            entry = after.setdefault(
                r.customer_id,
                {
                    "customer_id": r.customer_id,
                    "tier": r.tier,
                    "churned_at": r.churned_at.isoformat(),
                    "reason": "former" if r.former else "inactive",
                    "complaints": 0,
                    "categories": set(),
                    "unresolved_at_churn": 0,
                },
            )
            entry["complaints"] += 1
            entry["categories"].add(r.category)
            entry["unresolved_at_churn"] += r.seconds is None
    for r in rated:
        group = groups[bool(r.leaver)]
        group.ratings, group.rating_total, group.low = int(r.n), float(r.total), int(r.low)
    categories = sorted({category for _, category in with_category})
    lifts = [
        CategoryLift(
            cat,
            len(with_category.get((True, cat), ())),
            leavers,
            len(with_category.get((False, cat), ())),
            customers - leavers,
        )
        for cat in categories
    ]
    lifts.sort(key=lambda lift: (-lift.lift, lift.category))
    recent = sorted(after.values(), key=lambda e: (e["churned_at"], e["customer_id"]), reverse=True)
    reasons = {"former": 0, "inactive": 0}
    for entry in recent:
        reasons[entry["reason"]] += 1
        entry["categories"] = sorted(entry["categories"])
    return {
        "now": now.isoformat(),
        "inactive_days": inactive_days,
        "window_days": window_days,
        "smoothing": SMOOTHING,
        "customers": customers,
        "leavers": leavers,
        "stayers": customers - leavers,
        "left_after_complaints": {"customers": len(recent), "by_reason": reasons, "recent": recent[:LEAVERS_SHOWN]},
        "categories_before_churn": [
            {
                "category": lift.category,
                "leavers_with": lift.leavers_with,
                "stayers_with": lift.stayers_with,
                "leaver_share": round(lift.leavers_with / lift.leavers, 4) if lift.leavers else None,
                "stayer_share": round(lift.stayers_with / lift.stayers, 4) if lift.stayers else None,
                "lift": round(lift.lift, 3),
                "churn_rate_with": round(lift.churn_rate_with, 4) if lift.churn_rate_with is not None else None,
            }
            for lift in lifts
        ],
        "handling": {"stayers": groups[False].figures(), "leavers": groups[True].figures()},
    }
