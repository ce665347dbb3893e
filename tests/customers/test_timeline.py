"""An agent opens a customer's card: every exchange on every channel and every change, in one paged view."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.customers.helpers import call, customer_writes, staff, until
from tests.support import AgentSession


async def _pages(agent: AgentSession, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        status, page = await agent.get(path + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_timeline_shows_every_channel_and_change_and_filters_and_pages(
    hub: TestClient, login_as: Any
) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    sms = await customer_writes(hub, "sms", "+15550142", "Where is order 8812?", "SM-tl-1")
    customer_id = sms.customer_id
    await agent.post(f"/api/conversations/{sms.conversation_id}/take")
    await agent.post(f"/api/conversations/{sms.conversation_id}/messages", {"text": "It ships today."})
    await agent.post(f"/api/conversations/{sms.conversation_id}/notes", {"text": "Called the courier"})
    await agent.post(f"/api/conversations/{sms.conversation_id}/resolve")

    async def asked() -> bool:
        _, page = await agent.get(f"/api/customers/{customer_id}/timeline?kind=csat")
        return bool(page["items"])

    await until(asked)
    await customer_writes(hub, "sms", "+15550142", "4", "SM-tl-2")

    async def thanked() -> bool:
        _, page = await agent.get(f"/api/customers/{customer_id}/timeline?kind=system&q=thank%20you")
        return bool(page["items"])

    await until(thanked)
    chat = await customer_writes(hub, "webchat", "visitor-tl", "Also, please change my delivery address",
                                 "w-tl-1", verified_addresses=(("sms", "+15550142"),))
    assert chat.customer_id == customer_id and chat.conversation_id != sms.conversation_id
    await agent.post(f"/api/conversations/{chat.conversation_id}/take")
    await agent.post(f"/api/conversations/{chat.conversation_id}/messages", {"text": "Done, new address saved."})
    await call(agent, "PATCH", f"/api/customers/{customer_id}/record", {"tier": "key"})

    status, page = await agent.get(f"/api/customers/{customer_id}/timeline")
    assert status == 200 and page["next_cursor"] is None
    items = page["items"]
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    said = [(i["kind"], i["channel"], i["message"]["text"]) for i in reversed(items) if "message" in i]
    assert said[:4] == [
        ("customer", "sms", "Where is order 8812?"),
        ("agent", "sms", "It ships today."),
        ("note", "sms", "Called the courier"),
        ("system", "sms", "How would you rate the help you got?\n"
                          'Reply with a number; you can add a comment after it, like "4: quick answer".'),
    ]
    assert said[4] == ("customer", "sms", "4")
    assert said[5][:2] == ("system", "sms") and said[5][2].startswith("Thank you for your rating! Want to add")
    assert said[6:] == [("customer", "webchat", "Also, please change my delivery address"),
                        ("agent", "webchat", "Done, new address saved.")]
    events = [i["event"] for i in reversed(items) if "message" not in i]
    assert events[:3] == ["customer.created", "conversation.opened", "conversation.assigned"]
    assert {"conversation.resolved", "csat.requested", "csat.rated", "customer.updated"} <= set(events)
    rated = next(i for i in items if i["event"] == "csat.rated")
    assert rated["kind"] == "csat" and rated["data"]["score"] == 4 and rated["channel"] == "sms"
    assert next(i for i in items if i["event"] == "customer.updated")["kind"] == "record"

    base = f"/api/customers/{customer_id}/timeline?limit=3"
    assert [i["id"] for i in await _pages(agent, base)] == [i["id"] for i in items]
    oldest_first = await _pages(agent, base + "&order=asc")
    assert [i["id"] for i in oldest_first] == [i["id"] for i in reversed(items)]

    _, only_chat = await agent.get(f"/api/customers/{customer_id}/timeline?channel=webchat")
    assert {i["channel"] for i in only_chat["items"]} == {"webchat"}
    assert [i["message"]["text"] for i in only_chat["items"] if "message" in i] == [
        "Done, new address saved.", "Also, please change my delivery address"]
    _, customer_said = await agent.get(f"/api/customers/{customer_id}/timeline?kind=customer")
    assert [i["message"]["text"] for i in customer_said["items"]] == [
        "Also, please change my delivery address", "4", "Where is order 8812?"]
    _, staff_said = await agent.get(f"/api/customers/{customer_id}/timeline?kind=agent,note")
    assert [i["kind"] for i in staff_said["items"]] == ["agent", "note", "agent"]
    _, found = await agent.get(f"/api/customers/{customer_id}/timeline?q=ORDER%208812")
    assert [i["message"]["text"] for i in found["items"]] == ["Where is order 8812?"]
    _, states = await agent.get(f"/api/customers/{customer_id}/timeline?kind=state&channel=sms")
    assert [i["event"] for i in states["items"]][-3:] == ["conversation.resolved", "conversation.assigned",
                                                         "conversation.opened"]
    today = datetime.now(UTC).date()
    _, window = await agent.get(f"/api/customers/{customer_id}/timeline?from={today}&to={today}")
    assert len(window["items"]) == len(items)
    tomorrow = today + timedelta(days=1)
    _, later = await agent.get(f"/api/customers/{customer_id}/timeline?from={tomorrow}")
    assert later["items"] == []


async def test_bad_timeline_requests_get_clear_errors(hub: TestClient, login_as: Any) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    stored = await customer_writes(hub, "sms", "+15550143", "hi", "SM-tl-9")
    path = f"/api/customers/{stored.customer_id}/timeline"
    for query, code in [
        ("kind=gossip", "invalid_kind"),
        ("limit=0", "invalid_limit"),
        ("limit=many", "invalid_limit"),
        ("order=sideways", "invalid_order"),
        ("cursor=%%%", "invalid_cursor"),
        ("from=last-tuesday", "invalid_from"),
        ("from=2025-02-02&to=2025-01-01", "invalid_range"),
        ("q=" + "x" * 201, "invalid_q"),
    ]:
        status, body = await agent.get(f"{path}?{query}")
        assert (status, body["error"]) == (400, code), query
    status, body = await agent.get("/api/customers/999999/timeline")
    assert status == 404 and body["error"] == "not_found"
    assert (await TestClient(hub.server).get(path)).status == 401
