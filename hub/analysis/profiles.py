"""From hub records to churn-model inputs: tier and stage vocabulary, former-customer dates, profiles."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.analysis.churn import ComplaintRecord, CsatRating, CustomerProfile

# The hub's tiers are free text; `key` marks key accounts, which sit on contracts like enterprise ones.
TIER_MAP: dict[str, str] = {
    "free": "free",
    "basic": "free",
    "standard": "standard",
    "premium": "premium",
    "pro": "premium",
    "enterprise": "enterprise",
    "key": "enterprise",
}
# The hub's default stage is "customer": an ordinary active customer to the churn model.
STAGE_MAP: dict[str, str] = {
    "lead": "trial",
    "trial": "trial",
    "new": "new",
    "customer": "active",
    "active": "active",
    "loyal": "loyal",
}


def churn_tier(tier: str | None) -> str:
    """The churn model's tier for a hub tier; unknown tiers count as standard (no weight)."""
    return TIER_MAP.get((tier or "").strip().lower(), "standard")


def churn_stage(stage: str | None) -> str:
    """The churn model's lifecycle stage for a hub stage; unknown stages count as active (no weight)."""
    return STAGE_MAP.get((stage or "").strip().lower(), "active")


def is_former(stage: str | None, former_stages: Sequence[str]) -> bool:
    """True when the customer record says they are a former customer."""
    return (stage or "").strip().lower() in former_stages


def became_former_at(
    updates: Iterable[tuple[datetime, Mapping[str, Any]]], former_stages: Sequence[str]
) -> datetime | None:
    """When a customer last moved into a former stage, from their `customer.updated` log entries (at, data)."""
    found: datetime | None = None
    for at, data in sorted(updates, key=lambda u: u[0]):
        after = (data or {}).get("after") or {}
        before = (data or {}).get("before") or {}
        if "lifecycle_stage" not in after:
            continue
        now_former = is_former(after.get("lifecycle_stage"), former_stages)
        was_former = is_former(before.get("lifecycle_stage"), former_stages)
        if now_former and not was_former:
            found = at
        elif not now_former:
            found = None
    return found


@dataclass(slots=True)
class ProfileParts:
    """What the hub's tables say about one customer, gathered before building a CustomerProfile."""

    customer_id: int
    tier: str | None
    stage: str | None
    last_active_at: datetime | None = None
    churned_at: datetime | None = None
    complaints: list[ComplaintRecord] | None = None
    csat: list[CsatRating] | None = None
    contacts: list[datetime] | None = None

    def profile(self) -> CustomerProfile:
        """The churn model's view of this customer."""
        return CustomerProfile(
            customer_id=str(self.customer_id),
            tier=churn_tier(self.tier),
            lifecycle_stage=churn_stage(self.stage),
            complaints=tuple(self.complaints or ()),
            csat=tuple(self.csat or ()),
            contacts=tuple(self.contacts or ()),
            last_active_at=self.last_active_at,
            churned_at=self.churned_at,
        )


def complaint_record(
    opened_at: datetime, category: str, severity: str, resolved_at: datetime | None, threatened: bool
) -> ComplaintRecord:
    """A stored case as the churn model sees it; unknown severities count as low."""
    level = severity if severity in ("low", "medium", "high") else "low"
    return ComplaintRecord(opened_at, category, level, resolved_at, bool(threatened))  # type: ignore[arg-type]


def csat_rating(at: datetime, score: int) -> CsatRating | None:
    """A conversation's CSAT as a rating, or None when the stored score is out of range."""
    return CsatRating(at, int(score)) if 1 <= int(score) <= 5 else None
