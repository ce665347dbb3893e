"""Stories for the churn analysis report: what came before churn, and how leavers were treated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.analysis.churn import ComplaintRecord, CsatRating, CustomerProfile
from hub.analysis.churn_report import SMOOTHING, churn_date, complaint_lift, handling_comparison

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def complaint(at: float, category: str, resolved_after_h: float | None = None) -> ComplaintRecord:
    resolved = None if resolved_after_h is None else days_ago(at) + timedelta(hours=resolved_after_h)
    return ComplaintRecord(days_ago(at), category, "medium", resolved_at=resolved)


def customer(cid: str, *complaints: ComplaintRecord, **kw: object) -> CustomerProfile:
    return CustomerProfile(cid, "standard", "active", complaints=complaints, **kw)  # type: ignore[arg-type]


def test_a_former_customer_churned_when_they_left_and_a_silent_one_after_the_inactivity_period() -> None:
    former = customer("a", churned_at=days_ago(10), last_active_at=days_ago(12))
    silent = customer("b", last_active_at=days_ago(100))
    active = customer("c", last_active_at=days_ago(5))

    assert churn_date(former, NOW) == days_ago(10)
    assert churn_date(silent, NOW) == days_ago(10)
    assert churn_date(silent, NOW, inactive_days=120) is None
    assert churn_date(active, NOW) is None


@pytest.fixture
def population() -> list[CustomerProfile]:
    # Leavers left 30 days ago; most had billing trouble shortly before.
    leavers = [
        customer("l1", complaint(60, "billing", 200), churned_at=days_ago(30)),
        customer("l2", complaint(50, "billing", 100), complaint(45, "billing"), churned_at=days_ago(30)),
        customer("l3", complaint(50, "billing", 300), complaint(35, "delivery", 2), churned_at=days_ago(30)),
        customer("l4", complaint(70, "delivery", 20), churned_at=days_ago(30)),
        # A complaint after leaving cannot have come before churn.
        customer("l5", complaint(5, "technical", 1), churned_at=days_ago(30)),
    ]
    stayers = [
        customer("s1", complaint(20, "billing", 4), last_active_at=days_ago(1)),
        customer("s2", complaint(15, "delivery", 6), last_active_at=days_ago(2)),
        customer("s3", complaint(10, "delivery", 3), last_active_at=days_ago(3)),
        customer("s4", last_active_at=days_ago(1)),
        customer("s5", last_active_at=days_ago(4)),
        # Complained long before the window: not part of this look-back.
        customer("s6", complaint(400, "technical", 5), last_active_at=days_ago(1)),
    ]
    return leavers + stayers


def test_billing_complaints_come_before_churn_far_more_often_than_delivery_ones(
    population: list[CustomerProfile],
) -> None:
    lifts = complaint_lift(population, NOW)

    # Both technical complaints fall outside the look-back windows, so technical is not listed.
    assert [lift.category for lift in lifts] == ["billing", "delivery"]
    billing, delivery = lifts
    assert (billing.leavers_with, billing.leavers, billing.stayers_with, billing.stayers) == (3, 5, 1, 6)
    expected = ((3 + SMOOTHING) / (5 + 2 * SMOOTHING)) / ((1 + SMOOTHING) / (6 + 2 * SMOOTHING))
    assert billing.lift == pytest.approx(expected)
    assert billing.lift > 2 > delivery.lift
    assert billing.churn_rate_with == pytest.approx(3 / 4)


def test_an_empty_population_has_nothing_to_report() -> None:
    assert complaint_lift([], NOW) == []
    comparison = handling_comparison([], NOW)
    assert comparison.leavers.customers == 0 and comparison.leavers.median_resolution_hours is None


def test_leavers_waited_longer_for_resolutions_and_rated_us_lower(population: list[CustomerProfile]) -> None:
    rated = [
        CustomerProfile(
            p.customer_id,
            p.tier,
            p.lifecycle_stage,
            complaints=p.complaints,
            csat=(CsatRating(days_ago(40 if p.churned_at else 8), 2 if p.churned_at else 5),),
            last_active_at=p.last_active_at,
            churned_at=p.churned_at,
        )
        for p in population
    ]

    report = handling_comparison(rated, NOW)

    assert report.leavers.customers == 5 and report.stayers.customers == 6
    # Leavers: resolved in 200, 100, 300, 2 and 20 hours; one billing complaint never resolved.
    assert report.leavers.complaints == 6
    assert report.leavers.resolved_share == pytest.approx(5 / 6)
    assert report.leavers.median_resolution_hours == pytest.approx(100)
    assert report.leavers.p90_resolution_hours == pytest.approx(300)
    assert report.stayers.median_resolution_hours == pytest.approx(4)
    assert report.leavers.mean_csat == pytest.approx(2) and report.leavers.low_csat_share == 1.0
    assert report.stayers.mean_csat == pytest.approx(5) and report.stayers.low_csat_share == 0.0


def test_a_complaint_resolved_only_after_the_customer_left_counts_as_unresolved() -> None:
    late_fix = ComplaintRecord(days_ago(50), "refund", "high", resolved_at=days_ago(20))
    leaver = customer("l", late_fix, churned_at=days_ago(30))

    stats = handling_comparison([leaver], NOW).leavers

    assert stats.complaints == 1
    assert stats.resolved_share == 0.0
    assert stats.median_resolution_hours is None
