"""RedisBus: the event bus shared by several hub processes over Redis pub/sub (KEFU_REDIS_URL).

Local subscribers get an event at publish, exactly as on InProcessBus; the event also goes to
Redis as JSON with its type name and this process's node id, and every other process hands it to
its subscribers that asked for remote events (`origin="any"` or `"remote"`). A process ignores the
echo of its own events. When Redis is away, local delivery goes on and the link retries with
backoff; see docs/architecture.md (Several processes) for what a remote process misses then.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from hub.config import Settings
from hub.console_writes import AgentMentioned, CannedChanged
from hub.events import EVENT_TYPES, Event, EventTypes, Handler, InProcessBus, Origin, _Subscriber, audience

log = logging.getLogger(__name__)

WIRE_VERSION = 1
OUTGOING_LIMIT = 10_000
PUBLISH_BATCH = 200


def _wire_types(*classes: type[Event]) -> dict[str, type[Event]]:
    types: dict[str, type[Event]] = {}
    for cls in classes:
        if types.setdefault(cls.name, cls) is not cls:
            raise RuntimeError(f"two event types share the wire name {cls.name!r}")
    return types


# Every event type that may cross processes, by wire name. An event type missing here stays in the
# process that published it (with a warning); tests/redis_bus checks that every Event subclass is here.
WIRE_TYPES: dict[str, type[Event]] = _wire_types(*EVENT_TYPES.values(), AgentMentioned, CannedChanged)


class WireError(ValueError):
    """A message from Redis that is not an event this process understands."""


def encode(event: Event, node: str) -> bytes | None:
    """The event as a JSON message from `node`; None for a type that is not in WIRE_TYPES."""
    if WIRE_TYPES.get(event.name) is not type(event):
        return None
    data = {f.name: getattr(event, f.name) for f in fields(event)}
    message = {"v": WIRE_VERSION, "node": node, "event": event.name, "data": data}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


_SCALARS: dict[str, tuple[type, ...]] = {"int": (int,), "str": (str,), "bool": (bool,), "float": (int, float)}


def _fits(annotation: str, value: Any) -> bool:
    """Whether a JSON value fits a field annotated with the simple types events use."""
    for option in (part.strip() for part in annotation.split("|")):
        if option == "None" and value is None:
            return True
        if option in _SCALARS and isinstance(value, _SCALARS[option]):
            if option != "bool" and isinstance(value, bool):
                continue
            return True
        if option.startswith("tuple[") and isinstance(value, tuple):
            inner = option[len("tuple[") :].split(",")[0].strip()
            return all(_fits(inner, v) for v in value)
    return False


def decode(raw: bytes | str) -> tuple[str, Event]:
    """The sending node and the event of a message; WireError if it is not a known, well-formed event."""
    try:
        message = json.loads(raw)
    except ValueError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or message.get("v") != WIRE_VERSION:
        raise WireError("not a Kefu event message of a known version")
    name, node, data = message.get("event"), message.get("node"), message.get("data")
    cls = WIRE_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise WireError(f"unknown event type {name!r}")
    if not isinstance(node, str) or not isinstance(data, dict):
        raise WireError(f"{name}: node or data missing")
    values: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in data:
            continue  # a default fills it, or the constructor below says it is missing
        value = data[f.name]
        value = tuple(value) if isinstance(value, list) else value
        if isinstance(f.type, str) and not _fits(f.type, value):
            raise WireError(f"{name}: field {f.name} is not {f.type}")
        values[f.name] = value
    # Fields this version does not know are ignored, so a newer process can add optional fields.
    try:
        return node, cls(**values)
    except TypeError as exc:
        raise WireError(f"{name}: {exc}") from None


def _safe_url(url: str) -> str:
    """The Redis URL without its password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass
class LinkStats:
    """What the link to Redis did since start (for /healthz, logs and tests)."""

    sent: int = 0
    received: int = 0
    dropped: int = 0
    rejected: int = 0
    connects: int = 0


