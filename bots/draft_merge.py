"""Three-way merge of two designers' edits to the bot draft, item by item (pure).

Each top-level list of Kefu's bot JSON holds named items (an intent, a response, a synonym...). Given
the content a designer loaded (base), what they made of it (mine) and what the draft holds now
(theirs), an item changed on one side only takes that side's version; changed the same way on both,
either; changed differently on both (a deletion counts as a change), it is a conflict for a person to
settle. Items are compared as wholes: two edits to different examples of one intent conflict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The collections of Kefu's bot JSON, the key naming each item, and the word a designer knows it by.
COLLECTIONS: tuple[tuple[str, str, str], ...] = (
    ("intents", "name", "intent"),
    ("entities", "name", "entity"),
    ("synonyms", "value", "synonym"),
    ("regex_features", "name", "regex"),
    ("lookup_tables", "name", "lookup table"),
    ("responses", "name", "response"),
)


@dataclass(frozen=True, slots=True)
class MergeConflict:
    """One item both sides changed differently."""

    kind: str
    name: str
    mine: str  # "changed", "deleted" or "added"
    theirs: str

    def as_json(self) -> dict[str, str]:
        """The conflict as the API reports it."""
        return {"kind": self.kind, "name": self.name, "mine": self.mine, "theirs": self.theirs}


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged content, whether the other side brought anything, and the items left to a person."""

    content: dict[str, Any]
    took_theirs: bool
    conflicts: tuple[MergeConflict, ...]


def _keyed(content: dict[str, Any], collection: str, key: str) -> dict[str, Any]:
    return {item[key]: item for item in content.get(collection) or ()}


def _change(before: Any, after: Any) -> str:
    if before is None:
        return "added"
    return "deleted" if after is None else "changed"


def merge_drafts(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> MergeResult:
    """Merge mine and theirs, both edited from base; the three must be in the same canonical JSON form."""
    merged: dict[str, Any] = {k: v for k, v in theirs.items() if k not in {c for c, _, _ in COLLECTIONS}}
    conflicts: list[MergeConflict] = []
    took_theirs = False
    for collection, key, kind in COLLECTIONS:
        b, m, t = (_keyed(c, collection, key) for c in (base, mine, theirs))
        chosen: dict[str, Any] = {}
        # Theirs' order, then what only mine has; mine's order when only mine moved items about.
        first, then = (m, t) if list(t) == list(b) else (t, m)
        names = list(dict.fromkeys([*first, *then, *b]))
        for name in names:
            was, now_mine, now_theirs = b.get(name), m.get(name), t.get(name)
            if now_mine == now_theirs or now_theirs == was:
                pick = now_mine
            elif now_mine == was:
                pick, took_theirs = now_theirs, True
            else:
                conflicts.append(MergeConflict(kind, name, _change(was, now_mine), _change(was, now_theirs)))
                continue
            if pick is not None:
                chosen[name] = pick
        merged[collection] = list(chosen.values())
    return MergeResult(merged, took_theirs, tuple(conflicts))
