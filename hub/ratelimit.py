"""Counting what a caller did recently, to refuse more of it for a while (pure; the caller passes the time)."""
from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Hashable


class SlidingWindow:
    """At most `limit` events per key in any `window_s` seconds; a limit of 0 allows everything.

    Memory is bounded: past `max_keys` keys the least recently seen is forgotten, which can only
    let that key through sooner, never refuse anyone wrongly.
    """

    def __init__(self, limit: int, window_s: float, *, max_keys: int = 50_000) -> None:
        if limit < 0 or window_s <= 0 or max_keys < 1:
            raise ValueError("limit must be >= 0, window_s > 0 and max_keys >= 1")
        self.limit = limit
        self.window_s = window_s
        self._max_keys = max_keys
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def retry_after(self, key: Hashable, now: float) -> float:
        """Seconds until `key` may act again; 0 when it may act now."""
        if not self.limit:
            return 0.0
        events = self._events.get(key)
        if events is None:
            return 0.0
        self._expire(events, now)
        if len(events) < self.limit:
            return 0.0
        return max(events[0] + self.window_s - now, 0.0)

    def hit(self, key: Hashable, now: float) -> None:
        """Count one event for `key` at `now`."""
        if not self.limit:
            return
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
            if len(self._events) > self._max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        self._expire(events, now)
        events.append(now)

    def take(self, key: Hashable, now: float) -> float:
        """Count an event if `key` may act now and return 0; else the seconds to wait, counting nothing."""
        wait = self.retry_after(key, now)
        if not wait:
            self.hit(key, now)
        return wait

    def forget(self, key: Hashable) -> None:
        """Drop what was counted for `key`."""
        self._events.pop(key, None)

    def _expire(self, events: deque[float], now: float) -> None:
        while events and events[0] <= now - self.window_s:
            events.popleft()


class LoginGuard:
    """Failed logins, counted per (email, address) and per address: too many and logins wait.

    Per (email, address) stops guessing one agent's password without letting a stranger lock that
    agent out from elsewhere; per address stops one machine trying many emails.
    """

    def __init__(self, max_failures: int, max_failures_per_address: int, window_s: float) -> None:
        self._pair = SlidingWindow(max_failures, window_s)
        self._address = SlidingWindow(max_failures_per_address, window_s)

    def retry_after(self, email: str, address: str, now: float) -> int:
        """Whole seconds until this email may be tried from this address again; 0 when it may now."""
        wait = max(self._pair.retry_after((email.lower(), address), now), self._address.retry_after(address, now))
        return math.ceil(wait)

    def failed(self, email: str, address: str, now: float) -> None:
        """Count a wrong email or password."""
        self._pair.hit((email.lower(), address), now)
        self._address.hit(address, now)

    def succeeded(self, email: str, address: str) -> None:
        """The right password clears the count for this email from this address."""
        self._pair.forget((email.lower(), address))
