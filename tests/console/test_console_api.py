"""The console's API: filtered inbox, labels/priority/snooze, @mentions, canned responses, wallboard."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from tests.support import add_agent, next_frame


async def customer_writes(hub: TestClient, sender: str, text: str, external_id: str, channel: str = "sms") -> int:
    result = await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel=channel, external_id=external_id, sender=sender, text=text)
    )
    return int(result.conversation_id)


async def patch(agent: Any, path: str, body: Any) -> Any:
    resp = await agent.client.patch(path, json=body, headers={"X-CSRF-Token": agent.csrf})
    return resp.status, await resp.json()


async def test_inbox_filters_labels_priority_and_snooze(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    sms = await customer_writes(hub, "+15550001", "parcel late", "e1")
    await customer_writes(hub, "+15550002", "refund?", "e2", channel="telegram")
    status, body = await mei.get("/api/console/inbox")
    assert status == 200 and body["counts"]["queued"] == 2 and body["counts"]["unread"] >= 2
    status, body = await mei.get("/api/console/inbox?channel=telegram")
    assert [c["channel"] for c in body["conversations"]] == ["telegram"]

    status, body = await patch(
        mei, f"/api/conversations/{sms}/meta", {"labels": ["vip", " vip", "shipping"], "priority": "high"}
    )
    assert status == 200, body
    assert body["conversation"]["labels"] == ["vip", "shipping"] and body["conversation"]["priority"] == "high"
    status, body = await mei.get("/api/console/inbox?label=vip")
    assert [c["id"] for c in body["conversations"]] == [sms]
    status, body = await mei.get("/api/console/inbox?priority=high&status=queued")
    assert [c["id"] for c in body["conversations"]] == [sms]
    status, body = await patch(mei, f"/api/conversations/{sms}/meta", {"snoozed_until": "2999-01-01T09:00:00+08:00"})
    assert status == 200 and body["conversation"]["snoozed_until"].startswith("2999-01-01T01:00")
    status, body = await mei.get("/api/console/inbox?status=queued")
    assert sms not in [c["id"] for c in body["conversations"]]
    status, body = await mei.get("/api/console/inbox?status=queued&snoozed=1")
    assert [c["id"] for c in body["conversations"]] == [sms]

    for query in ("channel=fax", "status=sleeping", "priority=meh", "limit=x", 'label=a"b', "snoozed=maybe"):
        status, body = await mei.get(f"/api/console/inbox?{query}")
        assert status == 400 and body["error"] == "invalid_field", query
    bad = [
        ({}, "missing_field"),
        ({"colour": "red"}, "unknown_field"),
        ({"labels": "vip"}, "invalid_field"),
        ({"labels": [""]}, "invalid_field"),
        ({"priority": "asap"}, "invalid_field"),
        ({"snoozed_until": "tomorrow"}, "invalid_field"),
        ({"snoozed_until": "2030-01-01T09:00:00"}, "invalid_field"),
        ({"snoozed_until": "2001-01-01T09:00:00+00:00"}, "invalid_field"),
    ]
    for payload, code in bad:
        status, body = await patch(mei, f"/api/conversations/{sms}/meta", payload)
        assert status == 400 and body["error"] == code, payload
    status, body = await patch(mei, "/api/conversations/99999/meta", {"priority": "low"})
    assert status == 404


async def test_a_mentioned_colleague_gets_a_push_notice(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    await add_agent(hub, "wang.fang@example.com", name="Wang Fang")
    mei = await login_as("mei@example.com")
    wang = await login_as("wang.fang@example.com")
    ws = await wang.client.ws_connect("/api/ws")
    await next_frame(ws, "hello")
    conv = await customer_writes(hub, "+15550003", "need help", "e3")
    status, body = await mei.post(
        f"/api/conversations/{conv}/mention-notes", {"text": "@wang.fang can you check this?"}
    )
    assert status == 201 and body["mentioned"] == [wang.agent_id] and body["message"]["direction"] == "note"
    await hub.app[BUS].drain()
    frame = await next_frame(ws, "mention")
    assert frame["conversation_id"] == conv and frame["by_agent_id"] == mei.agent_id
    status, body = await mei.post(f"/api/conversations/{conv}/mention-notes", {"text": ""})
    assert status == 400
    status, body = await mei.post(f"/api/conversations/{conv}/mention-notes", {})
    assert status == 400 and body["error"] == "missing_field"
    status, body = await mei.get("/api/console/colleagues")
    assert {a["handle"] for a in body["agents"]} == {"mei", "wang.fang"}
    await ws.close()


async def test_canned_responses_crud_and_bad_input(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR)
    mei = await login_as("mei@example.com")
    boss = await login_as("boss@example.com")
    status, body = await mei.post(
        "/api/canned-responses",
        {"shortcut": "hi", "title": "Greeting", "text": "您好 {{customer.name}}，有什么可以帮您？"},
    )
    assert status == 201, body
    canned_id = body["canned_response"]["id"]
    status, body = await mei.post("/api/canned-responses", {"shortcut": "hi", "title": "Again", "text": "x"})
    assert status == 409 and body["error"] == "shortcut_taken"
    for payload in ({"shortcut": "Hi There", "title": "t", "text": "x"}, {"shortcut": "ok", "title": "", "text": "x"}):
        status, body = await mei.post("/api/canned-responses", payload)
        assert status == 400 and body["error"] == "invalid_field", payload
    status, body = await mei.post("/api/canned-responses", {"shortcut": "ok"})
    assert status == 400 and body["error"] == "missing_field"
    status, body = await patch(mei, f"/api/canned-responses/{canned_id}", {"title": "Hello"})
    assert status == 200
    status, body = await patch(mei, f"/api/canned-responses/{canned_id}", {"nope": 1})
    assert status == 400 and body["error"] == "unknown_field"
    status, body = await patch(mei, "/api/canned-responses/9999", {"title": "x"})
    assert status == 404
    status, body = await mei.get("/api/canned-responses")
    assert [(c["shortcut"], c["title"]) for c in body["canned_responses"]] == [("hi", "Hello")]
    resp = await mei.client.delete(f"/api/canned-responses/{canned_id}", headers={"X-CSRF-Token": mei.csrf})
    assert resp.status == 403
    resp = await boss.client.delete(f"/api/canned-responses/{canned_id}", headers={"X-CSRF-Token": boss.csrf})
    assert resp.status == 200
    status, body = await mei.get("/api/canned-responses")
    assert body["canned_responses"] == []


async def test_wallboard_and_series_for_supervisors_only(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR)
    mei = await login_as("mei@example.com")
    boss = await login_as("boss@example.com")
    conv = await customer_writes(hub, "+15550004", "hello", "e4")
    status, body = await mei.get("/api/console/wallboard")
    assert status == 403
    status, body = await boss.get("/api/console/wallboard")
    assert status == 200, body
    assert sum(q["waiting_now"] for q in body["queues"]) == 1
    assert {a["name"] for a in body["agents"]} >= {"Mei"}
    status, body = await boss.get("/api/console/series?bucket=hour&span=24")
    assert status == 200 and len(body["labels"]) == 24 and sum(body["by_channel"]["sms"]) == 1
    for query in ("bucket=week", "span=0", "span=x", "bucket=day&span=500"):
        status, body = await boss.get(f"/api/console/series?{query}")
        assert status == 400, query
    customer_id = (await mei.get(f"/api/conversations/{conv}"))[1]["conversation"]["customer_id"]
    status, body = await mei.get(f"/api/console/customers/{customer_id}/conversations")
    assert status == 200 and [c["id"] for c in body["conversations"]] == [conv]
    status, body = await mei.get("/api/console/customers/99999/conversations")
    assert status == 404
