"""Rows as they were written, kept briefly so subscribers right after a write need not read them back."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class WriteSnapshots:
    """A bounded, in-process map of message id → (message view, audience) at write time.

    Only an optimisation for the push that follows a write in the same process: a miss (another
    process wrote it, or it was evicted) falls back to reading the database.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()

    def put(self, message: dict[str, Any], audience: dict[str, Any]) -> None:
        """Remember a message just written and who could see it then."""
        self._items[message["id"]] = (message, audience)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def pop(self, message_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Take a snapshot out (each is used once, by the push)."""
        return self._items.pop(message_id, None)
