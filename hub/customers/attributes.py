"""Admin-defined custom attributes, pure: checking a definition and checking a value against one."""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from hub.customers.errors import FieldError

TYPES = ("text", "number", "date", "choice")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Keys that would clash with record fields or CSV columns.
RESERVED = frozenset(
    {
        "id", "name", "display_name", "email", "emails", "phone", "phones", "company", "position", "address",
        "language", "timezone", "lifecycle_stage", "tier", "tags", "attributes", "notes", "created_at",
        "updated_at", "merged_into_id", "erased", "erased_at",
    }
)
MAX_CHOICES = 100
MAX_CHOICE_CHARS = 100
DEFAULT_TEXT_LENGTH = 1000
MAX_TEXT_LENGTH = 10_000


@dataclass(frozen=True, slots=True)
class AttributeDef:
    """What an attribute is called, its type, and the rules its values follow."""

    key: str
    label: str
    type: str
    choices: tuple[str, ...] = ()
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    description: str | None = None
    position: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The definition as the API shows it."""
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "choices": list(self.choices),
            "min": self.min_value,
            "max": self.max_value,
            "max_length": self.max_length,
            "description": self.description,
            "position": self.position,
        }


def _text(data: Mapping[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(name, f"'{name}' is required", code="missing_field")
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"'{name}' must be a string")
    value = value.strip()
    if len(value) > limit:
        raise FieldError(name, f"'{name}' is longer than {limit} characters", code="too_long")
    return value


def _number(data: Mapping[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(name, f"'{name}' must be a number")
    return float(value)


def _choices(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise FieldError("choices", "'choices' must be a list of strings")
    cleaned = [c.strip() for c in value]
    if not cleaned or any(not c for c in cleaned):
        raise FieldError("choices", "a choice attribute needs at least one non-empty choice")
    if len(cleaned) > MAX_CHOICES:
        raise FieldError("choices", f"at most {MAX_CHOICES} choices")
    if any(len(c) > MAX_CHOICE_CHARS for c in cleaned):
        raise FieldError("choices", f"a choice is at most {MAX_CHOICE_CHARS} characters")
    if len(set(cleaned)) != len(cleaned):
        raise FieldError("choices", "choices must be different from each other")
    return tuple(cleaned)


_DEF_FIELDS = frozenset({"key", "label", "type", "choices", "min", "max", "max_length", "description", "position"})


def check_definition(data: Mapping[str, Any], current: AttributeDef | None = None) -> AttributeDef:
    """A new definition from JSON, or `current` with the JSON's changes; FieldError on anything wrong."""
    unknown = sorted(set(data) - _DEF_FIELDS)
    if unknown:
        raise FieldError(unknown[0], f"unknown field(s): {', '.join(unknown)}", code="unknown_field")
    if current is None:
        key = _text(data, "key", 40, required=True)
        assert key is not None
        if not KEY.match(key):
            raise FieldError("key", "key must be 1-40 lower-case letters, digits or _, starting with a letter")
        if key in RESERVED:
            raise FieldError("key", f"'{key}' is a record field; choose another key", code="reserved_key")
        kind = _text(data, "type", 16, required=True)
        if kind not in TYPES:
            raise FieldError("type", f"type must be one of {', '.join(TYPES)}", code="invalid_type")
        label = _text(data, "label", 100, required=True)
        assert label is not None
        base = AttributeDef(key=key, label=label, type=kind)
    else:
        if "key" in data and data["key"] != current.key:
            raise FieldError("key", "an attribute's key cannot change; create a new attribute", code="immutable")
        if "type" in data and data["type"] != current.type:
            raise FieldError("type", "an attribute's type cannot change; create a new attribute", code="immutable")
        base = current
        if "label" in data:
            label = _text(data, "label", 100, required=True)
            assert label is not None
            base = replace(base, label=label)
    changes: dict[str, Any] = {}
    if "description" in data:
        changes["description"] = _text(data, "description", 2000, required=False)
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int):
            raise FieldError("position", "'position' must be a whole number")
        changes["position"] = position
    if "choices" in data:
        if base.type != "choice":
            raise FieldError("choices", "only choice attributes have choices")
        changes["choices"] = _choices(data["choices"])
    elif current is None and base.type == "choice":
        raise FieldError("choices", "a choice attribute needs its choices", code="missing_field")
    for name, attr in (("min", "min_value"), ("max", "max_value")):
        if name in data:
            if base.type != "number":
                raise FieldError(name, f"only number attributes have '{name}'")
            changes[attr] = _number(data, name)
    if "max_length" in data:
        if base.type != "text":
            raise FieldError("max_length", "only text attributes have 'max_length'")
        limit = data["max_length"]
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_TEXT_LENGTH
        ):
            raise FieldError("max_length", f"'max_length' must be between 1 and {MAX_TEXT_LENGTH}")
        changes["max_length"] = limit
    result = replace(base, **changes)
    if result.min_value is not None and result.max_value is not None and result.min_value > result.max_value:
        raise FieldError("min", "'min' is larger than 'max'")
    return result


def _parse_number(raw: str) -> float | None:
    try:
        value = float(raw.replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_value(definition: AttributeDef, value: Any, *, from_text: bool = False) -> Any:
    """The value as stored (None removes it), or FieldError; `from_text` accepts CSV strings for numbers."""
    where = f"attributes.{definition.key}"
    if value is None:
        return None
    if definition.type == "number":
        if from_text and isinstance(value, str):
            parsed = _parse_number(value.strip())
            if parsed is None:
                raise FieldError(where, f"{definition.key} must be a number", code="invalid_attribute")
            value = parsed
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise FieldError(where, f"{definition.key} must be a number", code="invalid_attribute")
        if definition.min_value is not None and value < definition.min_value:
            raise FieldError(
                where, f"{definition.key} must be at least {definition.min_value:g}", code="invalid_attribute"
            )
        if definition.max_value is not None and value > definition.max_value:
            raise FieldError(
                where, f"{definition.key} must be at most {definition.max_value:g}", code="invalid_attribute"
            )
        return int(value) if float(value).is_integer() and abs(value) < 2**53 else float(value)
    if not isinstance(value, str):
        raise FieldError(where, f"{definition.key} must be a string", code="invalid_attribute")
    value = value.strip()
    if definition.type == "text":
        limit = definition.max_length or DEFAULT_TEXT_LENGTH
        if len(value) > limit:
            raise FieldError(where, f"{definition.key} is longer than {limit} characters", code="invalid_attribute")
        return value or None
    if definition.type == "date":
        try:
            return date.fromisoformat(value.replace("/", "-")).isoformat()
        except ValueError:
            raise FieldError(
                where, f"{definition.key} must be a date like 2025-03-31", code="invalid_attribute"
            ) from None
    if value not in definition.choices:
        raise FieldError(
            where, f"{definition.key} must be one of: {', '.join(definition.choices)}", code="invalid_attribute"
        )
    return value


def check_attributes(
    changes: Mapping[str, Any], definitions: Mapping[str, AttributeDef], *, from_text: bool = False
) -> dict[str, Any]:
    """Checked attribute changes (key -> stored value, None to remove); unknown keys are an error."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        definition = definitions.get(key)
        if definition is None:
            raise FieldError(f"attributes.{key}", f"no custom attribute '{key}' is defined", code="unknown_attribute")
        out[key] = check_value(definition, value, from_text=from_text)
    return out
