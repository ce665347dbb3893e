"""Frames and JSON columns are encoded with orjson, and what it refuses still encodes as before."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hub.wire import column_loads, dumps, loads, stored_string_patterns


class Score(float):
    """A float subclass, as libraries hand back (orjson refuses these)."""


def test_frames_are_compact_json_with_chinese_kept_as_is() -> None:
    text = dumps({"type": "message", "text": "你好", "seq": 3, "buttons": []})
    assert text == '{"type":"message","text":"你好","seq":3,"buttons":[]}'
    assert loads(text) == json.loads(text)


def test_what_orjson_refuses_falls_back_to_the_standard_library() -> None:
    value = {"confidence": Score(0.75), "big": 2**70, 7: "int key", "np": np.float64(0.5)}
    assert json.loads(dumps(value)) == {"confidence": 0.75, "big": 2**70, "7": "int key", "np": 0.5}


def test_bad_client_json_is_refused_and_nan_is_not_json() -> None:
    for bad in ("{", '{"a": NaN}', "[1,]"):
        with pytest.raises(ValueError):
            loads(bad)


def test_columns_written_with_nan_by_the_standard_library_still_read() -> None:
    assert math.isnan(column_loads(json.dumps({"x": float("nan")}))["x"])
    assert column_loads('{"a": [1, 2]}') == {"a": [1, 2]}


def test_a_label_is_found_in_json_written_now_and_in_older_ascii_escaped_rows() -> None:
    now, older = dumps(["vip", "退款"]), json.dumps(["vip", "退款"])
    patterns = stored_string_patterns("退款")
    assert any(p in now for p in patterns) and any(p in older for p in patterns)
    assert not any(p in dumps(["退款单"]) for p in patterns)  # a whole label, not part of one
