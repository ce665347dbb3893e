"""Customers who leave, chats that go quiet, and the supervisor's figures computed from what was stored."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.webchat.protocol import visitor_address
from hub.keys import CHANNELS
from tests.routing_db.conftest import MONDAY_10_SHANGHAI, Center
from tests.support import next_frame

T0 = MONDAY_10_SHANGHAI


async def open_chat(hub: TestClient, text: str) -> tuple[Any, int]:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    ws.address = visitor_address((await next_frame(ws, "welcome"))["token"])
    await ws.send_json({"type": "message", "client_id": "c1", "text": text})
    return ws, int((await next_frame(ws, "ack"))["conversation_id"])


async def leave(center: Center, ws: Any) -> None:
    """The customer closes the tab; wait until the hub has noticed."""
    await ws.close()
    webchat = center.hub.app[CHANNELS]["webchat"]
    async with asyncio.timeout(5):
        while ws.address in webchat.connected_addresses():  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)


async def general_queue(center: Center, **settings: Any) -> int:
    """Configure the queue every new conversation starts in."""
    boss = await center.boss()
    status, body = await boss.get("/api/queues")
    (general,) = [q for q in body["queues"] if q["name"] == "General"]
    status, body = await boss.patch(f"/api/queues/{general['id']}", settings)
    assert status == 200, body
    return int(general["id"])


async def test_a_web_chat_customer_who_leaves_unanswered_is_recorded_as_abandoned_when_last_seen(
    center: Center,
) -> None:
    await general_queue(center, abandon_after_seconds=120)
    gone, left_id = await open_chat(center.hub, "hello?")
    staying, stays_id = await open_chat(center.hub, "I'll wait")
    await center.advance(30)
    await leave(center, gone)

    await center.advance(119)
    assert (await center.conversation(left_id))["status"] == "queued"
    await center.advance(1)
    closed = await center.conversation(left_id)
    assert closed["status"] == "resolved" and closed["resolved_at"] == (T0 + timedelta(seconds=150)).isoformat()
    (event,) = [e for e in await center.events(closed["customer_id"]) if e["kind"] == "conversation.abandoned"]
    assert event["data"] == {"reason": "customer_left", "abandoned_at": (T0 + timedelta(seconds=30)).isoformat()}

    # An open widget is a customer still there, however long the wait.
    await center.advance(3600)
    assert (await center.conversation(stays_id))["status"] == "queued"
    await staying.close()


async def test_a_chat_the_customer_lets_go_quiet_is_closed_but_never_one_waiting_for_the_agent(center: Center) -> None:
    general = await general_queue(center, close_inactive_after_seconds=600, auto_accept=True)
    ana = await center.agent("ana@example.com", [general])
    quiet = await center.customer_writes("How do I reset my password?", sender="+15550001")
    waiting = await center.customer_writes("Where is my refund?", sender="+15550002")
    await center.advance(5)
    for conversation_id in (quiet, waiting):
        status, _ = await ana.post(f"/api/conversations/{conversation_id}/messages", {"text": "Did that help?"})
        assert status == 201
    await center.advance(300)
    await center.customer_writes("Not yet, still nothing", sender="+15550002")

    await center.advance(300)
    assert (await center.conversation(quiet))["status"] == "resolved"
    assert (await center.conversation(waiting))["status"] == "assigned"
    customer = (await center.conversation(quiet))["customer_id"]
    assert "conversation.closed_inactive" in [e["kind"] for e in await center.events(customer)]


async def test_the_supervisor_sees_the_hand_computed_figures_for_a_quarter_hour(center: Center) -> None:
    """docs/metrics.md by hand: T = 60 s, short abandon 5 s, range [T0, T0+1000 s), now = T0+1000 s."""
    general = await general_queue(center, abandon_after_seconds=60, offer_timeout_seconds=3600, max_missed_offers=0)
    ana = await center.agent("ana@example.com", [general])  # available from T0

    c1 = await center.customer_writes("one", sender="+15550001")  # enqueued T0
    await center.advance(10)
    await ana.post(f"/api/offers/{c1}/accept")  # assigned T0+10
    await center.advance(20)
    await ana.post(f"/api/conversations/{c1}/messages", {"text": "hi"})  # answered in 30 s

    await center.advance(70)
    c2 = await center.customer_writes("two", sender="+15550002")  # enqueued T0+100
    await center.advance(50)
    await ana.post(f"/api/offers/{c2}/accept")  # assigned T0+150
    await center.advance(70)
    await ana.post(f"/api/conversations/{c2}/messages", {"text": "hi"})  # answered in 120 s, still open

    await center.advance(80)
    gone_fast, _ = await open_chat(center.hub, "three")  # T0+300, leaves at once: a short abandon
    await leave(center, gone_fast)
    await center.advance(100)
    gone_late, _ = await open_chat(center.hub, "four")  # T0+400
    await center.advance(80)
    await leave(center, gone_late)  # last seen T0+480: abandoned after 80 s
    await center.advance(150)
    status, _ = await ana.post(f"/api/conversations/{c1}/resolve")  # T0+630: handled 620 s
    assert status == 200
    await center.advance(270)
    await center.customer_writes("five", sender="+15550005")  # T0+900, still waiting
    await center.advance(100)

    boss = await center.boss()
    span = f"from={T0.isoformat().replace('+00:00', 'Z')}&to={(T0 + timedelta(seconds=1000)).isoformat()}"
    status, body = await boss.get(f"/api/metrics/queues?{span}".replace("+", "%2B"))
    assert status == 200, body
    (figures,) = [q for q in body["queues"] if q["queue_id"] == general]
    assert figures == {
        "queue_id": general,
        "name": "General",
        "waiting_now": 1,
        "longest_wait_seconds": pytest.approx(100),
        "answered": 2,
        "answered_within_threshold": 1,
        "abandoned": 1,
        "short_abandoned": 1,
        "service_level": pytest.approx(1 / 3),
        "average_speed_of_answer_seconds": pytest.approx(75),
        "handled": 1,
        "average_handle_time_seconds": pytest.approx(620),
        "abandonment_rate": pytest.approx(1 / 3),
    }

    status, body = await boss.get(f"/api/metrics/agents?{span}".replace("+", "%2B"))
    (mine,) = [a for a in body["agents"] if a["agent_id"] == ana.id]
    # Available the whole 1000 s; holding c1 from 10 s and c2 from 150 s: busy from 10 s to the end.
    assert mine["handled"] == 1 and mine["average_handle_time_seconds"] == pytest.approx(620)
    assert (mine["available_seconds"], mine["handling_seconds"]) == (pytest.approx(1000), pytest.approx(990))
    assert mine["occupancy"] == pytest.approx(0.99)

    # A narrower window counts only what happened inside it.
    later = f"from={(T0 + timedelta(seconds=500)).isoformat()}&to={(T0 + timedelta(seconds=700)).isoformat()}"
    status, body = await boss.get(f"/api/metrics/queues?{later}&threshold=20".replace("+", "%2B"))
    (window,) = [q for q in body["queues"] if q["queue_id"] == general]
    assert (window["answered"], window["abandoned"], window["handled"], window["service_level"]) == (0, 0, 1, None)


async def test_metrics_requests_are_checked(center: Center) -> None:
    boss = await center.boss()
    agent = await center.login("plain@example.com")
    assert (await agent.get("/api/metrics/queues"))[0] == 403
    bad = [
        ("/api/metrics/queues?from=yesterday", "invalid_range"),
        ("/api/metrics/queues?from=2026-03-02T10:00:00", "invalid_range"),
        ("/api/metrics/agents?from=2026-03-02T10:00:00Z&to=2026-03-02T09:00:00Z", "invalid_range"),
        ("/api/metrics/queues?threshold=soon", "invalid_field"),
        ("/api/metrics/queues?short_abandon=-1", "invalid_field"),
    ]
    for path, code in bad:
        status, body = await boss.get(path)
        assert (status, body["error"]) == (400, code), path
    status, body = await boss.get("/api/metrics/queues")
    assert status == 200 and body["to"] == T0.isoformat()
