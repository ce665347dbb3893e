"""Explainable churn risk per customer: a logistic score from documented, additive reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from hub.analysis.cues import Severity
from hub.analysis.examples import CATEGORY_LABELS

Level = Literal["low", "medium", "high"]
STAGES = ("trial", "new", "active", "loyal")
TIERS = ("free", "standard", "premium", "enterprise")


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """One complaint as the hub stored it; `resolved_at` is None while it is open."""

    at: datetime
    category: str
    severity: Severity
    resolved_at: datetime | None = None
    threatened_to_leave: bool = False

    @property
    def resolution_hours(self) -> float | None:
        """Hours from complaint to resolution, None while open."""
        if self.resolved_at is None:
            return None
        return (self.resolved_at - self.at).total_seconds() / 3600


@dataclass(frozen=True, slots=True)
class CsatRating:
    """One customer-satisfaction answer, 1 (very unhappy) to 5 (very happy)."""

    at: datetime
    score: int

    def __post_init__(self) -> None:
        if not 1 <= self.score <= 5:
            raise ValueError(f"CSAT score must be 1..5, got {self.score}")


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What the hub knows about one customer; `churned_at`/`last_active_at` also feed the churn report."""

    customer_id: str
    tier: str
    lifecycle_stage: str
    complaints: tuple[ComplaintRecord, ...] = ()
    csat: tuple[CsatRating, ...] = ()
    contacts: tuple[datetime, ...] = ()
    last_active_at: datetime | None = None
    churned_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.tier not in TIERS:
            raise ValueError(f"unknown tier {self.tier!r}; expected one of {TIERS}")
        if self.lifecycle_stage not in STAGES:
            raise ValueError(f"unknown lifecycle stage {self.lifecycle_stage!r}; expected one of {STAGES}")


@dataclass(frozen=True, slots=True)
class Reason:
    """One term of the score: what it means in English and Chinese, and its log-odds weight."""

    text_en: str
    text_zh: str
    weight: float
    code: str


@dataclass(frozen=True, slots=True)
class ChurnRisk:
    """A customer's churn risk: probability-like score, its band, and the reasons, biggest first."""

    score: float
    level: Level
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChurnWeights:
    """Log-odds weights of the churn model; docs/complaints.md explains each and where it came from."""

    baseline: float = -2.2
    open_complaint: float = 0.7
    open_complaint_cap: int = 3
    recent_complaint: float = 0.25
    recent_complaint_cap: int = 6
    high_severity: float = 0.6
    high_severity_cap: int = 2
    threatened_to_leave: float = 1.0
    same_problem_again: float = 0.4
    slow_resolution: float = 0.3
    slow_resolution_cap: int = 3
    slow_resolution_hours: float = 72.0
    csat_very_low: float = 1.0
    csat_low: float = 0.4
    csat_high: float = -0.5
    frequent_contact: float = 0.4
    frequent_contact_at: int = 5
    inactive: float = 0.5
    long_inactive: float = 0.9
    inactive_days: int = 60
    long_inactive_days: int = 120
    stage: tuple[tuple[str, float], ...] = (("trial", 0.6), ("new", 0.3), ("active", 0.0), ("loyal", -0.6))
    tier: tuple[tuple[str, float], ...] = (
        ("free", 0.3),
        ("standard", 0.0),
        ("premium", -0.2),
        ("enterprise", -0.5),
    )
    recent_days: int = 90
    history_days: int = 180
    contact_days: int = 30
    medium_at: float = 0.25
    high_at: float = 0.5


DEFAULT_WEIGHTS = ChurnWeights()


def _complaints(n: int) -> str:
    return f"{n} complaint" if n == 1 else f"{n} complaints"


_STAGE_TEXT = {
    "trial": ("Still on a trial", "仍在试用期"),
    "new": ("New customer", "新客户"),
    "active": ("Active customer", "活跃客户"),
    "loyal": ("Long-standing loyal customer", "长期忠实客户"),
}
_TIER_TEXT = {
    "free": ("On the free tier", "免费版用户"),
    "standard": ("Standard tier", "标准版用户"),
    "premium": ("Premium customer", "高级版客户"),
    "enterprise": ("Enterprise contract", "企业版合约客户"),
}


