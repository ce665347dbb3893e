"""The churn report's SQL gives the same figures as the pure churn functions over the same customers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bench.churn_report import NOW, Synthetic, load
from hub.analysis.churn_report import churn_date, complaint_lift, handling_comparison
from hub.analysis.config import AnalysisSettings
from hub.analysis.reports import churn_report, customers, profile_parts
from hub.storage import migrate
from hub.storage.database import Database


@pytest.mark.parametrize("inactive_days", [30, 90])
async def test_sql_and_pure_functions_agree_on_a_year_of_history(database_url: str, inactive_days: int) -> None:
    settings = AnalysisSettings(inactive_days=inactive_days)
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        await load(db, Synthetic(customers=600, messages=4000, seed=11))

        report = await churn_report(db, NOW, settings)

        async with db.read() as conn:
            parts = await profile_parts(conn, select(customers.c.id), settings)
    finally:
        await db.dispose()
    profiles = [p.profile() for p in parts.values()]
    kw: dict[str, Any] = {"inactive_days": inactive_days, "window_days": settings.window_days}
    left = [p for p in profiles if churn_date(p, NOW, inactive_days) is not None]
    assert (report["customers"], report["leavers"]) == (len(profiles), len(left))
    assert 0 < report["leavers"] < report["customers"]
    pure_lifts = {lift.category: lift for lift in complaint_lift(profiles, NOW, **kw)}
    sql_lifts = {row["category"]: row for row in report["categories_before_churn"]}
    assert set(sql_lifts) == set(pure_lifts)
    for category, lift in pure_lifts.items():
        row = sql_lifts[category]
        assert (row["leavers_with"], row["stayers_with"]) == (lift.leavers_with, lift.stayers_with)
        assert row["lift"] == round(lift.lift, 3)
    pure = handling_comparison(profiles, NOW, **kw)
    for group, stats in (("stayers", pure.stayers), ("leavers", pure.leavers)):
        sql = report["handling"][group]
        assert sql["customers"] == stats.customers
        assert sql["complaints"] == stats.complaints
        assert sql["resolved_share"] == pytest.approx(stats.resolved_share)
        assert sql["median_resolution_hours"] == pytest.approx(stats.median_resolution_hours, abs=0.01)
        assert sql["p90_resolution_hours"] == pytest.approx(stats.p90_resolution_hours, abs=0.01)
        assert sql["mean_csat"] == pytest.approx(stats.mean_csat)
        assert sql["low_csat_share"] == pytest.approx(stats.low_csat_share)
    window = settings.window_days
    after = {
        int(p.customer_id)
        for p in left
        if any(
            (end := churn_date(p, NOW, inactive_days)) is not None and end - timedelta(days=window) <= c.at < end
            for c in p.complaints
        )
    }
    assert report["left_after_complaints"]["customers"] == len(after)
