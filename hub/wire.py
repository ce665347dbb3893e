"""JSON on the hot paths (websocket frames, JSON columns): orjson, because encoding is a real share of a
message's CPU. Anything orjson refuses (a float subclass, an int past 64 bits) falls back to the standard
library, so nothing that encoded before fails now."""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII kept as is (a frame, or a JSON column's value)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """Decode a client's frame; raises ValueError (orjson.JSONDecodeError) on bad JSON, NaN included."""
    return orjson.loads(text)


def column_loads(text: str | bytes) -> Any:
    """Parse a JSON column's value; rows written by the standard library may hold NaN, which orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def stored_string_patterns(value: str) -> tuple[str, ...]:
    """The texts a string may appear as inside a stored JSON list, for a LIKE filter: UTF-8 as written now,
    or ASCII-escaped as the standard library wrote older rows."""
    return tuple(dict.fromkeys((dumps(value), json.dumps(value))))
