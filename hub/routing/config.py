"""Routing settings from KEFU_ROUTING_* and KEFU_METRICS_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    """How often routing runs and when agents and customers count as gone; 0 turns a timeout off."""

    tick_s: float = 1.0  # KEFU_ROUTING_TICK: the periodic pass (offer expiry, SLAs, closures)
    away_after_s: float = 120.0  # KEFU_ROUTING_AWAY_AFTER: available agent without a console -> away
    offline_after_s: float = 900.0  # KEFU_ROUTING_OFFLINE_AFTER: agent without a console -> offline
    seen_every_s: float = 10.0  # KEFU_ROUTING_SEEN_EVERY: how often open sockets mark people as seen
    reconcile_every_s: float = 30.0  # KEFU_ROUTING_RECONCILE_EVERY: repair intervals and stale offers
    decline_memory_s: float = 600.0  # KEFU_ROUTING_DECLINE_MEMORY: a decline or miss is forgotten after
    page_size: int = 1000  # KEFU_ROUTING_PAGE: waiting conversations read per planning page
    wait_window_s: float = 1800.0  # KEFU_ROUTING_WAIT_WINDOW: recent answers behind the wait estimate
    notice_every_s: float = 2.0  # KEFU_ROUTING_NOTICE_EVERY: web chat places in line are refreshed this often
    rollup_every_s: float = 60.0  # KEFU_METRICS_ROLLUP_EVERY: how often settled hours are summed
    sla_threshold_s: float = 60.0  # KEFU_METRICS_THRESHOLD: service-level target wait T
    short_abandon_s: float = 5.0  # KEFU_METRICS_SHORT_ABANDON: shorter abandons are left out

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RoutingSettings:
        """Read the variables named beside each field; unset or empty keeps the default."""
        e = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for f in fields(cls):
            raw = e.get(_ENV[f.name], "").strip()
            if not raw:
                continue
            try:
                value = int(raw) if f.name == "page_size" else float(raw)
            except ValueError:
                raise ValueError(f"{_ENV[f.name]} must be a number, got {raw!r}") from None
            if value < 0 or (f.name in ("tick_s", "page_size") and value <= 0):
                raise ValueError(f"{_ENV[f.name]} must be positive, got {raw!r}")
            values[f.name] = value
        return cls(**values)  # type: ignore[arg-type]


_ENV = {
    "tick_s": "KEFU_ROUTING_TICK",
    "away_after_s": "KEFU_ROUTING_AWAY_AFTER",
    "offline_after_s": "KEFU_ROUTING_OFFLINE_AFTER",
    "seen_every_s": "KEFU_ROUTING_SEEN_EVERY",
    "reconcile_every_s": "KEFU_ROUTING_RECONCILE_EVERY",
    "decline_memory_s": "KEFU_ROUTING_DECLINE_MEMORY",
    "page_size": "KEFU_ROUTING_PAGE",
    "wait_window_s": "KEFU_ROUTING_WAIT_WINDOW",
    "notice_every_s": "KEFU_ROUTING_NOTICE_EVERY",
    "rollup_every_s": "KEFU_METRICS_ROLLUP_EVERY",
    "sla_threshold_s": "KEFU_METRICS_THRESHOLD",
    "short_abandon_s": "KEFU_METRICS_SHORT_ABANDON",
}
