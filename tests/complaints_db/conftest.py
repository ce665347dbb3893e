"""A hub whose clock the test can set, and a support desk: customers writing in, agents and supervisors acting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from channels.base import InboundMessage, utcnow
from hub.analysis.service import ANALYSIS, ComplaintService
from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS, BUS, DATABASE
from hub.storage.tables import Conversation
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
    monkeypatch.setenv("KEFU_COMPLAINT_SYNC_EVERY", "0.2")
    # Tests move the clock by weeks; logins must outlive that.
    settings = replace(settings, session_ttl_hours=24 * 365)
    client = await aiohttp_client(create_app(settings, clock=clock))
    desk = Desk(client, clock)
    await desk.complaints.ready()
    yield desk
    for session in desk.sessions:
        await session.client.close()


MONDAY = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def rated(desk: Desk, conversation_id: int, score: int) -> None:
    """The customer answered the satisfaction survey (the CSAT subsystem stores the score on the conversation)."""
    table = Conversation.__table__
    await desk.hub.app[DATABASE].run_write(
        lambda conn: conn.execute(update(table).where(table.c.id == conversation_id).values(csat_score=score))
    )


async def resolve(desk: Desk, staff: Staff, customer_id: int, note: str) -> None:
    status, body = await staff.get(f"/api/complaints/cases?customer_id={customer_id}&status=in_hand")
    (case,) = body["cases"]
    status, body = await staff.patch(
        f"/api/complaints/cases/{case['id']}", {"status": "resolved", "note": note, "notify": False}
    )
    assert status == 200, body


@pytest.fixture
async def seven_weeks(desk: Desk) -> dict[str, Any]:
    """A: key account, billing complaint resolved in a day, then marked a former customer.
    B: delivery complaint with a threat to leave, never resolved, never wrote again.
    C: only questions. D: product complaint (6 h), then a refund complaint (80 h); still writing.
    E: key account whose app keeps crashing, case open."""
    clock = desk.clock
    clock.set(MONDAY)
    boss = await desk.staff("boss@example.com", Role.SUPERVISOR)
    a = await desk.writes("sms", "+8613800000001", "I was charged a cancellation fee I never agreed to. Unacceptable.")
    b = await desk.writes(
        "email",
        "b@example.com",
        "Third time asking: where is my parcel?! It was due last week. I'm cancelling my account.",
    )
    c = await desk.writes("whatsapp", "+8613800000003", "Do you deliver to Hangzhou on Sundays?")
    assert (await boss.patch(f"/api/customers/{a.customer_id}", {"tier": "key"}))[0] == 200
    await rated(desk, a.conversation_id, 1)
    clock.advance(days=1)
    await resolve(desk, boss, a.customer_id, "Fee refunded.")
    clock.set(MONDAY + 2 * DAY)
    d = await desk.writes("telegram", "tg-4", "The kettle stopped working after two days, the handle cracked too.")
    clock.advance(hours=6)
    await resolve(desk, boss, d.customer_id, "Replacement sent.")
    await rated(desk, d.conversation_id, 5)
    clock.set(MONDAY + 9 * DAY)
    await desk.writes("telegram", "tg-4", "Still no refund after three weeks, this is a joke!!")
    clock.advance(hours=80)
    await resolve(desk, boss, d.customer_id, "Refund issued.")
    clock.set(MONDAY + 10 * DAY)
    assert (await boss.patch(f"/api/customers/{a.customer_id}", {"lifecycle_stage": "former_customer"}))[0] == 200
    clock.set(MONDAY + 40 * DAY)
    await desk.writes("whatsapp", "+8613800000003", "What are your opening hours?")
    await desk.writes("telegram", "tg-4", "Thanks, all sorted now.")
    clock.set(MONDAY + 44 * DAY)
    e = await desk.writes("webchat", "visitor-e", "The app keeps crashing when I try to log in, this is the third day!")
    assert (await boss.patch(f"/api/customers/{e.customer_id}", {"tier": "key"}))[0] == 200
    clock.set(MONDAY + 45 * DAY)
    return {"boss": boss, "a": a, "b": b, "c": c, "d": d, "e": e}
