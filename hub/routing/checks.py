"""Input checks for routing settings sent through the API: plain data in, column values out, or a DomainError."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.domain import DomainError
from hub.routing.calendar import BusinessCalendar
from hub.routing.model import CHAT, EMAIL, Policy, Priority

# Letters and digits of any script (a team's skill may well be 退款), and _ . : - ; no spaces.
_TAG = re.compile(r"^[\w.:\-]{1,64}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_CALENDAR_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
MAX_LIST = 50
MAX_SECONDS = 365 * 86400


def _invalid(name: str, message: str) -> DomainError:
    return DomainError(f"'{name}' {message}", code="invalid_field")


def check_unknown(data: Mapping[str, Any], allowed: set[str]) -> None:
    """Refuse fields the API does not know, so typos are not silently ignored."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DomainError(f"unknown fields: {', '.join(unknown)}", code="unknown_fields")


def check_text(data: Mapping[str, Any], name: str, *, max_len: int, nullable: bool = False) -> str | None:
    """A trimmed non-empty string (or None when allowed)."""
    value = data.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _invalid(name, "must be a non-empty string")
    if len(value) > max_len:
        raise DomainError(f"'{name}' is longer than {max_len} characters", code="too_long")
    return value.strip()


def check_int(
    data: Mapping[str, Any], name: str, *, low: int, high: int = MAX_SECONDS, nullable: bool = False
) -> int | None:
    """A whole number in [low, high] (bools are not numbers here)."""
    value = data.get(name)
    if value is None and nullable:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _invalid(name, f"must be a whole number from {low} to {high}")
    return value


def check_bool(data: Mapping[str, Any], name: str) -> bool:
    """true or false."""
    value = data.get(name)
    if not isinstance(value, bool):
        raise _invalid(name, "must be true or false")
    return value


def check_tags(data: Mapping[str, Any], name: str, pattern: re.Pattern[str] = _TAG) -> list[str]:
    """A list of short tags (skills, languages), without duplicates, in the order given."""
    value = data.get(name)
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise _invalid(name, f"must be a list of at most {MAX_LIST} strings")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise _invalid(name, f"has an invalid entry {item!r}")
        if item not in out:
            out.append(item)
    return out


def check_language(data: Mapping[str, Any], name: str) -> str | None:
    """A language tag such as zh, en or pt-BR (None allowed)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise _invalid(name, "must be a language tag such as zh, en or pt-BR")
    return value


def check_choice(data: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    value = data.get(name)
    if value not in choices:
        raise _invalid(name, f"must be one of {', '.join(choices)}")
    return str(value)


# API field -> (column, check)
_QUEUE_FIELDS: dict[str, tuple[str, Callable[[Mapping[str, Any], str], Any]]] = {
    "name": ("name", lambda d, n: check_text(d, n, max_len=100)),
    "description": ("description", lambda d, n: check_text(d, n, max_len=2000, nullable=True)),
    "skills": ("skills", check_tags),
    "language": ("language", check_language),
    "policy": ("policy", lambda d, n: check_choice(d, n, tuple(p.value for p in Policy))),
    "offer_timeout_seconds": ("offer_timeout_s", lambda d, n: check_int(d, n, low=5, high=3600)),
    "auto_accept": ("auto_accept", check_bool),
    "max_missed_offers": ("max_missed_offers", lambda d, n: check_int(d, n, low=0, high=100)),
    "sla_first_response_seconds": ("sla_first_response_s", lambda d, n: check_int(d, n, low=1, nullable=True)),
    "sla_resolution_seconds": ("sla_resolution_s", lambda d, n: check_int(d, n, low=1, nullable=True)),
    "sla_warn_before_seconds": ("sla_warn_before_s", lambda d, n: check_int(d, n, low=0)),
    "escalate_on_warning": ("escalate_on_warning", check_bool),
    "escalate_on_breach": ("escalate_on_breach", check_bool),
    "calendar_id": ("calendar_id", lambda d, n: check_text(d, n, max_len=64, nullable=True)),
    "out_of_hours_message": ("out_of_hours_message", lambda d, n: check_text(d, n, max_len=2000, nullable=True)),
    "requeue_on_agent_offline": ("requeue_on_agent_offline", lambda d, n: _check_kinds(d, n)),
    "close_inactive_after_seconds": ("close_inactive_after_s", lambda d, n: check_int(d, n, low=1, nullable=True)),
    "abandon_after_seconds": ("abandon_after_s", lambda d, n: check_int(d, n, low=1, nullable=True)),
}
QUEUE_COLUMNS = {api: column for api, (column, _) in _QUEUE_FIELDS.items()}


def _check_kinds(data: Mapping[str, Any], name: str) -> list[str]:
    kinds = check_tags(data, name)
    if not set(kinds) <= {CHAT, EMAIL}:
        raise _invalid(name, f"may only hold {CHAT!r} and {EMAIL!r}")
    return kinds


def check_queue(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Queue settings as column values; creating needs a name, updating takes any subset."""
    check_unknown(data, set(_QUEUE_FIELDS))
    if creating and "name" not in data:
        raise DomainError("'name' is required", code="missing_field")
    if not data:
        raise DomainError("send at least one field to change", code="missing_field")
    return {column: check(data, api) for api, (column, check) in _QUEUE_FIELDS.items() if api in data}


