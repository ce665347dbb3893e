"""The routing service in a running hub: reacts to events, runs the periodic pass, serves the routing API."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

from aiohttp import web
from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import DBAPIError

from hub.actions import SYSTEM, Actions, Actor, agent_actor
from hub.domain import Conflict, NotFound, Presence
from hub.events import ConversationChanged, Event, InProcessBus, MessageQueued
from hub.keys import ACTIONS, BUS, CHANNELS, DATABASE, PUSH
from hub.routing import admin, upkeep, writes
from hub.routing.changes import Ctx, Outcome
from hub.routing.config import RoutingSettings
from hub.routing.lifecycle import out_of_hours_notice
from hub.routing.model import Presence as RoutingPresence
from hub.routing.reads import RoutingReads
from hub.routing.rollups import rollup_tx
from hub.routing.store import load_calendars, load_queues
from hub.routing.transfer import ToAgent, ToQueue
from hub.routing.waitline import queue_positions, typical_wait_seconds
from hub.storage.database import Database
from hub.storage.tables import Message

log = logging.getLogger(__name__)

T = TypeVar("T")
messages = cast(Table, Message.__table__)

# Changes other writers make that can free capacity or move work; routing's own changes need no sync.
_SYNC_CHANGES = frozenset({"assigned", "resolved", "reopened"})
# PostgreSQL: deadlock detected, serialization failure, unique violation from a concurrent twin.
_RETRY_SQLSTATES = frozenset({"40P01", "40001", "23505"})
STOP_GRACE_S = 10.0


class _Push(Protocol):
    def connected_agents(self) -> set[int]: ...


class _Webchat(Protocol):
    async def send_queue_status(self, address: str, frame: dict[str, Any]) -> int: ...

    def connected_addresses(self) -> set[str]: ...


class RoutingService:
    """Runs routing passes (on events and on a timer) and the routing writes the API asks for."""

    def __init__(
        self,
        db: Database,
        bus: InProcessBus,
        actions: Actions,
        settings: RoutingSettings,
        clock: Callable[[], datetime],
        *,
        push: _Push | None = None,
        webchat: _Webchat | None = None,
        node: str | None = None,
    ) -> None:
        self.db = db
        self.bus = bus
        self.actions = actions
        self.settings = settings
        self.clock = clock
        self.push = push
        self.webchat = webchat
        self.node = node or f"{socket.gethostname()}:{os.getpid()}"
        self.reads = RoutingReads(db)
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._last_seen = -float("inf")
        self._last_reconcile = -float("inf")
        self._last_notices = -float("inf")
        self._last_rollup = -float("inf")
        self._sent: dict[str, dict[str, Any]] = {}
        # Agents' replies seen on the bus, stamped on the conversations by the next pass.
        self._agent_notes: dict[int, tuple[int, datetime]] = {}
        # Conversations other writers moved, to bring offers and intervals in step with.
        self._to_sync: set[int] = set()

    # ---------------------------------------------------------------- plumbing

    def ctx(self) -> Ctx:
        """The context for one write: now, settings and this process's name."""
        return Ctx(self.clock(), self.settings, self.node)

    async def write(self, fn: Callable[[Connection, Ctx], T]) -> T:
        """Run a routing write; on PostgreSQL a deadlock or a twin's unique insert is retried."""
        for attempt in range(5):
            ctx = self.ctx()
            try:
                return await self.db.run_write(lambda conn, ctx=ctx: fn(conn, ctx))  # type: ignore[misc]
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) not in _RETRY_SQLSTATES or attempt == 4:
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.02) * 2**attempt)
        raise AssertionError("unreachable")

    async def _read(self, fn: Callable[[Connection, Ctx], T]) -> T:
        """Run a read-only check on a read connection (no writer, no locks)."""
        ctx = self.ctx()
        async with self.db.read() as conn:
            return await conn.run_sync(lambda c: fn(c, ctx))

    async def publish(self, events: Sequence[Event]) -> None:
        """Publish what a committed write reported."""
        for event in events:
            await self.bus.publish(event)

    async def _apply(self, fn: Callable[[Connection, Ctx], Outcome]) -> Outcome:
        outcome = await self.write(fn)
        await self.publish(outcome.events)
        return outcome

    def wake(self) -> None:
        """Ask for a routing pass as soon as possible (several asks make one pass)."""
        self._wake.set()

    async def start(self) -> None:
        """Start the periodic pass."""
        # Repairs and rollups first run one interval after start, away from the start-up rush.
        self._last_reconcile = self._last_rollup = time.monotonic()
        self._running = True
        self._task = asyncio.create_task(self._loop(), name="routing")

    async def stop(self) -> None:
        """Finish the pass under way (cancelling mid-transaction can strand a connection), then stop."""
        self._running = False
        task, self._task = self._task, None
        if task is None:
            return
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=STOP_GRACE_S)
        except TimeoutError:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _loop(self) -> None:
        while self._running:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.tick_s)
            except TimeoutError:
                pass
            self._wake.clear()
            if not self._running:
                return
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing pass failed")
                await asyncio.sleep(min(5.0, self.settings.tick_s))

    # ---------------------------------------------------------------- the pass

    async def run_once(self) -> dict[str, Any]:
        """One routing pass: presence, offer expiry, offers, SLAs, closures, closed-hours notices, visitors."""
        async with self._lock:
            summary: dict[str, Any] = {}
            mono = time.monotonic()
            if mono - self._last_seen >= self.settings.seen_every_s:
                self._last_seen = mono
                await self._mark_seen()
            await self._flush_agent_notes()
            if self._to_sync:
                ids, self._to_sync = self._to_sync, set()
                await self._apply(lambda conn, ctx: upkeep.sync_conversations_tx(conn, ids, ctx))
            due = await self._read(upkeep.due_steps)
            if "presence" in due:
                await self._apply(upkeep.presence_tx)
            if "expire" in due:
                summary.update((await self._apply(writes.expire_offers_tx)).data)
            if "plan" in due or (due & {"expire", "presence"} and await self._read(writes.plan_due)):
                summary.update((await self._apply(writes.plan_tx)).data)
            if "sla" in due:
                await self._apply(upkeep.sla_tx)
            if "closures" in due:
                await self._apply(upkeep.closures_tx)
            if "out_of_hours" in due:
                for notice in (await self._apply(upkeep.out_of_hours_tx)).data.get("notices", []):
                    await self._send_notice(notice)
            if mono - self._last_reconcile >= self.settings.reconcile_every_s:
                self._last_reconcile = mono
                summary.update((await self._apply(upkeep.reconcile_tx)).data)
            if mono - self._last_rollup >= self.settings.rollup_every_s:
                self._last_rollup = mono
                summary["hours_settled"] = await self.roll_up()
            moved = summary.get("offered") or summary.get("assigned")
            if moved or mono - self._last_notices >= self.settings.notice_every_s:
                self._last_notices = mono
                await self.refresh_visitors()
            return summary

    async def roll_up(self) -> int:
        """Sum the next settled hours for fast reports over long ranges."""
        now, settings = self.clock(), self.settings
        return await self.db.run_write(
            lambda conn: rollup_tx(conn, now, settings.sla_threshold_s, settings.short_abandon_s)
        )

    async def _mark_seen(self) -> None:
        if self.push is not None:
            connected = self.push.connected_agents()
            if connected:
                await self.write(lambda conn, ctx: upkeep.touch_agents_tx(conn, connected, ctx))
        if self.webchat is not None:
            visitors = self.webchat.connected_addresses()
            if visitors:
                await self.write(lambda conn, ctx: upkeep.touch_visitors_tx(conn, visitors, ctx))

    async def _send_notice(self, notice: dict[str, Any]) -> None:
        """The queue's closed-hours message, on the conversation's own channel (an email gets an email)."""
        try:
            await self.actions.post_reply(notice["conversation_id"], SYSTEM, notice["message"], automated=True)
        except Exception:
            log.exception("could not send the out-of-hours notice for conversation %s", notice["conversation_id"])

    # ---------------------------------------------------------------- reacting to other writers

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: keep intervals and offers in step with other writers, and route promptly."""
        if not self._running:
            return
        if isinstance(event, ConversationChanged):
            if event.change in _SYNC_CHANGES:
                # Synced by the next pass, several at once (intervals take their times from the row).
                self._to_sync.add(event.conversation_id)
            if event.status == "queued" or event.change == "resolved":
                # New work or a freed slot: route now. Taking or reopening only uses capacity up.
                self.wake()
        elif isinstance(event, MessageQueued) and not event.note:
            await self._note_agent_message(event.message_id, event.conversation_id)

    async def _note_agent_message(self, message_id: int, conversation_id: int) -> None:
        """Remember an agent's reply; the next pass stamps them all in one write (replies are the hot path)."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(messages.c.author, messages.c.agent_id, messages.c.created_at).where(
                        messages.c.id == message_id
                    )
                )
            ).first()
        if row is None or row.author != "agent" or row.agent_id is None:
            return
        known = self._agent_notes.get(conversation_id)
        if known is None or known[1] < row.created_at:
            self._agent_notes[conversation_id] = (row.agent_id, row.created_at)

    async def _flush_agent_notes(self) -> None:
        notes, self._agent_notes = self._agent_notes, {}
        if notes:
            await self.write(lambda conn, ctx: upkeep.note_agent_messages_tx(conn, notes, ctx))

    # ---------------------------------------------------------------- what agents and supervisors do

    async def accept(self, conversation_id: int, agent_id: int) -> None:
        """Accept an offer; a conversation someone else moved meanwhile is a 409."""
        outcome = await self._apply(lambda conn, ctx: writes.accept_offer_tx(conn, conversation_id, agent_id, ctx))
        if outcome.conflict is not None:
            raise Conflict("the conversation was taken or closed meanwhile", code=outcome.conflict)

    async def decline(self, conversation_id: int, agent_id: int) -> None:
        """Decline an offer; routing offers it to someone else at once."""
        await self._apply(lambda conn, ctx: writes.decline_offer_tx(conn, conversation_id, agent_id, ctx))
        self.wake()

    async def transfer(
        self, conversation_id: int, actor_id: int, supervisor: bool, target: ToAgent | ToQueue, note: str | None
    ) -> None:
        """Transfer to an agent or a queue; the note also goes into the conversation as an internal note."""
        await self._apply(
            lambda conn, ctx: writes.transfer_tx(conn, conversation_id, actor_id, supervisor, target, note, ctx)
        )
        if note:
            where = f"agent {target.agent_id}" if isinstance(target, ToAgent) else f"queue {target.queue_id}"
            actor = await self._actor(actor_id)
            await self.actions.add_note(conversation_id, actor, f"Transfer to {where}: {note}")
        self.wake()

    async def _actor(self, agent_id: int) -> Actor:
        rows = await self.reads.agents(agent_id)
        return agent_actor(agent_id, rows[0]["role"])

    async def set_presence(self, agent_id: int, presence: Presence, reason: str) -> None:
        """Set an agent's presence with everything it implies (intervals, offers, requeues)."""
        target = RoutingPresence(presence.value)
        outcome = await self._apply(lambda conn, ctx: upkeep.set_presence_tx(conn, agent_id, target, reason, ctx))
        if outcome.conflict is not None:
            raise NotFound(f"agent {agent_id} does not exist")
        self.wake()

    async def admin(self, fn: Callable[[Connection, Ctx], T]) -> T:
        """Run a settings write (queues, calendars, agents' routing) and route again with the new settings."""
        result = await self.write(fn)
        if isinstance(result, Outcome):
            await self.publish(result.events)
        self.wake()
        return result

    async def set_conversation_routing(self, conversation_id: int, values: dict[str, Any], actor: str) -> None:
        """Set a conversation's priority, required skills or language."""
        await self._apply(
            lambda conn, ctx: admin.set_conversation_routing_tx(conn, conversation_id, values, actor, ctx)
        )
        self.wake()

    # ---------------------------------------------------------------- what web chat customers see

    async def visitor_frame(self, address: str) -> dict[str, Any] | None:
        """The queue frame for one visitor who just connected (None when they are not waiting)."""
        frames = await self._visitor_frames([address])
        frame = frames.get(address)
        if frame is not None and frame.get("status") == "queued":
            self._sent[address] = frame
            return frame
        return None

    async def refresh_visitors(self) -> None:
        """Send changed places in line, waits and closed-hours notices to this process's web chat visitors."""
        if self.webchat is None:
            return
        addresses = sorted(self.webchat.connected_addresses())
        for gone in set(self._sent) - set(addresses):
            del self._sent[gone]
        if not addresses:
            return
        frames = await self._visitor_frames(addresses)
        for address in addresses:
            frame = frames.get(address)
            before = self._sent.get(address)
            if frame is None:
                if before is None or before.get("status") != "queued":
                    continue
                frame = {
                    "type": "queue",
                    "status": "none",
                    "conversation_id": before.get("conversation_id"),
                    "position": None,
                    "waiting": None,
                    "estimated_wait_seconds": None,
                    "closed": None,
                }
            if frame == before or (before is None and frame["status"] != "queued"):
                continue
            self._sent[address] = frame
            await self.webchat.send_queue_status(address, frame)

    async def _visitor_frames(self, addresses: list[str]) -> dict[str, dict[str, Any]]:
        rows = await self.reads.visitor_conversations(addresses)
        if not rows:
            return {}
        now = self.clock()
        waiting_queues = sorted({r.queue_id for r in rows if r.status == "queued" and r.queue_id is not None})
        positions: dict[int, tuple[int, int]] = {}
        asa: dict[int, float] = {}
        closed: dict[int, dict[str, Any] | None] = {}
        if waiting_queues:
            positions = queue_positions(await self.reads.waiting_in(waiting_queues))
            since = now - timedelta(seconds=self.settings.wait_window_s)
            asa = await self.reads.recent_asa(waiting_queues, since, now)
            async with self.db.read() as conn:
                queues = await conn.run_sync(load_queues)
                calendars = await conn.run_sync(load_calendars)
            for queue_id in waiting_queues:
                queue = queues.get(queue_id)
                calendar = calendars.get(queue.calendar_id) if queue and queue.calendar_id else None
                notice = out_of_hours_notice(queue, calendar, now) if queue else None
                closed[queue_id] = (
                    None
                    if notice is None
                    else {
                        "message": notice.message,
                        "opens_at": notice.opens_at.isoformat() if notice.opens_at else None,
                    }
                )
        frames: dict[str, dict[str, Any]] = {}
        for r in sorted(rows, key=lambda r: r.id):
            if r.status == "queued" and r.id in positions:
                position, length = positions[r.id]
                frames[r.address] = {
                    "type": "queue",
                    "status": "queued",
                    "conversation_id": r.id,
                    "position": position,
                    "waiting": length,
                    "estimated_wait_seconds": typical_wait_seconds(asa.get(r.queue_id)),
                    "closed": closed.get(r.queue_id),
                }
            elif r.address not in frames:
                frames[r.address] = {
                    "type": "queue",
                    "status": r.status,
                    "conversation_id": r.id,
                    "position": None,
                    "waiting": None,
                    "estimated_wait_seconds": None,
                    "closed": None,
                }
        return frames


ROUTING_SERVICE = web.AppKey("kefu.routing", RoutingService)


def install(app: web.Application) -> None:
    """Wire routing into a hub: the service, its bus subscription, its API routes and its cleanup context."""
    from agents_ui.routing_api import routes

    webchat = app[CHANNELS].get("webchat")
    service = RoutingService(
        app[DATABASE],
        app[BUS],
        app[ACTIONS],
        RoutingSettings.from_env(),
        app[ACTIONS].clock,
        push=app[PUSH],
        webchat=webchat if hasattr(webchat, "send_queue_status") else None,  # type: ignore[arg-type]
    )
    app[ROUTING_SERVICE] = service
    if webchat is not None and hasattr(webchat, "queue_status"):
        webchat.queue_status = service.visitor_frame
    app[BUS].subscribe(service.on_event, name="routing", events=(ConversationChanged, MessageQueued))
    app.router.add_routes(routes)
    app.cleanup_ctx.append(_routing_ctx)


async def _routing_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[ROUTING_SERVICE]
    await service.start()
    yield
    await service.stop()
