"""Two RedisBus instances in one test process stand for two hub processes on one Redis."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from hub.config import Settings
from hub.events import Event, InProcessBus, Origin, Typing
from hub.redis_bus import RedisBus, make_bus
from tests.redis_bus.conftest import RedisServer
from tests.redis_bus.test_wire import all_event_types, sample
from tests.support import add_agent, login, next_frame


class Process:
    """A bus with one subscriber of each origin, recording what each saw."""

    def __init__(self, url: str, prefix: str, **options: Any) -> None:
        self.bus = RedisBus(url, prefix, max_backoff_s=0.3, **options)
        self.seen: dict[Origin, list[Event]] = {"local": [], "any": [], "remote": []}
        for origin in self.seen:
            self.bus.subscribe(self._recorder(origin), name=f"record-{origin}", origin=origin)

    def _recorder(self, origin: Origin) -> Callable[[Event], Any]:
        async def record(event: Event) -> None:
            self.seen[origin].append(event)

        return record


@pytest.fixture
async def pair(redis_url: str, prefix: str) -> AsyncIterator[tuple[Process, Process]]:
    a, b = Process(redis_url, prefix), Process(redis_url, prefix)
    await a.bus.start()
    await b.bus.start()
    yield a, b
    await a.bus.stop()
    await b.bus.stop()


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def test_every_event_type_reaches_the_other_process_once_and_never_echoes(
    pair: tuple[Process, Process],
) -> None:
    a, b = pair
    assert a.bus.link_status() == b.bus.link_status() == "ok"
    events = [sample(cls, seed=i) for i, cls in enumerate(all_event_types())]
    for event in events:
        await a.bus.publish(event)
    await a.bus.drain()  # all of A's events are in Redis before B's marker
    marker = Typing(999, "customer", True)
    await b.bus.publish(marker)
    await until(lambda: len(b.seen["remote"]) == len(events) and a.seen["remote"] == [marker])
    await a.bus.drain()
    await b.bus.drain()

    assert b.seen["remote"] == events  # every type, equal field by field, in publish order
    # B's marker and A's events race inside B: each is there once, in any order.
    assert sorted(map(repr, b.seen["any"])) == sorted(map(repr, [marker, *events]))
    assert b.seen["local"] == [marker]
    # A's own events came back from Redis before B's marker did, and were ignored: each seen once.
    assert a.seen["local"] == events
    assert a.seen["any"] == [*events, marker]
    assert a.bus.stats.received == 1 and b.bus.stats.received == len(events)
    assert a.bus.stats.sent == len(events) and a.bus.stats.dropped == 0


async def test_unknown_or_broken_messages_are_logged_and_skipped(
    pair: tuple[Process, Process], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = pair
    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.publish(b.bus.channel, b'{"v": 1, "node": "x", "event": "message.exploded", "data": {}}')
        await client.publish(b.bus.channel, b"\xff\xfe not json")
    finally:
        await client.aclose()
    event = Typing(5, "agent", False, 1)
    with caplog.at_level(logging.WARNING, logger="hub.redis_bus"):
        await a.bus.publish(event)
        await until(lambda: b.seen["remote"] == [event])
    assert b.bus.stats.rejected == 2
    assert "unknown event type 'message.exploded'" in caplog.text
    assert "not JSON" in caplog.text


async def test_in_one_process_remote_subscribers_never_run() -> None:
    bus = InProcessBus()
    seen: list[tuple[str, Event]] = []
    for origin in ("local", "any", "remote"):
        async def record(event: Event, origin: str = origin) -> None:
            seen.append((origin, event))

        bus.subscribe(record, name=origin, origin=origin)  # type: ignore[arg-type]
    await bus.start()
    await bus.publish(Typing(1, "agent", True))
    await bus.drain()
    await bus.stop()
    assert sorted(o for o, _ in seen) == ["any", "local"]


def test_make_bus_needs_a_url_for_redis(tmp_path: Path) -> None:
    assert type(make_bus(Settings(data_dir=tmp_path))) is InProcessBus
    bus = make_bus(Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0", redis_prefix="acme"))
    assert isinstance(bus, RedisBus) and bus.channel == "acme:events"
    env = Settings.from_env({"KEFU_REDIS_URL": "redis://r:6379/2", "KEFU_REDIS_PREFIX": "p"})
    assert (env.redis_url, env.redis_prefix) == ("redis://r:6379/2", "p")
    assert Settings.from_env({}).redis_prefix == "kefu"


async def test_redis_restarts_local_delivery_goes_on_and_the_link_comes_back(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hub.redis_bus")
    a, b = Process(own_redis.url, "restart"), Process(own_redis.url, "restart")
    await a.bus.start()
    await b.bus.start()
    try:
        before = Typing(1, "agent", True, 7)
        await a.bus.publish(before)
        await until(lambda: b.seen["remote"] == [before])

        await own_redis.stop()
        await until(lambda: a.bus.link_status() == b.bus.link_status() == "unreachable")
        during = Typing(2, "agent", True, 7)
        await a.bus.publish(during)
        await until(lambda: a.seen["local"] == [before, during])  # this process still gets its own events
        assert a.bus.stats.dropped == 1

        await own_redis.start()
        await until(lambda: a.bus.link_status() == b.bus.link_status() == "ok", timeout=10)
        after = Typing(3, "agent", True, 7)
        await a.bus.publish(after)
        await until(lambda: b.seen["remote"] == [before, after])
        await asyncio.sleep(0.2)
        assert b.seen["remote"] == [before, after]  # what was published while Redis was away is gone
        assert a.seen["local"] == [before, during, after]
        assert a.bus.stats.connects == b.bus.stats.connects == 2
        assert "again after" in caplog.text and "(1 events not sent meanwhile)" in caplog.text
    finally:
        await a.bus.stop()
        await b.bus.stop()
    assert "unreachable (ConnectionError" in caplog.text
    assert f"linked to redis://127.0.0.1:{own_redis.port}/0 again after" in caplog.text


async def test_a_redis_that_stops_answering_is_noticed_even_by_a_quiet_subscriber(own_redis: RedisServer) -> None:
    a = Process(own_redis.url, "frozen", ping_every_s=0.3)
    b = Process(own_redis.url, "frozen", ping_every_s=0.3)
    await a.bus.start()
    await b.bus.start()
    try:
        own_redis.pause()  # the sockets stay open; nothing answers
        await until(lambda: a.bus.link_status() == b.bus.link_status() == "unreachable", timeout=5)
        own_redis.resume()
        await until(lambda: a.bus.link_status() == b.bus.link_status() == "ok", timeout=10)
        event = Typing(6, "agent", True, 2)
        await a.bus.publish(event)
        await until(lambda: b.seen["remote"] == [event])
    finally:
        await a.bus.stop()
        await b.bus.stop()


async def test_a_process_that_starts_while_redis_is_away_links_later(own_redis: RedisServer) -> None:
    await own_redis.stop()
    a = Process(own_redis.url, "late", start_wait_s=0.2)
    b = Process(own_redis.url, "late", start_wait_s=0.2)
    await a.bus.start()  # returns: the hub serves without Redis
    await b.bus.start()
    try:
        assert a.bus.link_status() == "unreachable"
        await own_redis.start()
        await until(lambda: a.bus.link_status() == b.bus.link_status() == "ok", timeout=10)
        event = Typing(4, "customer", False)
        await b.bus.publish(event)
        await until(lambda: a.seen["remote"] == [event])
    finally:
        await a.bus.stop()
        await b.bus.stop()


async def test_healthz_says_degraded_but_serves_while_redis_is_away_then_sockets_resync(
    aiohttp_client: Any, own_redis: RedisServer, tmp_path: Path
) -> None:
    from hub.app import create_app

    hub: TestClient = await aiohttp_client(create_app(Settings(data_dir=tmp_path, redis_url=own_redis.url)))
    resp = await hub.get("/healthz")
    assert (resp.status, await resp.json()) == (200, {"status": "ok", "database": "ok", "redis": "ok"})
    await add_agent(hub, "li@example.com")
    agent = await login(hub, "li@example.com")
    console = await agent.client.ws_connect("/api/ws")
    await next_frame(console, "hello")
    chat = await hub.ws_connect("/webchat/ws")
    await chat.send_json({"type": "hello"})
    await next_frame(chat, "welcome")

    await own_redis.stop()
    async with asyncio.timeout(5):
        while (body := await (await hub.get("/healthz")).json())["redis"] == "ok":
            await asyncio.sleep(0.05)
    resp = await hub.get("/healthz")
    assert (resp.status, await resp.json()) == (200, {"status": "degraded", "database": "ok", "redis": "unreachable"})
    assert body["status"] == "degraded"
    # Losing Redis closes nothing: this process's own events still reach its sockets.
    await chat.send_json({"type": "ping"})
    await next_frame(chat, "pong")
    await console.send_json({"type": "ping"})
    await next_frame(console, "pong")

    await own_redis.start()
    async with asyncio.timeout(10):
        while (await (await hub.get("/healthz")).json())["redis"] != "ok":
            await asyncio.sleep(0.05)
    # Back: the sockets are closed once, so clients reconnect and resume what other processes sent meanwhile.
    for ws in (chat, console):
        async with asyncio.timeout(5):
            while (await ws.receive()).type not in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
                pass
    await agent.client.close()
