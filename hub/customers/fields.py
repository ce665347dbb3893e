"""The customer record's fields, pure: vocabularies, normalisation, and checks with clear errors."""
from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.customers.attributes import AttributeDef, check_attributes
from hub.customers.errors import FieldError

LIFECYCLE_STAGES = ("potential", "prospect", "customer", "former_customer")
TIERS = ("standard", "key")  # "key" marks a key account (routing and the bot treat it first)
EDITABLE = (
    "name", "company", "position", "address", "emails", "phones", "language", "timezone",
    "lifecycle_stage", "tier", "tags", "attributes", "notes",
)
# Record field -> customers column, for the plain text fields.
TEXT_COLUMNS = {"name": "display_name", "company": "company", "position": "position", "address": "address",
                "notes": "notes"}
TEXT_LIMITS = {"name": 200, "company": 200, "position": 200, "address": 2000, "notes": 20_000}
MAX_CONTACTS = 20
MAX_TAGS = 50
MAX_TAG_CHARS = 50

EMAIL = re.compile(r"^[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}$")
PHONE = re.compile(r"^\+?[0-9]{5,20}$")
LANGUAGE = re.compile(r"^([a-z]{2,3})(?:-([a-z0-9]{2,8}))*$", re.I)
_PHONE_NOISE = re.compile(r"[\s\-().·]")
_LIST_SPLIT = re.compile(r"[,;，；、\n]")


@dataclass(frozen=True, slots=True)
class RecordChanges:
    """Checked edits: customers columns, the full email/phone lists when given, attribute changes."""

    columns: dict[str, Any] = field(default_factory=dict)
    emails: list[str] | None = None
    phones: list[str] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when nothing would change."""
        return not self.columns and self.emails is None and self.phones is None and not self.attributes


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def normalize_email(value: str) -> str:
    """An email address as Kefu stores it (trimmed, lower-case), or FieldError."""
    email = value.strip().lower()
    if len(email) > 320 or not EMAIL.match(email):
        raise FieldError("emails", "not a valid email address", code="invalid_email")
    return email


def normalize_phone(value: str) -> str:
    """A phone number without spaces, dashes, dots or brackets (a leading + is kept), or FieldError."""
    phone = _PHONE_NOISE.sub("", value.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not PHONE.match(phone):
        raise FieldError("phones", "a phone number is 5-20 digits, optionally starting with +", code="invalid_phone")
    return phone


def normalize_language(value: str) -> str:
    """A language tag like "zh", "zh-CN" or "en-GB", or FieldError."""
    tag = value.strip().replace("_", "-")
    match = LANGUAGE.match(tag)
    if not match or len(tag) > 16:
        raise FieldError("language", "language must be a tag like zh, zh-CN or en", code="invalid_language")
    head, *rest = tag.split("-")
    return "-".join([head.lower(), *[p.upper() if len(p) == 2 else p for p in rest]])


def normalize_timezone(value: str) -> str:
    """An IANA time zone name (Asia/Shanghai), or FieldError."""
    zone = value.strip()
    if zone not in _zones():
        raise FieldError("timezone", "timezone must be an IANA name like Asia/Shanghai", code="invalid_timezone")
    return zone


def normalize_stage(value: str) -> str:
    """A lifecycle stage ("former customer" is accepted for former_customer), or FieldError."""
    stage = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if stage not in LIFECYCLE_STAGES:
        raise FieldError(
            "lifecycle_stage",
            f"unknown lifecycle stage; use one of {', '.join(LIFECYCLE_STAGES)}",
            code="unknown_lifecycle_stage",
        )
    return stage


def normalize_tier(value: str) -> str:
    """A tier: standard, or key for a key account; FieldError otherwise."""
    tier = value.strip().lower()
    if tier not in TIERS:
        raise FieldError("tier", f"unknown tier; use one of {', '.join(TIERS)}", code="unknown_tier")
    return tier


def normalize_tags(values: list[str]) -> list[str]:
    """Tags trimmed, inner spaces collapsed, duplicates (ignoring case) dropped, order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in values:
        tag = " ".join(raw.split())
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS:
            raise FieldError("tags", f"a tag is at most {MAX_TAG_CHARS} characters", code="invalid_tag")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise FieldError("tags", f"at most {MAX_TAGS} tags", code="invalid_tag")
    return out


def _string_list(name: str, value: Any, from_text: bool) -> list[str]:
    if isinstance(value, str) and from_text:
        return [part for part in (p.strip() for p in _LIST_SPLIT.split(value)) if part]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(name, f"'{name}' must be a list of strings")
    return value


def _contacts(name: str, value: Any, from_text: bool) -> list[str]:
    if value is None:
        return []
    normalize = normalize_email if name == "emails" else normalize_phone
    out: list[str] = []
    for item in _string_list(name, value, from_text):
        if not item.strip():
            continue
        normalized = normalize(item)
        if normalized not in out:
            out.append(normalized)
    if len(out) > MAX_CONTACTS:
        raise FieldError(name, f"at most {MAX_CONTACTS} {name}")
    return out


def _optional_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be a string")
    text = value.strip()
    if len(text) > TEXT_LIMITS[name]:
        raise FieldError(name, f"'{name}' is longer than {TEXT_LIMITS[name]} characters", code="too_long")
    return text or None


def _choice(name: str, value: Any, normalize: Any) -> str:
    if not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be a string")
    return str(normalize(value))


def check_changes(
    data: Mapping[str, Any], definitions: Mapping[str, AttributeDef], *, from_text: bool = False
) -> RecordChanges:
    """Checked, normalised edits from a JSON body or a CSV row; FieldError names the first bad field."""
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        hint = " (use name)" if "display_name" in unknown else (
            " (use emails/phones lists)" if {"email", "phone"} & set(unknown) else "")
        raise FieldError(unknown[0], f"unknown field(s): {', '.join(unknown)}{hint}", code="unknown_field")
    columns: dict[str, Any] = {}
    emails = phones = None
    attributes: dict[str, Any] = {}
    for name, value in data.items():
        if name in TEXT_COLUMNS:
            columns[TEXT_COLUMNS[name]] = _optional_text(name, value)
        elif name == "emails":
            emails = _contacts(name, value, from_text)
        elif name == "phones":
            phones = _contacts(name, value, from_text)
        elif name == "language":
            columns["language"] = None if value in (None, "") else _choice(name, value, normalize_language)
        elif name == "timezone":
            columns["timezone"] = None if value in (None, "") else _choice(name, value, normalize_timezone)
        elif name == "lifecycle_stage":
            columns["lifecycle_stage"] = _choice(name, value, normalize_stage)
        elif name == "tier":
            columns["tier"] = _choice(name, value, normalize_tier)
        elif name == "tags":
            columns["tags"] = normalize_tags(_string_list(name, value if value is not None else [], from_text))
        elif name == "attributes":
            if not isinstance(value, Mapping):
                raise FieldError("attributes", "'attributes' must be an object of key: value")
            attributes = check_attributes(value, definitions, from_text=from_text)
    return RecordChanges(columns=columns, emails=emails, phones=phones, attributes=attributes)
