"""Snoozed conversations wake up: on time (pushed to the agents), when the customer writes, once across
processes, and after a restart (the state is the database column)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from agents_ui.console_api import SNOOZE
from channels.base import InboundMessage
from hub.keys import ACTIONS, BUS, DATABASE
from hub.snooze import SnoozeWaker, check_interval
from hub.storage.tables import Conversation, CustomerEvent
from tests.support import add_agent, next_frame

conversations = Conversation.__table__
events_log = CustomerEvent.__table__


async def customer_writes(hub: TestClient, text: str, external_id: str, sender: str = "+15550100") -> int:
    result = await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel="sms", external_id=external_id, sender=sender, text=text)
    )
    return int(result.conversation_id)


async def snooze(agent: Any, conversation_id: int, until: datetime) -> dict[str, Any]:
    resp = await agent.client.patch(
        f"/api/conversations/{conversation_id}/meta",
        json={"snoozed_until": until.isoformat()},
        headers={"X-CSRF-Token": agent.csrf},
    )
    body = await resp.json()
    assert resp.status == 200, body
    return dict(body["conversation"])


async def wake_log(hub: TestClient, conversation_id: int) -> list[dict[str, Any]]:
    async with hub.app[DATABASE].read() as conn:
        rows = (
            await conn.execute(
                select(events_log.c.actor, events_log.c.data).where(
                    events_log.c.conversation_id == conversation_id, events_log.c.kind == "conversation.woke"
                )
            )
        ).all()
    return [{"actor": r.actor, **r.data} for r in rows]


async def inbox_ids(agent: Any, status: str = "assigned") -> list[int]:
    status_code, body = await agent.get(f"/api/console/inbox?status={status}")
    assert status_code == 200, body
    return [c["id"] for c in body["conversations"]]


async def test_a_snooze_wakes_on_time_and_the_agents_are_told(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    conv = await customer_writes(hub, "call me back tomorrow", "s1")
    status, _ = await mei.post(f"/api/conversations/{conv}/take")
    assert status == 200
    ws = await mei.client.ws_connect("/api/ws")
    await next_frame(ws, "hello")

    body = await snooze(mei, conv, datetime.now(UTC) + timedelta(seconds=1.5))
    assert body["snoozed_until"] is not None
    assert conv not in await inbox_ids(mei)
    frame = await next_frame(ws, "conversation")
    assert frame["change"] == "snoozed_until" and frame["conversation"]["snoozed_until"] is not None

    # The hub's own loop wakes it (no test hook): the frame comes within the snooze plus a little.
    frame = await next_frame(ws, "conversation", timeout=6)
    assert frame["change"] == "woke"
    assert frame["conversation"]["id"] == conv and frame["conversation"]["snoozed_until"] is None
    assert frame["conversation"]["status"] == "assigned" and frame["conversation"]["assignee_id"] == mei.agent_id
    assert conv in await inbox_ids(mei)
    assert [e["reason"] for e in await wake_log(hub, conv)] == ["time"]
    await ws.close()


async def test_a_customer_message_wakes_a_snoozed_conversation(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    conv = await customer_writes(hub, "waiting for the courier", "s2")
    await snooze(mei, conv, datetime.now(UTC) + timedelta(days=2))
    assert conv not in await inbox_ids(mei, "queued")
    await hub.app[BUS].drain()
    ws = await mei.client.ws_connect("/api/ws")
    await next_frame(ws, "hello")

    assert await customer_writes(hub, "the courier never came", "s3") == conv
    await hub.app[BUS].drain()
    await hub.app[BUS].drain()
    frame = await next_frame(ws, "conversation")
    assert frame["change"] == "woke" and frame["conversation"]["snoozed_until"] is None
    assert conv in await inbox_ids(mei, "queued")
    assert [(e["actor"], e["reason"]) for e in await wake_log(hub, conv)] == [("customer", "customer_message")]
    await ws.close()


async def snoozed_at(hub: TestClient, conversation_id: int) -> Any:
    async with hub.app[DATABASE].read() as conn:
        return (
            await conn.execute(select(conversations.c.snoozed_until).where(conversations.c.id == conversation_id))
        ).scalar()


async def test_due_snoozes_wake_once_across_processes_and_after_a_restart(hub: TestClient, login_as: Any) -> None:
    """Two wakers on one database (two hub processes, or one restarted) wake each conversation once."""
    db, bus = hub.app[DATABASE], hub.app[BUS]
    await hub.app[SNOOZE].stop()  # this test drives the wakers itself
    first = await customer_writes(hub, "one", "s4", sender="+15550101")
    second = await customer_writes(hub, "two", "s5", sender="+15550102")
    later = await customer_writes(hub, "three", "s6", sender="+15550103")
    now = datetime.now(UTC)

    def tx(conn: Any) -> None:
        # As if snoozed before a restart: the times passed while no hub ran.
        for conv, when in ((first, now - timedelta(hours=2)), (second, now - timedelta(minutes=1))):
            conn.execute(update(conversations).where(conversations.c.id == conv).values(snoozed_until=when))
        conn.execute(
            update(conversations).where(conversations.c.id == later).values(snoozed_until=now + timedelta(hours=1))
        )

    await db.run_write(tx)
    a = SnoozeWaker(db, bus, hub.app[ACTIONS].clock)
    b = SnoozeWaker(db, bus, hub.app[ACTIONS].clock)

    async def until_nothing_due(waker: SnoozeWaker) -> datetime | None:
        # On PostgreSQL a waker skips rows another transaction holds (routing's pass, say) and reports the
        # snooze still due; its loop tries again 50 ms later, as this does.
        for _ in range(100):
            next_due = await waker.run_once()
            if next_due is None or next_due > datetime.now(UTC):
                return next_due
            await asyncio.sleep(0.02)
        return next_due

    results = [await until_nothing_due(a), await until_nothing_due(b)]
    assert all(r is not None and r > now for r in results), "both now see only the later snooze"
    logged = [len(await wake_log(hub, c)) for c in (first, second, later)]
    assert logged == [1, 1, 0]
    assert await snoozed_at(hub, first) is None and await snoozed_at(hub, second) is None
    assert await snoozed_at(hub, later) is not None
    # Waking one that is not snoozed is a no-op.
    assert await a.wake(first, "customer_message") is False
    assert len(await wake_log(hub, first)) == 1


def test_the_check_interval_setting_is_checked() -> None:
    assert check_interval(None) == 5.0 and check_interval("0.5") == 0.5
    for bad in ("0", "-1", "9999"):
        try:
            check_interval(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} was accepted")
