"""Events as JSON on the wire: every event type is registered and survives the trip; anything else is refused."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from itertools import count
from typing import Any, ClassVar

import pytest

import hub.app  # noqa: F401  (imports every subsystem, so every Event subclass is defined)
from hub.events import Event, MessageReceived
from hub.redis_bus import WIRE_TYPES, WireError, decode, encode


def all_event_types() -> list[type[Event]]:
    """Every Event subclass defined at module level (slots=True leaves the pre-slots class behind too)."""
    found: list[type[Event]] = []
    pending = list(Event.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if getattr(sys.modules[cls.__module__], cls.__qualname__, None) is cls:
            found.append(cls)
    return sorted(found, key=lambda c: c.name)


def sample(cls: type[Event], seed: int = 1) -> Event:
    """An instance with a distinct value in every field, of the field's type."""
    n = count(seed * 100)
    values: dict[str, Any] = {}
    for f in fields(cls):
        kind = str(f.type).split("|")[0].strip()
        if kind == "int":
            values[f.name] = next(n)
        elif kind == "str":
            values[f.name] = f"{f.name}-{next(n)} 客服"
        elif kind == "bool":
            values[f.name] = True
        elif kind.startswith("tuple["):
            values[f.name] = (next(n), next(n))
        else:
            raise AssertionError(f"{cls.__name__}.{f.name}: no sample for {f.type}")
    return cls(**values)


def test_every_event_type_is_registered_under_its_name() -> None:
    types = all_event_types()
    assert len(types) >= 18
    missing = [cls.__name__ for cls in types if WIRE_TYPES.get(cls.name) is not cls]
    assert missing == [], f"add these to hub.redis_bus.WIRE_TYPES: {missing}"


@pytest.mark.parametrize("cls", all_event_types(), ids=lambda c: c.name)
def test_every_event_type_round_trips(cls: type[Event]) -> None:
    event = sample(cls)
    payload = encode(event, "node-a")
    assert payload is not None
    node, back = decode(payload)
    assert node == "node-a"
    assert back == event and type(back) is cls
    hash(back)  # tuples came back as tuples, so the frozen event is still hashable


def _message(**overrides: Any) -> bytes:
    base = {"v": 1, "node": "n", "event": "message.received",
            "data": {"message_id": 1, "conversation_id": 2, "customer_id": 3, "new_conversation": True}}
    return json.dumps({**base, **overrides}).encode()


def test_a_well_formed_message_decodes() -> None:
    assert decode(_message()) == ("n", MessageReceived(1, 2, 3, True))


def test_fields_a_newer_process_added_are_ignored_and_defaults_fill_in() -> None:
    data = {"message_id": 1, "conversation_id": 2, "customer_id": 3, "channel_hint": "webchat"}
    assert decode(_message(data=data)) == ("n", MessageReceived(1, 2, 3, False))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "not JSON"),
        (json.dumps([1, 2]).encode(), "known version"),
        (_message(v=2), "known version"),
        (_message(event="message.exploded"), "unknown event type 'message.exploded'"),
        (_message(event=None), "unknown event type None"),
        (_message(data=None), "node or data missing"),
        (_message(node=5), "node or data missing"),
        (_message(data={"message_id": 1, "conversation_id": 2}), "customer_id"),
        (_message(data={"message_id": "1", "conversation_id": 2, "customer_id": 3}), "message_id is not int"),
        (_message(data={"message_id": True, "conversation_id": 2, "customer_id": 3}), "message_id is not int"),
        (_message(event="kb.articles.changed", data={"article_ids": [1, "x"], "versions": [1, 2], "change": "c"}),
         "article_ids"),
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(WireError, match=reason.replace("(", r"\(")):
        decode(raw)


def test_an_event_type_outside_the_registry_is_not_encoded() -> None:
    @dataclass(frozen=True, slots=True)
    class Private(Event):
        name: ClassVar[str] = "test.private"
        x: int

    @dataclass(frozen=True, slots=True)
    class Impostor(Event):
        name: ClassVar[str] = "typing"
        x: int

    assert encode(Private(1), "n") is None
    # A type that borrows a registered name is not mistaken for the registered type.
    assert encode(Impostor(2), "n") is None
