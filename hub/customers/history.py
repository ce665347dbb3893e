"""A record's change history, pure: what changed between two snapshots, and reading it back from the log."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Column names older log entries used, shown under the record's field names.
_LEGACY_NAMES = {"display_name": "name"}


@dataclass(frozen=True, slots=True)
class Change:
    """One field's change in one logged edit."""

    event_id: int
    at: datetime
    actor: str
    source: str
    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        """The change as the API shows it."""
        return {
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "source": self.source,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }


def flatten(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """A snapshot with `attributes` spread into "attributes.<key>" entries, so each attribute diffs alone."""
    flat = {k: v for k, v in snapshot.items() if k != "attributes"}
    for key, value in (snapshot.get("attributes") or {}).items():
        flat[f"attributes.{key}"] = value
    return flat


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ between two snapshots: (old values, new values), None for absent."""
    old, new = flatten(before), flatten(after)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    return {k: old.get(k) for k in changed}, {k: new.get(k) for k in changed}


def changes_in(event_id: int, at: datetime, actor: str, kind: str, data: Mapping[str, Any]) -> list[Change]:
    """The field changes one customer_events row records (customer.updated, or customer.created with values)."""
    if kind not in ("customer.updated", "customer.created"):
        return []
    before = dict(data.get("before") or {})
    after = dict(data.get("after") or {})
    source = str(data.get("source") or ("api" if kind == "customer.updated" else data.get("channel", "system")))
    # Older entries logged whole `attributes` objects; spread them like new ones.
    if isinstance(before.get("attributes"), dict) or isinstance(after.get("attributes"), dict):
        old_attrs = before.pop("attributes", None) or {}
        new_attrs = after.pop("attributes", None) or {}
        for key in sorted(set(old_attrs) | set(new_attrs)):
            if old_attrs.get(key) != new_attrs.get(key):
                before[f"attributes.{key}"] = old_attrs.get(key)
                after[f"attributes.{key}"] = new_attrs.get(key)
    out = []
    for key in sorted(set(before) | set(after)):
        if kind == "customer.updated" and before.get(key) == after.get(key):
            continue
        name = _LEGACY_NAMES.get(key, key)
        out.append(Change(event_id, at, actor, source, name, before.get(key), after.get(key)))
    return out


def matches(change: Change, fields: Iterable[str]) -> bool:
    """True when the change is to one of `fields` ("attributes" matches every attribute)."""
    for name in fields:
        if change.field == name or (name == "attributes" and change.field.startswith("attributes.")):
            return True
    return False
