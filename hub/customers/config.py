"""Customer-record settings from KEFU_* variables (CSAT and imports); see docs/customers.md."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from hub.customers.csat import DEFAULT_QUESTIONS, LANGUAGES


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _number(env: Mapping[str, str], key: str, default: float, low: float) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number, got {raw!r}") from None
    if value < low:
        raise ValueError(f"{key} must be at least {low:g}, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class CustomerSettings:
    """CSAT behaviour and import limits."""

    csat_enabled: bool = True
    csat_questions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_QUESTIONS))
    csat_delay_s: float = 60.0
    csat_answer_hours: float = 72.0
    csat_sweep_s: float = 5.0
    import_max_bytes: int = 20 * 1024 * 1024
    import_batch: int = 500

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CustomerSettings:
        """Read KEFU_CSAT_* and KEFU_CUSTOMERS_IMPORT_* (bad values raise ValueError at start)."""
        e = os.environ if env is None else env
        questions = dict(DEFAULT_QUESTIONS)
        shared = e.get("KEFU_CSAT_QUESTION", "").strip()
        for language in LANGUAGES:
            specific = e.get(f"KEFU_CSAT_QUESTION_{language.upper()}", "").strip()
            if specific or shared:
                questions[language] = specific or shared
        return cls(
            csat_enabled=_bool(e.get("KEFU_CSAT_ENABLED"), True),
            csat_questions=questions,
            csat_delay_s=_number(e, "KEFU_CSAT_DELAY_SECONDS", 60.0, 0),
            csat_answer_hours=_number(e, "KEFU_CSAT_ANSWER_HOURS", 72.0, 0.01),
            csat_sweep_s=_number(e, "KEFU_CSAT_SWEEP_SECONDS", 5.0, 0.01),
            import_max_bytes=int(_number(e, "KEFU_CUSTOMERS_IMPORT_MAX_MB", 20, 0.001) * 1024 * 1024),
            import_batch=int(_number(e, "KEFU_CUSTOMERS_IMPORT_BATCH", 500, 1)),
        )
