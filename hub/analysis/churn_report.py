"""Churn analysis report: which complaints came before churn, and how leavers were handled vs stayers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from hub.analysis.churn import ComplaintRecord, CsatRating, CustomerProfile

INACTIVE_DAYS = 90
WINDOW_DAYS = 180
# Added to every count before taking shares, so a category seen in 1 of 3 leavers and 0 of 500
# stayers gets a large but finite lift instead of a division by zero.
SMOOTHING = 0.5


def churn_date(
    profile: CustomerProfile, now: datetime, inactive_days: int = INACTIVE_DAYS
) -> datetime | None:
    """When a customer churned: became a former customer, or went `inactive_days` without activity."""
    if profile.churned_at is not None and profile.churned_at <= now:
        return profile.churned_at
    if profile.last_active_at is not None:
        lapsed = profile.last_active_at + timedelta(days=inactive_days)
        if lapsed <= now:
            return lapsed
    return None


def _window_end(profile: CustomerProfile, now: datetime, inactive_days: int) -> tuple[datetime, bool]:
    """The end of the look-back window (churn date for leavers, now for stayers) and whether they left."""
    churned = churn_date(profile, now, inactive_days)
    return (churned, True) if churned is not None else (now, False)


class _Dated(Protocol):
    @property
    def at(self) -> datetime: ...


_T = TypeVar("_T", bound=_Dated)


def _in_window(items: Iterable[_T], end: datetime, days: int) -> list[_T]:
    """Items dated in [end - days, end)."""
    start = end - timedelta(days=days)
    return [item for item in items if start <= item.at < end]


@dataclass(frozen=True, slots=True)
class CategoryLift:
    """How much more often leavers than stayers had a complaint of one category before the window end."""

    category: str
    leavers_with: int
    leavers: int
    stayers_with: int
    stayers: int

    @property
    def leaver_share(self) -> float:
        """Smoothed share of leavers with this complaint category."""
        return (self.leavers_with + SMOOTHING) / (self.leavers + 2 * SMOOTHING)

    @property
    def stayer_share(self) -> float:
        """Smoothed share of stayers with this complaint category."""
        return (self.stayers_with + SMOOTHING) / (self.stayers + 2 * SMOOTHING)

    @property
    def lift(self) -> float:
        """Leaver share over stayer share: above 1 means the category comes before churn more often."""
        return self.leaver_share / self.stayer_share

    @property
    def churn_rate_with(self) -> float | None:
        """Of customers with this complaint category, the share who left (None if nobody had one)."""
        having = self.leavers_with + self.stayers_with
        return self.leavers_with / having if having else None


def complaint_lift(
    profiles: Sequence[CustomerProfile],
    now: datetime,
    *,
    inactive_days: int = INACTIVE_DAYS,
    window_days: int = WINDOW_DAYS,
) -> list[CategoryLift]:
    """Per complaint category, leavers vs stayers with one in the window before churn (or before now)."""
    leavers = stayers = 0
    leaver_counts: dict[str, int] = {}
    stayer_counts: dict[str, int] = {}
    for profile in profiles:
        end, left = _window_end(profile, now, inactive_days)
        categories = {c.category for c in _in_window(profile.complaints, end, window_days)}
        counts = leaver_counts if left else stayer_counts
        for category in categories:
            counts[category] = counts.get(category, 0) + 1
        if left:
            leavers += 1
        else:
            stayers += 1
    lifts = [
        CategoryLift(cat, leaver_counts.get(cat, 0), leavers, stayer_counts.get(cat, 0), stayers)
        for cat in sorted(set(leaver_counts) | set(stayer_counts))
    ]
    return sorted(lifts, key=lambda lift: (-lift.lift, lift.category))


@dataclass(frozen=True, slots=True)
class HandlingStats:
    """How one group's complaints were handled; None where the group has nothing to measure."""

    customers: int
    complaints: int
    complaints_per_customer: float
    resolved_share: float | None
    median_resolution_hours: float | None
    p90_resolution_hours: float | None
    mean_csat: float | None
    low_csat_share: float | None


@dataclass(frozen=True, slots=True)
class HandlingComparison:
    """Handling of stayers' and leavers' complaints, side by side."""

    stayers: HandlingStats
    leavers: HandlingStats


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _stats(groups: list[tuple[list[ComplaintRecord], list[CsatRating], datetime]]) -> HandlingStats:
    complaints = [c for cs, _, _ in groups for c in cs]
    # A complaint resolved after the window end was still open when the customer left.
    hours = [
        c.resolution_hours
        for cs, _, end in groups
        for c in cs
        if c.resolution_hours is not None and c.resolved_at is not None and c.resolved_at <= end
    ]
    ratings = [r.score for _, rs, _ in groups for r in rs]
    return HandlingStats(
        customers=len(groups),
        complaints=len(complaints),
        complaints_per_customer=len(complaints) / len(groups) if groups else 0.0,
        resolved_share=len(hours) / len(complaints) if complaints else None,
        median_resolution_hours=statistics.median(hours) if hours else None,
        p90_resolution_hours=_percentile(hours, 0.9) if hours else None,
        mean_csat=statistics.fmean(ratings) if ratings else None,
        low_csat_share=sum(1 for s in ratings if s <= 2) / len(ratings) if ratings else None,
    )


def handling_comparison(
    profiles: Sequence[CustomerProfile],
    now: datetime,
    *,
    inactive_days: int = INACTIVE_DAYS,
    window_days: int = WINDOW_DAYS,
) -> HandlingComparison:
    """Resolution times, resolved share and CSAT for leavers (before churn) and stayers (before now)."""
    stayers: list[tuple[list[ComplaintRecord], list[CsatRating], datetime]] = []
    leavers: list[tuple[list[ComplaintRecord], list[CsatRating], datetime]] = []
    for profile in profiles:
        end, left = _window_end(profile, now, inactive_days)
        group = (
            _in_window(profile.complaints, end, window_days),
            _in_window(profile.csat, end, window_days),
            end,
        )
        (leavers if left else stayers).append(group)
    return HandlingComparison(stayers=_stats(stayers), leavers=_stats(leavers))
