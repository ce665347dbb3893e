"""A routed hub with a clock the test moves by hand, and helpers to staff it and fill its queues."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from hub.routing.service import ROUTING_SERVICE, RoutingService
from tests.browser.conftest import browser  # noqa: F401  (Chromium, for the widget story)
from tests.support import AgentSession, add_agent, login, next_frame

# A Monday morning in Shanghai: 10:00 local.
MONDAY_10_SHANGHAI = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class FakeClock:
    """The hub's clock: stands still until the test moves it."""

    def __init__(self, start: datetime = MONDAY_10_SHANGHAI) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class Agent:
    """A logged-in agent with their console socket open."""

    def __init__(self, session: AgentSession, ws: ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.id = session.agent_id

    async def get(self, path: str) -> Any:
        return await self.session.get(path)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.session.post(path, body)

    async def patch(self, path: str, body: dict[str, Any]) -> Any:
        resp = await self.session.client.patch(path, json=body, headers={"X-CSRF-Token": self.session.csrf})
        return resp.status, await resp.json()

    async def delete(self, path: str) -> Any:
        resp = await self.session.client.delete(path, headers={"X-CSRF-Token": self.session.csrf})
        return resp.status, await resp.json()

    async def frame(self, type_: str, timeout: float = 5.0, **fields: Any) -> dict[str, Any]:
        """The next frame of a type whose fields match, skipping others."""
        while True:
            frame = await next_frame(self.ws, type_, timeout)
            if all(frame.get(k) == v for k, v in fields.items()):
                return frame

    async def offers(self) -> list[dict[str, Any]]:
        status, body = await self.get("/api/offers")
        assert status == 200, body
        return list(body["offers"])


class Center:
    """A contact center under test: the hub, its clock, a supervisor, and ways to add agents and customers."""

    def __init__(self, hub: TestClient, clock: FakeClock) -> None:
        self.hub = hub
        self.clock = clock
        self.sessions: list[AgentSession] = []
        self.supervisor: Agent | None = None
        self._external = 0

    @property
    def routing(self) -> RoutingService:
        return self.hub.app[ROUTING_SERVICE]

    async def settle(self) -> None:
        """Run routing passes until the bus is quiet (what the timer and events would do)."""
        for _ in range(3):
            await self.routing.run_once()
            await self.hub.app[BUS].drain()

    async def advance(self, seconds: float) -> None:
        """Let time pass, then let routing notice."""
        self.clock.advance(seconds)
        await self.settle()

    async def login(self, email: str, role: Role = Role.AGENT) -> Agent:
        await add_agent(self.hub, email, role)
        session = await login(self.hub, email)
        self.sessions.append(session)
        ws = await session.client.ws_connect("/api/ws")
        await next_frame(ws, "hello")
        return Agent(session, ws)

    async def boss(self) -> Agent:
        if self.supervisor is None:
            self.supervisor = await self.login("boss@example.com", Role.SUPERVISOR)
        return self.supervisor

    async def queue(self, **settings: Any) -> int:
        status, body = await (await self.boss()).post("/api/queues", settings)
        assert status == 201, body
        return int(body["queue"]["id"])

    async def agent(self, email: str, queues: list[int], **routing: Any) -> Agent:
        """An agent who belongs to some queues, logged in (so available) with the console open."""
        agent = await self.login(email)
        status, body = await (await self.boss()).patch(
            f"/api/agents/{agent.id}/routing", {"queue_ids": queues, **routing}
        )
        assert status == 200, body
        await self.settle()
        return agent

    async def customer_writes(self, text: str, sender: str | None = None, channel: str = "sms") -> int:
        """A customer message arrives (opening a conversation in the default queue); returns the conversation id."""
        self._external += 1
        result = await self.hub.app[ACTIONS].receive_inbound(
            InboundMessage(
                channel=channel,
                external_id=f"ext-{self._external}",
                sender=sender or f"+1555000{self._external:04d}",
                text=text,
            )
        )
        return int(result.conversation_id)

    async def move_to(self, conversation_id: int, queue_id: int) -> None:
        """Put a waiting conversation in a queue directly (as a bot hand-off to that queue would)."""
        from sqlalchemy import update

        from hub.routing.store import conversations

        def tx(conn: Any) -> None:
            conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(queue_id=queue_id))

        await self.hub.app[ACTIONS].db.run_write(tx)

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        status, body = await (await self.boss()).get(f"/api/conversations/{conversation_id}")
        assert status == 200, body
        return dict(body["conversation"])

    async def events(self, customer_id: int) -> list[dict[str, Any]]:
        status, body = await (await self.boss()).get(f"/api/customers/{customer_id}/events")
        assert status == 200, body
        return list(reversed(body["events"]))

    async def close(self) -> None:
        for session in self.sessions:
            await session.client.close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with sessions that outlive the days a test's clock may skip."""
    return replace(settings, session_ttl_hours=24 * 60)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def routing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing driven by the test: no periodic timer to speak of, no auto-away unless a test asks."""
    monkeypatch.setenv("KEFU_ROUTING_TICK", "3600")
    monkeypatch.setenv("KEFU_ROUTING_AWAY_AFTER", "0")
    monkeypatch.setenv("KEFU_ROUTING_OFFLINE_AFTER", "0")
    monkeypatch.setenv("KEFU_ROUTING_SEEN_EVERY", "0")
    monkeypatch.setenv("KEFU_ROUTING_NOTICE_EVERY", "0")


@pytest.fixture
async def center(aiohttp_client: Any, settings: Settings, clock: FakeClock, routing_env: None) -> AsyncIterator[Center]:
    from hub.app import create_app

    hub = await aiohttp_client(create_app(settings, clock=clock))
    c = Center(hub, clock)
    yield c
    await c.close()
