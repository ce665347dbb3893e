"""How the hub's records become churn-model inputs, and how complaint requests are checked (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.analysis.cases import check_case_changes, check_correction, higher, outcome_text, prefers_chinese
from hub.analysis.churn import churn_risk
from hub.analysis.config import AnalysisSettings
from hub.analysis.profiles import (
    ProfileParts,
    became_former_at,
    churn_stage,
    churn_tier,
    complaint_record,
    csat_rating,
)
from hub.domain import DomainError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FORMER = ("former", "churned")


def test_hub_tiers_and_stages_map_onto_the_churn_model() -> None:
    assert [churn_tier(t) for t in ("key", "Free", "pro", "gold", None)] == [
        "enterprise",
        "free",
        "premium",
        "standard",
        "standard",
    ]
    assert [churn_stage(s) for s in ("customer", "lead", "LOYAL", "prospect", None)] == [
        "active",
        "trial",
        "loyal",
        "active",
        "active",
    ]


def test_a_former_customer_left_when_they_last_moved_into_a_former_stage() -> None:
    updates = [
        (T0, {"before": {"lifecycle_stage": "customer"}, "after": {"lifecycle_stage": "former"}}),
        (T0 + timedelta(days=3), {"before": {"lifecycle_stage": "former"}, "after": {"lifecycle_stage": "customer"}}),
        (T0 + timedelta(days=9), {"before": {"tier": "free"}, "after": {"tier": "standard"}}),
        (T0 + timedelta(days=20), {"before": {"lifecycle_stage": "customer"}, "after": {"lifecycle_stage": "Churned"}}),
        (T0 + timedelta(days=25), {"before": {"lifecycle_stage": "churned"}, "after": {"lifecycle_stage": "former"}}),
    ]

    assert became_former_at(updates, FORMER) == T0 + timedelta(days=20)
    assert became_former_at(reversed(updates[:2]), FORMER) is None
    assert became_former_at([], FORMER) is None


def test_profile_parts_give_the_same_risk_as_a_hand_built_profile() -> None:
    parts = ProfileParts(
        7,
        "key",
        "customer",
        last_active_at=T0,
        complaints=[complaint_record(T0, "billing", "severe?", None, True)],
        csat=[r for r in (csat_rating(T0, 1), csat_rating(T0, 9)) if r is not None],
    )

    profile = parts.profile()
    risk = churn_risk(profile, T0 + timedelta(days=1))

    assert (profile.tier, profile.lifecycle_stage, profile.customer_id) == ("enterprise", "active", "7")
    assert profile.complaints[0].severity == "low"
    assert len(profile.csat) == 1
    assert [r.code for r in risk.reasons] == [
        "threatened_to_leave",
        "csat",
        "open_complaints",
        "recent_complaints",
        "tier",
    ]


def test_the_outcome_speaks_the_customers_language() -> None:
    assert prefers_chinese(None, "我的快递还没到")
    assert not prefers_chinese(None, "where is my parcel")
    assert prefers_chinese("zh-CN", "where is my parcel")
    assert not prefers_chinese("en", "我的快递还没到")
    assert outcome_text(12, "已退款。", True) == "关于您的投诉（编号 12）：已处理完毕。已退款。"
    assert outcome_text(12, "Refunded.", False) == "Update on your complaint (case 12): it has been resolved. Refunded."


def test_severity_only_rises() -> None:
    assert higher("low", "high") == "high"
    assert higher("medium", None) == "medium"
    assert higher(None, None) == "low"


def test_case_changes_are_checked() -> None:
    assert check_case_changes({"status": "resolved", "note": "  done  ", "notify": False}) == {
        "status": "resolved",
        "note": "done",
        "notify": False,
    }
    assert check_case_changes({"owner_id": None, "note": ""}) == {"owner_id": None, "note": None}
    for bad, code in (
        ({}, "missing_field"),
        ({"status": "dismissed"}, "invalid_field"),
        ({"owner_id": True}, "invalid_field"),
        ({"notify": "yes"}, "invalid_field"),
        ({"note": 5}, "invalid_field"),
        ({"priority": "high"}, "unknown_fields"),
    ):
        with pytest.raises(DomainError) as caught:
            check_case_changes(bad)
        assert caught.value.code == code, bad


def test_corrections_are_checked() -> None:
    target, label = check_correction({"text": "  Where is it?  ", "is_complaint": True, "category": "delivery"})
    assert target == {"text": "Where is it?", "channel": ""}
    assert (label.is_complaint, label.category, label.severity) == (True, "delivery", None)
    assert check_correction({"case_id": 4, "is_complaint": False})[0] == {"case_id": 4}
    for bad in (
        {"message_id": True, "is_complaint": False},
        {"text": " ", "is_complaint": False},
        {"text": "x", "channel": 5, "is_complaint": False},
        {"message_id": 1, "is_complaint": 1},
        {"message_id": 1, "case_id": 2, "is_complaint": False},
        {"message_id": 1, "is_complaint": True, "severity": "low", "mood": "bad"},
    ):
        with pytest.raises(DomainError):
            check_correction(bad)


def test_settings_come_from_the_environment() -> None:
    settings = AnalysisSettings.from_env(
        {
            "KEFU_CHURN_INACTIVE_DAYS": "45",
            "KEFU_CHURN_FORMER_STAGES": "Former, lost ,",
            "KEFU_COMPLAINT_NOTIFY": "off",
            "KEFU_COMPLAINT_RETRAIN_DELAY": "0.5",
        }
    )

    assert (settings.inactive_days, settings.former_stages) == (45, ("former", "lost"))
    assert (settings.notify_customer, settings.retrain_delay_s, settings.window_days) == (False, 0.5, 180)
    with pytest.raises(ValueError, match="KEFU_CHURN_WINDOW_DAYS"):
        AnalysisSettings.from_env({"KEFU_CHURN_WINDOW_DAYS": "half a year"})
    with pytest.raises(ValueError, match="positive"):
        AnalysisSettings.from_env({"KEFU_CHURN_INACTIVE_DAYS": "0"})
