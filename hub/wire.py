"""JSON for websocket frames: orjson, because encoding frames is a real share of a message's CPU."""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(value: Any) -> str:
    """Encode a frame as compact JSON text (UTF-8, non-ASCII kept as is, like json.dumps(ensure_ascii=False))."""
    return orjson.dumps(value, option=_OPTIONS).decode()


def loads(text: str | bytes) -> Any:
    """Decode a frame; raises ValueError (orjson.JSONDecodeError) on bad JSON."""
    return orjson.loads(text)
