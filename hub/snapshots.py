"""Rows as they were written, kept briefly so subscribers right after a write need not read them back."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class _Recent(Generic[V]):
    """A bounded, in-process map of message id → what was written; the oldest go first. Only an
    optimisation: a miss (another process wrote it, or it was evicted) means reading the database."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, V] = OrderedDict()

    def _put(self, message_id: int, value: V) -> None:
        self._items[message_id] = value
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def pop(self, message_id: int) -> V | None:
        """Take one out (each is used once)."""
        return self._items.pop(message_id, None)


class WriteSnapshots(_Recent[tuple[dict[str, Any], dict[str, Any]]]):
    """Message id → (message view, audience) at write time, for the push that follows the write."""

    def __init__(self, capacity: int = 4096) -> None:
        super().__init__(capacity)

    def put(self, message: dict[str, Any], audience: dict[str, Any]) -> None:
        """Remember a message just written and who could see it then."""
        self._put(message["id"], (message, audience))


@dataclass(frozen=True, slots=True)
class InboundFields:
    """What complaint scoring needs of a customer message, as it was written."""

    id: int
    text: str
    channel: str
    conversation_id: int
    customer_id: int
    created_at: datetime


class RecentInbound(_Recent[InboundFields]):
    """The customer messages just written, for the complaint scoring that follows."""

    def __init__(self, capacity: int = 8192) -> None:
        super().__init__(capacity)

    def put(self, fields: InboundFields) -> None:
        """Remember a customer message just written."""
        self._put(fields.id, fields)

    def take(self, message_ids: list[int]) -> tuple[list[InboundFields], list[int]]:
        """Take out the messages held here; returns them and the ids that must be read instead."""
        found: list[InboundFields] = []
        missing: list[int] = []
        for message_id in message_ids:
            fields = self.pop(message_id)
            if fields is None:
                missing.append(message_id)
            else:
                found.append(fields)
        return found, missing