class RedisBus(InProcessBus):
    """InProcessBus for this process's subscribers, plus Redis pub/sub to and from the other processes."""

    def __init__(
        self,
        url: str,
        prefix: str = "kefu",
        *,
        node: str | None = None,
        max_backoff_s: float = 5.0,
        start_wait_s: float = 2.0,
        ping_every_s: float = 5.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.channel = f"{prefix}:events"
        self.node = node or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.max_backoff_s = max_backoff_s
        self.start_wait_s = start_wait_s
        self.ping_every_s = ping_every_s
        self.stats = LinkStats()
        self._here: list[_Subscriber] = []  # origin local or any: events published in this process
        self._remote: list[_Subscriber] = []  # origin any or remote: events from other processes
        self._here_by_type: dict[type[Event], list[_Subscriber]] = {}
        self._remote_by_type: dict[type[Event], list[_Subscriber]] = {}
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue(maxsize=OUTGOING_LIMIT)
        self._linked = asyncio.Event()
        self._down_since: float | None = time.monotonic()
        self._dropped_before = 0  # stats.dropped when the link was last up
        self._link_task: asyncio.Task[None] | None = None
        self._unsent_types: set[str] = set()
        self._starting = False
        self._on_relink: list[Callable[[], Awaitable[None]]] = []
        self._callbacks: set[asyncio.Task[None]] = set()

    def subscribe(
        self, handler: Handler, *, name: str, origin: Origin = "local", events: EventTypes | None = None
    ) -> None:
        """Register a handler for events of this process ("local"), of all ("any"), or of others ("remote")."""
        sub = _Subscriber(name, handler, events)
        self._subscribers.append(sub)
        if origin != "remote":
            self._here.append(sub)
        if origin != "local":
            self._remote.append(sub)
        self._here_by_type.clear()
        self._remote_by_type.clear()
        if self._running:
            sub.task = asyncio.create_task(sub.run(), name=f"bus:{name}")

    async def publish(self, event: Event) -> None:
        """Queue the event for this process's subscribers, then for Redis (dropped while Redis is away)."""
        for sub in audience(self._here, type(event), self._here_by_type):
            sub.queue.put_nowait(event)
        if not self._linked.is_set():
            self.stats.dropped += 1
            return
        payload = encode(event, self.node)
        if payload is None:
            if event.name not in self._unsent_types:
                self._unsent_types.add(event.name)
                log.warning("event type %s is not in hub.redis_bus.WIRE_TYPES; it stays in this process", event.name)
            return
        try:
            self._outgoing.put_nowait(payload)
        except asyncio.QueueFull:
            self.stats.dropped += 1
            if self.stats.dropped % 1000 == 1:
                log.warning("redis bus: %d events waiting for Redis; dropping (%d so far)", OUTGOING_LIMIT,
                            self.stats.dropped)

    def on_relink(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run callback whenever the link comes (back) while serving: events of other processes were missed."""
        self._on_relink.append(callback)

    def link_status(self) -> str:
        """"ok" while subscribed to Redis, else "unreachable"."""
        return "ok" if self._linked.is_set() else "unreachable"

    async def start(self) -> None:
        """Start the subscribers and the link; wait a moment for Redis, but serve without it."""
        await super().start()
        if self._link_task is None:
            self._link_task = asyncio.create_task(self._link_forever(), name="bus:redis-link")
        self._starting = True
        try:
            await asyncio.wait_for(self._linked.wait(), timeout=self.start_wait_s)
        except TimeoutError:
            log.warning("redis bus: %s is not reachable at start; events stay in this process until it is",
                        _safe_url(self.url))
        finally:
            self._starting = False

    async def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued for Redis (briefly), close the link, then stop the subscribers."""
        if self._linked.is_set():
            try:
                await asyncio.wait_for(self._outgoing.join(), timeout=1.0)
            except TimeoutError:
                log.warning("redis bus: %d events not sent at shutdown", self._outgoing.qsize())
        if self._link_task is not None:
            self._link_task.cancel()
            await asyncio.gather(self._link_task, return_exceptions=True)
            self._link_task = None
        for task in list(self._callbacks):
            task.cancel()
        await super().stop(timeout)

    async def drain(self) -> None:
        """Wait until queued events have gone to Redis and every local subscriber has handled its queue."""
        await self._outgoing.join()
        await super().drain()

    # ---------------------------------------------------------------- the link

    async def _link_forever(self) -> None:
        delay = 0.1
        failures = 0
        while True:
            client = aioredis.Redis.from_url(
                self.url, socket_connect_timeout=2, socket_timeout=5, socket_keepalive=True
            )
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self._up()
                failures, delay = 0, 0.1
                await self._run_link(client, pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, (RedisError, OSError)):
                    log.exception("redis bus: the link failed")
                failures += 1
                self._down(exc, quiet=failures > 1)
            finally:
                self._down(None, quiet=True)
                await asyncio.gather(pubsub.aclose(), client.aclose(), return_exceptions=True)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, self.max_backoff_s)

    async def _run_link(self, client: aioredis.Redis, pubsub: Any) -> None:
        receive = asyncio.create_task(self._receive(pubsub), name="bus:redis-receive")
        transmit = asyncio.create_task(self._transmit(client), name="bus:redis-transmit")
        try:
            done, _ = await asyncio.wait({receive, transmit}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            receive.cancel()
            transmit.cancel()
            await asyncio.gather(receive, transmit, return_exceptions=True)
        for task in done:
            task.result()

    def _up(self) -> None:
        self.stats.connects += 1
        if self._down_since is not None and self.stats.connects > 1:
            log.warning("redis bus: linked to %s again after %.1f s (%d events not sent meanwhile)",
                        _safe_url(self.url), time.monotonic() - self._down_since,
                        self.stats.dropped - self._dropped_before)
        else:
            log.info("redis bus: linked to %s, channel %s, node %s", _safe_url(self.url), self.channel, self.node)
        self._down_since = None
        self._dropped_before = self.stats.dropped
        self._linked.set()
        if not self._starting:
            for callback in self._on_relink:
                task = asyncio.create_task(self._run_callback(callback), name="bus:redis-relinked")
                self._callbacks.add(task)
                task.add_done_callback(self._callbacks.discard)

    async def _run_callback(self, callback: Callable[[], Awaitable[None]]) -> None:
        try:
            await callback()
        except Exception:
            log.exception("redis bus: a relink callback failed")

    def _down(self, exc: BaseException | None, *, quiet: bool) -> None:
        was_up = self._linked.is_set()
        self._linked.clear()
        if self._down_since is None:
            self._down_since = time.monotonic()
        # What was waiting for Redis is dropped, not sent late: remote processes catch up from the database.
        while not self._outgoing.empty():
            self._outgoing.get_nowait()
            self._outgoing.task_done()
            self.stats.dropped += 1
        if exc is not None and (was_up or not quiet):
            log.warning("redis bus: %s unreachable (%s: %s); local delivery goes on, retrying",
                        _safe_url(self.url), type(exc).__name__, exc)

    async def _receive(self, pubsub: Any) -> None:
        # A quiet channel is pinged, so a Redis that hangs or a network that drops packets is noticed too.
        heard = pinged = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=min(1.0, self.ping_every_s))
            now = time.monotonic()
            if message is not None:
                heard = now
            elif now - heard > 3 * self.ping_every_s:
                raise RedisConnectionError(f"no answer from Redis for {now - heard:.1f} s")
            if now - heard >= self.ping_every_s and now - pinged >= self.ping_every_s:
                pinged = now
                await pubsub.ping()
            if message is None or message.get("type") != "message":
                continue
            try:
                node, event = decode(message["data"])
            except WireError as exc:
                self.stats.rejected += 1
                log.warning("redis bus: ignored a message on %s: %s", self.channel, exc)
                continue
            if node == self.node:
                continue  # our own event: local subscribers had it at publish
            self.stats.received += 1
            for sub in audience(self._remote, type(event), self._remote_by_type):
                sub.queue.put_nowait(event)

    async def _transmit(self, client: aioredis.Redis) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while len(batch) < PUBLISH_BATCH and not self._outgoing.empty():
                batch.append(self._outgoing.get_nowait())
            try:
                if len(batch) == 1:
                    await client.publish(self.channel, batch[0])
                else:
                    async with client.pipeline(transaction=False) as pipe:
                        for payload in batch:
                            pipe.publish(self.channel, payload)
                        await pipe.execute()
                self.stats.sent += len(batch)
            except BaseException:
                self.stats.dropped += len(batch)
                raise
            finally:
                for _ in batch:
                    self._outgoing.task_done()


def make_bus(settings: Settings) -> InProcessBus:
    """The bus for these settings: RedisBus when KEFU_REDIS_URL is set, else the in-process one."""
    if settings.redis_url:
        return RedisBus(settings.redis_url, settings.redis_prefix)
    return InProcessBus()
