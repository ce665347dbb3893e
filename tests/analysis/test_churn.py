"""Stories about the explainable churn-risk score."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.analysis.churn import (
    DEFAULT_WEIGHTS,
    STAGES,
    TIERS,
    ChurnWeights,
    ComplaintRecord,
    CsatRating,
    CustomerProfile,
    churn_risk,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def unhappy_trial_customer() -> CustomerProfile:
    return CustomerProfile(
        customer_id="c-17",
        tier="free",
        lifecycle_stage="trial",
        complaints=(
            ComplaintRecord(days_ago(40), "billing", "medium", resolved_at=days_ago(35)),
            ComplaintRecord(days_ago(3), "billing", "high", threatened_to_leave=True),
        ),
        csat=(CsatRating(days_ago(34), 2), CsatRating(days_ago(10), 1)),
        contacts=tuple(days_ago(d) for d in (1, 2, 3, 8, 20)),
    )


def test_an_unhappy_trial_customer_who_threatened_to_leave_is_high_risk_and_we_can_say_why() -> None:
    risk = churn_risk(unhappy_trial_customer(), NOW)

    assert risk.level == "high"
    assert risk.score > 0.9
    codes = [r.code for r in risk.reasons]
    assert codes[0] == "threatened_to_leave"
    assert {"open_complaints", "high_severity", "csat", "same_problem_again", "slow_resolution"} <= set(codes)
    assert all(r.text_en and r.text_zh for r in risk.reasons)
    assert "Same problem raised again: billing" in [r.text_en for r in risk.reasons]
    assert "同类问题反复出现：账单计费" in [r.text_zh for r in risk.reasons]


def test_the_score_is_exactly_the_baseline_plus_the_reasons_through_a_sigmoid() -> None:
    risk = churn_risk(unhappy_trial_customer(), NOW)

    z = DEFAULT_WEIGHTS.baseline + sum(r.weight for r in risk.reasons)
    assert risk.score == pytest.approx(1 / (1 + math.exp(-z)))
    assert [r.weight for r in risk.reasons] == sorted((r.weight for r in risk.reasons), reverse=True)


def test_a_happy_loyal_enterprise_customer_is_low_risk_with_protective_reasons() -> None:
    profile = CustomerProfile(
        customer_id="c-1",
        tier="enterprise",
        lifecycle_stage="loyal",
        csat=(CsatRating(days_ago(60), 5), CsatRating(days_ago(5), 5)),
        last_active_at=days_ago(1),
    )

    risk = churn_risk(profile, NOW)

    assert risk.level == "low"
    assert risk.score < 0.05
    assert all(r.weight < 0 for r in risk.reasons)
    assert {r.code for r in risk.reasons} == {"csat", "tier", "lifecycle_stage"}


def test_resolving_the_open_complaint_lowers_the_risk() -> None:
    open_case = unhappy_trial_customer()
    resolved = replace(
        open_case,
        complaints=(
            open_case.complaints[0],
            replace(open_case.complaints[1], resolved_at=days_ago(2.5)),
        ),
    )

    assert churn_risk(resolved, NOW).score < churn_risk(open_case, NOW).score
    assert "open_complaints" not in {r.code for r in churn_risk(resolved, NOW).reasons}


def test_old_complaints_fall_out_of_the_recent_window_but_an_old_open_one_still_counts() -> None:
    profile = CustomerProfile(
        customer_id="c-9",
        tier="standard",
        lifecycle_stage="active",
        complaints=(ComplaintRecord(days_ago(200), "delivery", "high"),),
    )

    codes = {r.code for r in churn_risk(profile, NOW).reasons}

    assert codes == {"open_complaints"}


def test_future_events_are_ignored_when_scoring_the_past() -> None:
    profile = unhappy_trial_customer()

    earlier = churn_risk(profile, days_ago(30))

    assert "threatened_to_leave" not in {r.code for r in earlier.reasons}
    assert earlier.score < churn_risk(profile, NOW).score


def test_a_long_silence_is_a_reason() -> None:
    quiet = CustomerProfile("c-3", "standard", "active", last_active_at=days_ago(130))

    (reason,) = churn_risk(quiet, NOW).reasons

    assert reason.code == "inactive"
    assert reason.text_en == "Inactive for 130 days"
    assert reason.weight == DEFAULT_WEIGHTS.long_inactive


def test_a_business_can_set_its_own_weights() -> None:
    quiet = CustomerProfile("c-3", "standard", "active", last_active_at=days_ago(130))
    strict = ChurnWeights(long_inactive=3.0)

    assert churn_risk(quiet, NOW, strict).level == "high"
    assert churn_risk(quiet, NOW).level == "low"


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="tier"):
        CustomerProfile("c", "gold", "active")
    with pytest.raises(ValueError, match="lifecycle stage"):
        CustomerProfile("c", "free", "former")
    with pytest.raises(ValueError, match="1..5"):
        CsatRating(NOW, 6)


complaints = st.builds(
    ComplaintRecord,
    at=st.integers(0, 400).map(days_ago),
    category=st.sampled_from(["delivery", "billing", "refund"]),
    severity=st.sampled_from(["low", "medium", "high"]),
    resolved_at=st.none(),
    threatened_to_leave=st.booleans(),
)
profiles = st.builds(
    CustomerProfile,
    customer_id=st.just("c"),
    tier=st.sampled_from(TIERS),
    lifecycle_stage=st.sampled_from(STAGES),
    complaints=st.lists(complaints, max_size=6).map(tuple),
    csat=st.lists(
        st.builds(CsatRating, at=st.integers(0, 300).map(days_ago), score=st.integers(1, 5)), max_size=4
    ).map(tuple),
    contacts=st.lists(st.integers(0, 60).map(days_ago), max_size=8).map(tuple),
    last_active_at=st.one_of(st.none(), st.integers(0, 300).map(days_ago)),
)


@given(profiles, complaints)
def test_one_more_open_complaint_never_lowers_the_risk(
    profile: CustomerProfile, extra: ComplaintRecord
) -> None:
    worse = replace(profile, complaints=(*profile.complaints, extra))

    before, after = churn_risk(profile, NOW), churn_risk(worse, NOW)

    assert 0.0 < before.score < 1.0
    assert after.score >= before.score
