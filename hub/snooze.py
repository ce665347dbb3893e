"""Snoozed conversations wake up: when `snoozed_until` passes, or when the customer writes first.

Driven from the database, not from timers per conversation: one loop per hub process reads the
earliest `snoozed_until` off its index (one cheap query; no write transaction when nothing is due),
then one write clears every due snooze, logs `conversation.woke` and publishes a ConversationChanged
("woke") so the agents' inboxes show the conversation again. Several processes may run the loop: the
update only counts when the row still holds the snooze it read, so each wake happens once. Restarts
lose nothing because the state is the column itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, update

from hub.events import Bus, ConversationChanged, Event, MessageReceived
from hub.storage.database import Database
from hub.storage.tables import Conversation, CustomerEvent

log = logging.getLogger(__name__)

conversations = cast(Table, Conversation.__table__)
events_log = cast(Table, CustomerEvent.__table__)

WAKE_BATCH = 500
DEFAULT_CHECK_S = 5.0


def wake_tx(
    conn: Connection, now: datetime, *, conversation_id: int | None = None, reason: str = "time"
) -> list[Event]:
    """Clear due snoozes (or the one on `conversation_id`, due or not); log each and return the events."""
    c = conversations.c
    query = select(c.id, c.customer_id, c.status, c.assignee_id, c.snoozed_until)
    if conversation_id is not None:
        query = query.where(c.id == conversation_id, c.snoozed_until.is_not(None))
    else:
        query = query.where(c.snoozed_until <= now).order_by(c.snoozed_until).limit(WAKE_BATCH)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    events: list[Event] = []
    entries: list[dict[str, Any]] = []
    for row in rows:
        done = conn.execute(
            update(conversations)
            .where(c.id == row.id, c.snoozed_until == row.snoozed_until)
            .values(snoozed_until=None, updated_at=now)
        )
        if done.rowcount != 1:
            continue  # another process woke it (or the agent changed the snooze) in between
        entries.append(
            {
                "customer_id": row.customer_id,
                "conversation_id": row.id,
                "kind": "conversation.woke",
                "actor": "customer" if reason == "customer_message" else "system",
                "at": now,
                "data": {"reason": reason, "snoozed_until": row.snoozed_until.isoformat()},
            }
        )
        events.append(ConversationChanged(row.id, row.customer_id, row.status, row.assignee_id, "woke"))
    if entries:
        conn.execute(events_log.insert(), entries)
    return events


class SnoozeWaker:
    """One loop per process that wakes due snoozes, plus a bus subscriber for customers writing first."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Callable[[], datetime],
        *,
        check_s: float = DEFAULT_CHECK_S,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.check_s = check_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = False
        # Whether any conversation was snoozed at the last look; while none is, customer messages cost nothing.
        self._any_snoozed = True

    async def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def earliest(self) -> datetime | None:
        """The earliest snooze time of any conversation (read off the index), or None."""
        async with self.db.read() as conn:
            return cast(datetime | None, (await conn.execute(select(func.min(conversations.c.snoozed_until)))).scalar())

    async def run_once(self) -> datetime | None:
        """Wake every due snooze; returns the earliest snooze still to come (None when there is none)."""
        now = self.clock()
        earliest = await self.earliest()
        self._any_snoozed = earliest is not None
        if earliest is None or earliest > now:
            return earliest
        events = await self.db.run_write(lambda conn: wake_tx(conn, now))
        await self._publish(events)
        # A full batch may leave more due: look again at once.
        return now if len(events) >= WAKE_BATCH else await self.earliest()

    async def wake(self, conversation_id: int, reason: str) -> bool:
        """Wake one conversation now, whatever its snooze time; False when it was not snoozed."""
        now = self.clock()
        events = await self.db.run_write(
            lambda conn: wake_tx(conn, now, conversation_id=conversation_id, reason=reason)
        )
        await self._publish(events)
        return bool(events)

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: a customer message wakes its conversation; a new snooze re-plans the loop."""
        if isinstance(event, MessageReceived):
            if self._any_snoozed and await self._is_snoozed(event.conversation_id):
                await self.wake(event.conversation_id, "customer_message")
        else:
            await self.on_remote_event(event)

    async def on_remote_event(self, event: Event) -> None:
        """Bus subscriber for other processes' events too: a new snooze anywhere re-plans the loop."""
        if isinstance(event, ConversationChanged) and "snoozed_until" in event.change:
            self._any_snoozed = True
            self._wake.set()

    async def _is_snoozed(self, conversation_id: int) -> bool:
        async with self.db.read() as conn:
            found = await conn.execute(
                select(conversations.c.snoozed_until).where(conversations.c.id == conversation_id)
            )
            return found.scalar() is not None

    async def start(self) -> None:
        """Start the loop."""
        self._running = True
        self._task = asyncio.create_task(self._loop(), name="snooze-waker")

    async def stop(self, grace_s: float = 10.0) -> None:
        """Let a wake under way finish (cancelling mid-transaction can strand a connection), then stop."""
        self._running = False
        task, self._task = self._task, None
        if task is None:
            return
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace_s)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while self._running:
            delay = self.check_s
            try:
                earliest = await self.run_once()
                if earliest is not None:
                    delay = max(0.05, min(delay, (earliest - self.clock()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("waking snoozed conversations failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)


def check_interval(value: str | None) -> float:
    """KEFU_SNOOZE_CHECK_S: seconds between looks for due snoozes (0.1 to 3600, default 5)."""
    if not value:
        return DEFAULT_CHECK_S
    seconds = float(value)
    if not 0.1 <= seconds <= 3600:
        raise ValueError("KEFU_SNOOZE_CHECK_S must be between 0.1 and 3600")
    return seconds

