"""A hub whose clock the test can set, and a support desk: customers writing in, agents and supervisors acting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.base import InboundMessage, utcnow
from hub.analysis.service import ANALYSIS, ComplaintService
from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from tests.support import AgentSession, add_agent, login


class Clock:
    """Real time until a test sets it; then it stands still until moved."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or utcnow()

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta: float) -> datetime:
        self.now = self() + timedelta(**delta)
        return self.now


class Staff:
    """A logged-in agent, supervisor or designer speaking to the API."""

    def __init__(self, session: AgentSession) -> None:
        self.session = session
        self.id = session.agent_id

    async def get(self, path: str) -> Any:
        return await self.session.get(path)

    async def text(self, path: str) -> tuple[int, str, str]:
        resp = await self.session.client.get(path)
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.session.post(path, body)

    async def patch(self, path: str, body: dict[str, Any]) -> Any:
        resp = await self.session.client.patch(path, json=body, headers={"X-CSRF-Token": self.session.csrf})
        return resp.status, await resp.json()


class Desk:
    """The support desk under test: customers write in on any channel, staff log in."""

    def __init__(self, hub: TestClient, clock: Clock) -> None:
        self.hub = hub
        self.clock = clock
        self.sessions: list[AgentSession] = []
        self._n = 0

    @property
    def complaints(self) -> ComplaintService:
        return self.hub.app[ANALYSIS]

    async def settle(self) -> None:
        """Wait until every subscriber (scoring included) has handled what was published."""
        for _ in range(3):
            await self.hub.app[BUS].drain()

    async def writes(self, channel: str, sender: str, text: str, **extra: Any) -> Any:
        """A customer message arrives through the channel port, stamped with the hub's clock; then it is scored."""
        self._n += 1
        result = await self.hub.app[ACTIONS].receive_inbound(
            InboundMessage(
                channel=channel,
                external_id=f"{channel}-{self._n}",
                sender=sender,
                text=text,
                received_at=self.clock(),
                **extra,
            )
        )
        await self.settle()
        return result

    async def staff(self, email: str, role: Role = Role.AGENT) -> Staff:
        await add_agent(self.hub, email, role)
        session = await login(self.hub, email)
        self.sessions.append(session)
        return Staff(session)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def desk(
    aiohttp_client: Any, settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Desk]:
    """A running hub with quick retraining, a 30-day inactivity rule for churn, and year-long logins."""
    from hub.app import create_app

    monkeypatch.setenv("KEFU_COMPLAINT_RETRAIN_DELAY", "0.05")
    monkeypatch.setenv("KEFU_CHURN_INACTIVE_DAYS", "30")
    # Tests move the clock by weeks; logins must outlive that.
    settings = replace(settings, session_ttl_hours=24 * 365)
    client = await aiohttp_client(create_app(settings, clock=clock))
    desk = Desk(client, clock)
    await desk.complaints.ready()
    yield desk
    for session in desk.sessions:
        await session.client.close()


MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
