"""Complaint and churn settings from KEFU_COMPLAINT_* and KEFU_CHURN_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """When customers count as gone, how corrections reach the detector, and what the customer is told."""

    inactive_days: int = 90  # KEFU_CHURN_INACTIVE_DAYS: no message for this long -> counted as churned
    window_days: int = 180  # KEFU_CHURN_WINDOW_DAYS: complaints and CSAT looked at before churn (or now)
    former_stages: tuple[str, ...] = ("former", "former_customer", "churned")  # KEFU_CHURN_FORMER_STAGES
    prior_contact_days: int = 14  # KEFU_COMPLAINT_PRIOR_DAYS: earlier conversations that count as chasing
    retrain_delay_s: float = 1.0  # KEFU_COMPLAINT_RETRAIN_DELAY: corrections arriving together, one retrain
    sync_every_s: float = 30.0  # KEFU_COMPLAINT_SYNC_EVERY: look for other processes' corrections
    catch_up_hours: float = 48.0  # KEFU_COMPLAINT_CATCH_UP_HOURS: unscored messages scored at start
    notify_customer: bool = True  # KEFU_COMPLAINT_NOTIFY: tell the customer when their case is resolved
    score_in_process: bool = True  # KEFU_COMPLAINT_PROCESS: score in a child process (off: a thread)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AnalysisSettings:
        """Read the variables named beside each field; unset or empty keeps the default."""
        e = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            key = _ENV[f.name]
            raw = e.get(key, "").strip()
            if not raw:
                continue
            default = getattr(cls(), f.name)
            if isinstance(default, bool):
                values[f.name] = raw.lower() in {"1", "true", "yes", "on"}
            elif isinstance(default, tuple):
                values[f.name] = tuple(s.strip().lower() for s in raw.split(",") if s.strip())
            else:
                try:
                    number = int(raw) if isinstance(default, int) else float(raw)
                except ValueError:
                    raise ValueError(f"{key} must be a number, got {raw!r}") from None
                if number <= 0:
                    raise ValueError(f"{key} must be positive, got {raw!r}")
                values[f.name] = number
        return cls(**values)  # type: ignore[arg-type]


_ENV = {
    "inactive_days": "KEFU_CHURN_INACTIVE_DAYS",
    "window_days": "KEFU_CHURN_WINDOW_DAYS",
    "former_stages": "KEFU_CHURN_FORMER_STAGES",
    "prior_contact_days": "KEFU_COMPLAINT_PRIOR_DAYS",
    "retrain_delay_s": "KEFU_COMPLAINT_RETRAIN_DELAY",
    "sync_every_s": "KEFU_COMPLAINT_SYNC_EVERY",
    "catch_up_hours": "KEFU_COMPLAINT_CATCH_UP_HOURS",
    "notify_customer": "KEFU_COMPLAINT_NOTIFY",
    "score_in_process": "KEFU_COMPLAINT_PROCESS",
}
