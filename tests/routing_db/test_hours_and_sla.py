"""Business hours: SLA clocks that only run while the team works, and what customers hear when it does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from tests.routing_db.conftest import Center
from tests.support import next_frame

OFFICE = {
    "id": "cn-office",
    "name": "Shanghai office",
    "timezone": "Asia/Shanghai",
    "hours": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-03-03"],
}


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall time in Shanghai (UTC+8, no daylight saving) in March 2026, as UTC."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def open_chat(hub: TestClient, token: str | None = None) -> Any:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello", **({"token": token} if token else {})})
    ws.token = (await next_frame(ws, "welcome"))["token"]
    return ws


async def queue_frame(ws: Any, **fields: Any) -> dict[str, Any]:
    """The next "queue" frame whose fields match (earlier ones described an older state)."""
    while True:
        frame = await next_frame(ws, "queue")
        if all(frame.get(k) == v for k, v in fields.items()):
            return frame


async def test_an_sla_counts_business_hours_only_then_warns_breaches_and_escalates(center: Center) -> None:
    boss = await center.boss()
    status, body = await boss.post("/api/calendars", OFFICE)
    assert status == 201, body
    support = await center.queue(
        name="Support", calendar_id="cn-office", sla_first_response_seconds=3600, sla_warn_before_seconds=600
    )
    center.clock.now = shanghai(2, 17, 30)  # Monday 17:30: half an hour of the hour is left today
    conversation_id = await center.customer_writes("Our payment terminal is down")
    await center.move_to(conversation_id, support)
    await center.settle()
    customer_id = (await center.conversation(conversation_id))["customer_id"]

    # Tuesday is a holiday; Wednesday 09:20 is 50 business minutes in, the warning mark.
    center.clock.now = shanghai(4, 9, 19)
    await center.settle()
    assert not [e for e in await center.events(customer_id) if e["kind"].startswith("routing.sla")]

    center.clock.now = shanghai(4, 9, 20)
    await center.settle()
    warning = await boss.frame("sla", kind="warning")
    assert warning["target"] == "first_response" and warning["due_at"] == shanghai(4, 9, 30).isoformat()
    assert (await center.conversation(conversation_id))["priority"] == "normal"

    center.clock.now = shanghai(4, 9, 30)
    await center.settle()
    assert (await boss.frame("sla", kind="breach"))["conversation_id"] == conversation_id
    assert (await center.conversation(conversation_id))["priority"] == "high"

    await center.advance(3600)
    kinds = [e["kind"] for e in await center.events(customer_id)]
    assert kinds.count("routing.sla_warning") == 1 and kinds.count("routing.sla_breach") == 1
    assert kinds.count("conversation.escalated") == 1


async def test_out_of_hours_customers_are_told_once_on_their_own_channel_and_wait(center: Center) -> None:
    boss = await center.boss()
    await boss.post("/api/calendars", OFFICE)
    closed = "We are closed now; we answer from 09:00 Beijing time."
    support = await center.queue(name="Support", calendar_id="cn-office", out_of_hours_message=closed)
    center.clock.now = shanghai(2, 20, 0)  # Monday evening

    sms = await center.customer_writes("Is my order shipped?", sender="+8613800138000")
    email = await center.customer_writes("Invoice please", sender="li@example.com", channel="email")
    visitor = await open_chat(center.hub)
    await visitor.send_json({"type": "message", "client_id": "c1", "text": "有人吗？"})
    chat = (await next_frame(visitor, "ack"))["conversation_id"]
    for conversation_id in (sms, email, chat):
        await center.move_to(conversation_id, support)
    await center.settle()

    # The web chat shows the notice with the next opening (Wednesday 09:00: Tuesday is a holiday).
    notice = await queue_frame(visitor, closed={"message": closed, "opens_at": shanghai(4, 9, 0).isoformat()})
    assert notice["status"] == "queued"
    for conversation_id, channel in ((sms, "sms"), (email, "email"), (chat, "webchat")):
        status, detail = await boss.get(f"/api/conversations/{conversation_id}")
        replies = [m for m in detail["messages"] if m["direction"] == "out"]
        assert [(m["text"], m["author"], m["channel"], m["automated"]) for m in replies] == [
            (closed, "system", channel, True)
        ]
        assert detail["conversation"]["status"] == "queued"

    await center.customer_writes("Hello??", sender="+8613800138000")
    await center.advance(600)
    status, detail = await boss.get(f"/api/conversations/{sms}")
    assert len([m for m in detail["messages"] if m["direction"] == "out"]) == 1

    # Morning comes: the notice gives way to the place in line.
    center.clock.now = shanghai(4, 9, 0)
    await center.settle()
    morning = await queue_frame(visitor, closed=None)
    assert (morning["position"], morning["waiting"]) == (3, 3)
    await visitor.close()


async def test_a_waiting_web_chat_customer_sees_their_place_and_the_typical_wait_change_live(center: Center) -> None:
    support = await center.queue(name="Support")
    first, second = await open_chat(center.hub), await open_chat(center.hub)
    ids = []
    for i, ws in enumerate((first, second)):
        await ws.send_json({"type": "message", "client_id": f"c{i}", "text": "hi"})
        ids.append((await next_frame(ws, "ack"))["conversation_id"])
        await center.move_to(ids[-1], support)
        center.clock.advance(10)
    await center.settle()
    told = await queue_frame(first, waiting=2)
    assert (told["position"], told["estimated_wait_seconds"]) == (1, None)  # nobody answered lately: no promise
    assert (await queue_frame(second, waiting=2))["position"] == 2

    ana = await center.agent("ana@example.com", [support], capacity={"chat": 1})
    await center.advance(25)
    status, _ = await ana.post(f"/api/offers/{ids[0]}/accept")
    assert status == 200
    await ana.post(f"/api/conversations/{ids[0]}/messages", {"text": "Hello, how can I help?"})
    await center.settle()
    # The first customer waited 45 s for an answer; the second is now first in line and told about 50 s.
    moved_up = await queue_frame(second, waiting=1, estimated_wait_seconds=50)
    assert moved_up["position"] == 1
    assert (await queue_frame(first, status="assigned"))["position"] is None

    # A customer who comes back is told their place right after the welcome.
    await second.close()
    again = await center.hub.ws_connect("/webchat/ws")
    await again.send_json({"type": "hello", "token": second.token})
    await next_frame(again, "welcome")
    assert (await next_frame(again))["type"] == "queue"
    await again.close()
    await first.close()


async def test_special_hours_a_supervisor_sets_move_the_opening_customers_are_told(center: Center) -> None:
    boss = await center.boss()
    await boss.post("/api/calendars", OFFICE)
    # The holiday Tuesday becomes a half day, and Wednesday is closed for a team event.
    special = {"2026-03-03": ["14:00-18:00"], "2026-03-04": []}
    status, body = await boss.patch("/api/calendars/cn-office", {"special_hours": special})
    assert status == 200 and body["calendar"]["special_hours"] == special
    closed = "We are closed now."
    support = await center.queue(name="Support", calendar_id="cn-office", out_of_hours_message=closed)
    center.clock.now = shanghai(2, 20, 0)  # Monday evening

    visitor = await open_chat(center.hub)
    await visitor.send_json({"type": "message", "client_id": "c1", "text": "有人吗？"})
    chat = (await next_frame(visitor, "ack"))["conversation_id"]
    await center.move_to(chat, support)
    await center.settle()
    await queue_frame(visitor, closed={"message": closed, "opens_at": shanghai(3, 14, 0).isoformat()})

    center.clock.now = shanghai(3, 18, 30)  # after the half day: Wednesday is closed, so Thursday
    await center.settle()
    await queue_frame(visitor, closed={"message": closed, "opens_at": shanghai(5, 9, 0).isoformat()})
    await visitor.close()

    for bad, code in (([], "invalid_field"), ({"03-03": ["14:00-18:00"]}, "invalid_calendar"),
                      ({"2026-03-03": ["2pm to 6pm"]}, "invalid_calendar"), ({"2026-03-03": "14:00-18:00"},
                                                                            "invalid_field")):
        status, body = await boss.patch("/api/calendars/cn-office", {"special_hours": bad})
        assert (status, body["error"]) == (400, code), bad