def _complaint_reasons(profile: CustomerProfile, now: datetime, w: ChurnWeights) -> list[Reason]:
    reasons: list[Reason] = []
    recent_from = now - timedelta(days=w.recent_days)
    recent = [c for c in profile.complaints if recent_from <= c.at <= now]
    still_open = [
        c for c in profile.complaints if c.at <= now and (c.resolved_at is None or c.resolved_at > now)
    ]
    if still_open:
        n = min(len(still_open), w.open_complaint_cap)
        reasons.append(
            Reason(
                f"{_complaints(len(still_open))} still open",
                f"{len(still_open)} 个投诉仍未解决",
                n * w.open_complaint,
                "open_complaints",
            )
        )
    if recent:
        n = min(len(recent), w.recent_complaint_cap)
        reasons.append(
            Reason(
                f"{_complaints(len(recent))} in the last {w.recent_days} days",
                f"最近 {w.recent_days} 天内投诉 {len(recent)} 次",
                n * w.recent_complaint,
                "recent_complaints",
            )
        )
    high = [c for c in recent if c.severity == "high"]
    if high:
        n = min(len(high), w.high_severity_cap)
        reasons.append(
            Reason(
                f"{len(high)} high-severity {'complaint' if len(high) == 1 else 'complaints'} recently",
                f"最近有 {len(high)} 个高严重度投诉",
                n * w.high_severity,
                "high_severity",
            )
        )
    if any(c.threatened_to_leave for c in recent):
        reasons.append(
            Reason(
                "Threatened to leave or cancel",
                "曾表示要离开或取消",
                w.threatened_to_leave,
                "threatened_to_leave",
            )
        )
    categories = [c.category for c in recent]
    repeated = sorted({c for c in categories if categories.count(c) >= 2})
    if repeated:
        en = ", ".join(CATEGORY_LABELS.get(c, (c, c))[0] for c in repeated)
        zh = "、".join(CATEGORY_LABELS.get(c, (c, c))[1] for c in repeated)
        reasons.append(
            Reason(
                f"Same problem raised again: {en}",
                f"同类问题反复出现：{zh}",
                w.same_problem_again,
                "same_problem_again",
            )
        )
    history_from = now - timedelta(days=w.history_days)
    slow = [
        c
        for c in profile.complaints
        if c.resolution_hours is not None
        and c.resolution_hours > w.slow_resolution_hours
        and history_from <= c.at <= now
    ]
    if slow:
        n = min(len(slow), w.slow_resolution_cap)
        hours = int(w.slow_resolution_hours)
        reasons.append(
            Reason(
                f"{_complaints(len(slow))} took over {hours} h to resolve",
                f"{len(slow)} 个投诉处理超过 {hours} 小时",
                n * w.slow_resolution,
                "slow_resolution",
            )
        )
    return reasons


def _csat_reason(profile: CustomerProfile, now: datetime, w: ChurnWeights) -> list[Reason]:
    since = now - timedelta(days=w.history_days)
    recent = sorted((r for r in profile.csat if since <= r.at <= now), key=lambda r: r.at)[-3:]
    if not recent:
        return []
    avg = sum(r.score for r in recent) / len(recent)
    shown = f"{avg:.1f}"
    if avg <= 2:
        return [
            Reason(
                f"Very low satisfaction (CSAT {shown}/5)",
                f"满意度很低（CSAT {shown}/5）",
                w.csat_very_low,
                "csat",
            )
        ]
    if avg <= 3:
        return [
            Reason(f"Low satisfaction (CSAT {shown}/5)", f"满意度偏低（CSAT {shown}/5）", w.csat_low, "csat")
        ]
    if avg >= 4.5:
        return [
            Reason(
                f"High satisfaction (CSAT {shown}/5)", f"满意度很高（CSAT {shown}/5）", w.csat_high, "csat"
            )
        ]
    return []


def _activity_reasons(profile: CustomerProfile, now: datetime, w: ChurnWeights) -> list[Reason]:
    reasons: list[Reason] = []
    contacts_from = now - timedelta(days=w.contact_days)
    contacts = sum(1 for t in profile.contacts if contacts_from <= t <= now)
    if contacts >= w.frequent_contact_at:
        reasons.append(
            Reason(
                f"Contacted support {contacts} times in {w.contact_days} days",
                f"{w.contact_days} 天内联系客服 {contacts} 次",
                w.frequent_contact,
                "frequent_contact",
            )
        )
    if profile.last_active_at is not None:
        idle = (now - profile.last_active_at).days
        if idle >= w.long_inactive_days:
            reasons.append(
                Reason(f"Inactive for {idle} days", f"已 {idle} 天没有活动", w.long_inactive, "inactive")
            )
        elif idle >= w.inactive_days:
            reasons.append(
                Reason(f"Inactive for {idle} days", f"已 {idle} 天没有活动", w.inactive, "inactive")
            )
    return reasons


def _profile_reasons(profile: CustomerProfile, w: ChurnWeights) -> list[Reason]:
    reasons: list[Reason] = []
    stage = dict(w.stage).get(profile.lifecycle_stage, 0.0)
    if stage:
        reasons.append(Reason(*_STAGE_TEXT[profile.lifecycle_stage], stage, "lifecycle_stage"))
    tier = dict(w.tier).get(profile.tier, 0.0)
    if tier:
        reasons.append(Reason(*_TIER_TEXT[profile.tier], tier, "tier"))
    return reasons


def level_for(score: float, weights: ChurnWeights = DEFAULT_WEIGHTS) -> Level:
    """The band a score falls in."""
    if score >= weights.high_at:
        return "high"
    return "medium" if score >= weights.medium_at else "low"


def churn_risk(profile: CustomerProfile, now: datetime, weights: ChurnWeights = DEFAULT_WEIGHTS) -> ChurnRisk:
    """Score = sigmoid(baseline + sum of reason weights); reasons sorted from most to least risky."""
    reasons = (
        _complaint_reasons(profile, now, weights)
        + _csat_reason(profile, now, weights)
        + _activity_reasons(profile, now, weights)
        + _profile_reasons(profile, weights)
    )
    z = weights.baseline + sum(r.weight for r in reasons)
    score = 1.0 / (1.0 + math.exp(-z))
    reasons.sort(key=lambda r: -r.weight)
    return ChurnRisk(score, level_for(score, weights), reasons)
