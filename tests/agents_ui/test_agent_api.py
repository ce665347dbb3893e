"""Agents log in, work the queue, and every wrong request gets a clear JSON error."""
from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS
from tests.support import PASSWORD, add_agent


async def customer_writes(hub: TestClient, sender: str, text: str, external_id: str, channel: str = "sms") -> Any:
    return await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel=channel, external_id=external_id, sender=sender, text=text)
    )


async def test_login_rejects_wrong_passwords_and_unknown_emails(hub: TestClient) -> None:
    await add_agent(hub, "zhang@example.com")
    wrong = await hub.post("/api/login", json={"email": "zhang@example.com", "password": "nope-nope"})
    unknown = await hub.post("/api/login", json={"email": "ghost@example.com", "password": PASSWORD})
    for resp in (wrong, unknown):
        assert resp.status == 401
        assert await resp.json() == {"error": "bad_credentials", "message": "wrong email or password"}


async def test_bad_requests_get_json_errors(hub: TestClient, login_as: Any) -> None:
    resp = await hub.post("/api/login", data="email=a", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 415 and (await resp.json())["error"] == "unsupported_media_type"
    resp = await hub.post("/api/login", data="{nope", headers={"Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json())["error"] == "bad_json"
    resp = await hub.post("/api/login", json={"email": "a@example.com"})
    assert resp.status == 400 and (await resp.json())["message"] == "'password' is required"
    resp = await hub.post("/api/login", json={"email": ["a"], "password": "x"})
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_field"
    resp = await hub.get("/api/conversations")
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    resp = await hub.get("/no/such/page")
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"

    await add_agent(hub, "wu@example.com")
    agent = await login_as("wu@example.com")
    status, body = await agent.get("/api/conversations/999999")
    assert status == 404 and body["error"] == "not_found"
    status, body = await agent.get("/api/conversations/abc")
    assert status == 404
    status, body = await agent.get("/api/conversations?view=everything")
    assert status == 400 and body["error"] == "invalid_view"
    status, body = await agent.post("/api/conversations/999999/take")
    assert status == 404
    resp = await agent.client.post("/api/conversations/1/take", json={})
    assert resp.status == 403 and (await resp.json())["error"] == "csrf_failed"
    status, body = await agent.post("/api/me/presence", {"presence": "asleep"})
    assert status == 400


async def test_roles_are_checked_and_every_api_route_declares_them(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "plain@example.com", Role.AGENT)
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR)
    plain = await login_as("plain@example.com")
    boss = await login_as("boss@example.com")
    assert (await plain.get("/api/agents"))[0] == 403
    status, body = await boss.get("/api/agents")
    assert status == 200 and {a["email"] for a in body["agents"]} == {"plain@example.com", "boss@example.com"}
    assert all("password_hash" not in a for a in body["agents"])

    for route in hub.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if path.startswith("/api/") and route.method != "HEAD":
            assert hasattr(route.handler, "kefu_roles"), f"{route.method} {path} declares no roles"


async def test_only_one_of_two_agents_gets_a_conversation(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "a@example.com")
    await add_agent(hub, "b@example.com")
    a = await login_as("a@example.com")
    b = await login_as("b@example.com")
    stored = await customer_writes(hub, "+15550001", "Refund please", "SM1")
    results = await asyncio.gather(
        a.post(f"/api/conversations/{stored.conversation_id}/take"),
        b.post(f"/api/conversations/{stored.conversation_id}/take"),
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 409]
    loser = next(body for status, body in results if status == 409)
    assert loser["error"] == "already_taken"

    winner = a if results[0][0] == 200 else b
    other = b if winner is a else a
    status, body = await other.post(f"/api/conversations/{stored.conversation_id}/messages", {"text": "me too"})
    assert status == 403 and body["error"] == "not_assignee"


async def test_an_agent_works_a_conversation_from_queue_to_resolution(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "lin@example.com")
    agent = await login_as("lin@example.com")
    first = await customer_writes(hub, "+15550002", "Where is my order?", "SM10")
    await agent.post(f"/api/conversations/{first.conversation_id}/take")
    await agent.post(f"/api/conversations/{first.conversation_id}/resolve")

    status, body = await agent.post(f"/api/conversations/{first.conversation_id}/messages", {"text": "late"})
    assert status == 409 and body["error"] == "conversation_resolved"
    status, body = await agent.post(f"/api/conversations/{first.conversation_id}/resolve")
    assert status == 409 and body["error"] == "invalid_transition"

    status, body = await agent.post(f"/api/conversations/{first.conversation_id}/reopen")
    assert status == 200 and body["conversation"]["status"] == "assigned"
    status, body = await agent.post(f"/api/conversations/{first.conversation_id}/notes", {"text": "call back"})
    assert status == 201 and body["message"]["direction"] == "note"
    status, body = await agent.post(f"/api/conversations/{first.conversation_id}/messages", {"text": "  "})
    assert status == 400 and body["error"] == "empty_reply"
    status, _ = await agent.post(f"/api/conversations/{first.conversation_id}/resolve")
    assert status == 200

    customer_id = first.customer_id
    status, body = await agent.get(f"/api/customers/{customer_id}")
    assert body["customer"]["phone"] == "+15550002"
    assert [c["id"] for c in body["customer"]["conversations"]] == [first.conversation_id]
    status, body = await agent.get(f"/api/customers/{customer_id}/events")
    kinds = [e["kind"] for e in reversed(body["events"])]
    assert kinds == [
        "customer.created", "conversation.opened", "message.received", "conversation.assigned",
        "conversation.resolved", "conversation.reopened", "note.added", "conversation.resolved",
    ]
    status, body = await agent.post("/api/logout")
    assert status == 200
    assert (await agent.get("/api/me"))[0] == 401


async def test_customer_fields_are_edited_and_the_change_is_logged(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "crm@example.com")
    agent = await login_as("crm@example.com")
    stored = await customer_writes(hub, "+15550003", "hi", "SM20")
    resp = await agent.client.patch(
        f"/api/customers/{stored.customer_id}", json={"display_name": "陈先生", "tier": "key"},
        headers={"X-CSRF-Token": agent.csrf},
    )
    assert resp.status == 200 and (await resp.json())["customer"]["display_name"] == "陈先生"
    resp = await agent.client.patch(
        f"/api/customers/{stored.customer_id}", json={"password_hash": "x"}, headers={"X-CSRF-Token": agent.csrf}
    )
    assert resp.status == 400 and (await resp.json())["error"] == "unknown_field"
    _, body = await agent.get(f"/api/customers/{stored.customer_id}/events")
    assert body["events"][0]["kind"] == "customer.updated"
    assert body["events"][0]["data"]["after"] == {"name": "陈先生", "tier": "key"}


async def test_a_customer_who_writes_again_after_resolution_reopens_or_starts_anew(
    hub: TestClient, login_as: Any
) -> None:
    await add_agent(hub, "re@example.com")
    agent = await login_as("re@example.com")
    first = await customer_writes(hub, "+15550004", "one", "SM30")
    await agent.post(f"/api/conversations/{first.conversation_id}/take")
    await agent.post(f"/api/conversations/{first.conversation_id}/resolve")
    again = await customer_writes(hub, "+15550004", "two", "SM31")
    assert again.conversation_id == first.conversation_id
    _, body = await agent.get(f"/api/conversations/{first.conversation_id}")
    assert body["conversation"]["status"] == "queued"
    assert [m["seq"] for m in body["messages"]] == [1, 2]