def check_agent_routing(data: Mapping[str, Any]) -> dict[str, Any]:
    """Skills, languages, capacity per channel type and queue ids for one agent (any subset)."""
    check_unknown(data, {"skills", "languages", "capacity", "queue_ids"})
    if not data:
        raise DomainError("send at least one field to change", code="missing_field")
    out: dict[str, Any] = {}
    if "skills" in data:
        out["skills"] = check_tags(data, "skills")
    if "languages" in data:
        out["languages"] = check_tags(data, "languages", _LANGUAGE)
    if "capacity" in data:
        capacity = data["capacity"]
        if not isinstance(capacity, dict) or not set(capacity) <= {CHAT, EMAIL}:
            raise _invalid("capacity", f"must be an object with {CHAT!r} and/or {EMAIL!r}")
        out["capacity"] = {k: check_int(capacity, k, low=0, high=200) for k in sorted(capacity)}
    if "queue_ids" in data:
        ids = data["queue_ids"]
        if (
            not isinstance(ids, list)
            or len(ids) > 500
            or not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)
        ):
            raise _invalid("queue_ids", "must be a list of queue ids")
        out["queue_ids"] = sorted(set(ids))
    return out


def check_calendar(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """A calendar: id (when creating), name, IANA time zone, weekly hours, holidays and dated special hours,
    checked by parsing."""
    allowed = {"id", "name", "timezone", "hours", "holidays", "special_hours"}
    check_unknown(data, allowed if creating else allowed - {"id"})
    out: dict[str, Any] = {}
    if creating:
        for required in ("id", "timezone", "hours"):
            if required not in data:
                raise DomainError(f"'{required}' is required", code="missing_field")
        value = data["id"]
        if not isinstance(value, str) or not _CALENDAR_ID.match(value):
            raise _invalid("id", "must be 1-64 lowercase letters, digits, - or _")
        out["id"] = value
    if "name" in data:
        out["name"] = check_text(data, "name", max_len=200)
    if "timezone" in data:
        zone = data["timezone"]
        try:
            if not isinstance(zone, str):
                raise ValueError(zone)
            ZoneInfo(zone)
        except (ValueError, ZoneInfoNotFoundError):
            raise _invalid("timezone", "must be an IANA time zone such as Asia/Shanghai") from None
        out["timezone"] = zone
    if "hours" in data:
        hours = data["hours"]
        if not isinstance(hours, dict) or not all(
            isinstance(v, list) and all(isinstance(r, str) for r in v) for v in hours.values()
        ):
            raise _invalid("hours", 'must look like {"mon": ["09:00-17:00"], ...}')
        out["hours"] = {str(k): list(v) for k, v in hours.items()}
    if "holidays" in data:
        holidays = data["holidays"]
        if not isinstance(holidays, list) or not all(isinstance(h, str) for h in holidays) or len(holidays) > 500:
            raise _invalid("holidays", 'must be a list like ["12-25", "2026-10-01"]')
        out["holidays"] = list(holidays)
    if "special_hours" in data:
        special = data["special_hours"]
        if not isinstance(special, dict) or len(special) > 1000 or not all(
            isinstance(v, list) and all(isinstance(r, str) for r in v) for v in special.values()
        ):
            raise _invalid("special_hours", 'must look like {"2026-02-14": ["09:00-18:00"], "2026-02-24": []}')
        out["special_hours"] = {str(k): list(v) for k, v in special.items()}
    try:
        BusinessCalendar.from_spec("check", out.get("timezone", "UTC"), out.get("hours", {}), out.get("holidays", []),
                                   out.get("special_hours", {}))
    except ValueError as exc:
        raise DomainError(f"the calendar does not parse: {exc}", code="invalid_calendar") from None
    return out


def check_conversation_routing(data: Mapping[str, Any]) -> dict[str, Any]:
    """Priority, required skills and language of one conversation (what a bot hand-off or supervisor sets)."""
    check_unknown(data, {"priority", "required_skills", "language"})
    if not data:
        raise DomainError("send at least one field to change", code="missing_field")
    out: dict[str, Any] = {}
    if "priority" in data:
        out["priority"] = check_choice(data, "priority", tuple(p.value for p in Priority))
    if "required_skills" in data:
        out["required_skills"] = check_tags(data, "required_skills")
    if "language" in data:
        out["language"] = check_language(data, "language")
    return out
