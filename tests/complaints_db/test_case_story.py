"""A customer complains; a case opens, later complaints join it, an agent resolves it and the customer is told."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse

from hub.domain import Role
from hub.keys import DATABASE
from tests.complaints_db.conftest import Desk
from tests.support import next_frame


async def chat(desk: Desk) -> ClientWebSocketResponse:
    ws = await desk.hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    await next_frame(ws, "welcome")
    return ws


async def say(desk: Desk, ws: ClientWebSocketResponse, text: str, client_id: str) -> dict[str, Any]:
    await ws.send_json({"type": "message", "client_id": client_id, "text": text})
    ack = await next_frame(ws, "ack")
    await desk.settle()
    return ack


async def test_a_chat_complaint_is_handled_and_the_customer_hears_the_outcome(desk: Desk) -> None:
    ws = await chat(desk)
    first = await say(desk, ws, "我的快递一个星期了还没到，到底怎么回事？！", "c1")
    second = await say(desk, ws, "第三次问了，都没人理我，你们的客服态度太差了", "c2")
    await say(desk, ws, "订单号是 88231", "c3")
    agent = await desk.staff("li@example.com")

    status, body = await agent.get(f"/api/complaints/cases?conversation_id={first['conversation_id']}")
    assert status == 200
    (case,) = body["cases"]
    assert case["status"] == "open"
    assert case["category"] == "delivery"
    assert case["severity"] == "medium"
    assert case["message_count"] == 2
    assert case["first_message_id"] == first["message_id"]
    status, detail = await agent.get(f"/api/complaints/cases/{case['id']}")
    assert [m["message_id"] for m in detail["case"]["messages"]] == [first["message_id"], second["message_id"]]
    assert any(cue.startswith("repeat_contact") for cue in detail["case"]["messages"][1]["cues"])
    status, body = await agent.get(f"/api/messages/{second['message_id']}/complaint")
    assert body["score"]["case_id"] == case["id"]

    status, body = await agent.patch(
        f"/api/complaints/cases/{case['id']}", {"status": "in_progress", "owner_id": agent.id}
    )
    assert status == 200, body
    assert (body["case"]["status"], body["case"]["owner_id"]) == ("in_progress", agent.id)
    status, body = await agent.patch(f"/api/complaints/cases/{case['id']}", {"status": "resolved"})
    assert (status, body["error"]) == (400, "note_required")

    note = "包裹已找到，明天上午送达，运费已退回。"
    status, body = await agent.patch(f"/api/complaints/cases/{case['id']}", {"status": "resolved", "note": note})
    assert status == 200, body
    assert body["customer_told"] == "sent"
    assert body["case"]["resolved_by"] == f"agent:{agent.id}"

    told = await next_frame(ws, "message")
    assert told["author"] == "system"
    assert told["text"] == f"关于您的投诉（编号 {case['id']}）：已处理完毕。{note}"
    status, body = await agent.get(f"/api/customers/{case['customer_id']}/events")
    kinds = [e["kind"] for e in reversed(body["events"])]
    complaint_kinds = [k for k in kinds if k.startswith("complaint.")]
    assert complaint_kinds == ["complaint.opened", "complaint.updated", "complaint.resolved", "complaint.outcome_sent"]
    await ws.close()


async def test_a_new_complaint_after_resolution_opens_a_new_case(desk: Desk) -> None:
    agent = await desk.staff("wang@example.com")
    first = await desk.writes("sms", "+8613900000001", "You charged my card twice for the same order, unacceptable!")
    (case,) = (await agent.get(f"/api/complaints/cases?conversation_id={first.conversation_id}"))[1]["cases"]
    status, _ = await agent.patch(
        f"/api/complaints/cases/{case['id']}", {"status": "resolved", "note": "Refunded.", "notify": False}
    )
    assert status == 200

    again = await desk.writes("sms", "+8613900000001", "Still no refund after three weeks, this is a joke!!")

    assert again.conversation_id == first.conversation_id
    status, body = await agent.get(f"/api/complaints/cases?conversation_id={first.conversation_id}")
    newer, older = body["cases"]
    assert (newer["status"], older["status"]) == ("open", "resolved")
    assert older["outcome_state"] == "skipped"
    status, body = await agent.patch(f"/api/complaints/cases/{older['id']}", {"status": "open"})
    assert (status, body["error"]) == (409, "case_in_hand")
    status, body = await agent.get("/api/complaints/cases?status=in_hand")
    assert [c["id"] for c in body["cases"]] == [newer["id"]]


async def test_routine_messages_are_scored_but_open_no_case(desk: Desk) -> None:
    agent = await desk.staff("zhao@example.com")
    sent = await desk.writes("telegram", "tg-5521", "What are your opening hours on Saturday?")

    status, body = await agent.get(f"/api/messages/{sent.message_id}/complaint")
    assert status == 200
    assert body["score"]["is_complaint"] is False
    assert body["score"]["case_id"] is None
    assert body["score"]["probability"] < 0.5
    assert (await agent.get(f"/api/complaints/cases?customer_id={sent.customer_id}"))[1]["cases"] == []


async def test_cases_follow_their_conversations_when_customer_records_are_merged(desk: Desk) -> None:
    agent = await desk.staff("he@example.com")
    sms = await desk.writes("sms", "+15550101", "The kettle stopped working after two days, the handle cracked too.")
    mail = await desk.writes(
        "email", "jo@example.com", "I was charged a cancellation fee I never agreed to. Unacceptable."
    )

    status, _ = await agent.post(f"/api/customers/{sms.customer_id}/merge", {"into": mail.customer_id})
    assert status == 200
    await desk.settle()

    status, body = await agent.get(f"/api/complaints/cases?customer_id={mail.customer_id}")
    assert sorted(c["category"] for c in body["cases"]) == ["billing", "product_quality"]
    await agent.post(f"/api/customers/{sms.customer_id}/unmerge")
    await desk.settle()
    status, body = await agent.get(f"/api/complaints/cases?customer_id={sms.customer_id}")
    assert [c["category"] for c in body["cases"]] == ["product_quality"]


async def test_bad_case_requests_get_clear_errors(desk: Desk) -> None:
    agent = await desk.staff("qian@example.com")
    designer = await desk.staff("ling@example.com", Role.DESIGNER)
    sent = await desk.writes("whatsapp", "+8613700000009", "Third time asking: where is my parcel?! Due last week.")
    (case,) = (await agent.get(f"/api/complaints/cases?customer_id={sent.customer_id}"))[1]["cases"]
    path = f"/api/complaints/cases/{case['id']}"

    assert (await agent.patch(path, {"status": "closed"}))[1]["error"] == "invalid_field"
    assert (await agent.patch(path, {"owner_id": 99999}))[1]["error"] == "unknown_agent"
    assert (await agent.patch(path, {"owner_id": "me"}))[1]["error"] == "invalid_field"
    assert (await agent.patch(path, {"colour": "red"}))[1]["error"] == "unknown_fields"
    assert (await agent.patch(path, {}))[1]["error"] == "missing_field"
    assert (await agent.patch(path, {"note": "x" * 5000}))[1]["error"] == "too_long"
    assert await agent.patch("/api/complaints/cases/999999", {"status": "open"}) == (
        404,
        {"error": "not_found", "message": "complaint case 999999 does not exist"},
    )
    assert (await designer.patch(path, {"status": "in_progress"}))[0] == 403
    assert (await agent.get("/api/complaints/cases?status=lost"))[0] == 400
    assert (await agent.get("/api/complaints/cases?limit=0"))[0] == 400
    assert (await agent.get("/api/complaints/cases?customer_id=abc"))[0] == 400
    resp = await agent.session.client.patch(path, data="status=open", headers={"X-CSRF-Token": agent.session.csrf})
    assert resp.status == 415
    assert (await agent.get(path))[1]["case"]["status"] == "open"


async def test_a_customer_export_and_erasure_cover_their_complaints(desk: Desk) -> None:
    privacy = pytest.importorskip("hub.customers.privacy")
    agent = await desk.staff("xu@example.com")
    sent = await desk.writes("sms", "+8613500000001", "I'm cancelling! You charged my card twice, card ends 4421.")
    (case,) = (await agent.get(f"/api/complaints/cases?customer_id={sent.customer_id}"))[1]["cases"]
    note = "Refunded to the card ending 4421; Mr Wu was upset about his sick mother."
    await agent.patch(f"/api/complaints/cases/{case['id']}", {"status": "resolved", "note": note, "notify": False})
    await agent.post(
        "/api/complaints/corrections", {"message_id": sent.message_id, "is_complaint": True, "category": "billing"}
    )
    db = desk.hub.app[DATABASE]

    exported = await db.run_write(lambda conn: privacy.export_tx(conn, sent.customer_id, "agent:1", desk.clock()))

    (mine,) = exported["sections"]["complaints"]
    assert mine["data"]["cases"][0]["resolution_note"] == note
    assert mine["data"]["corrections"][0]["text"].startswith("I'm cancelling!")
    assert any(c.startswith("threat_leave: ") for c in mine["data"]["message_scores"][0]["cues"])
    await db.run_write(lambda conn: privacy.erase_tx(conn, sent.customer_id, "agent:1", "gdpr", desk.clock()))
    status, body = await agent.get(f"/api/complaints/cases/{case['id']}")
    assert (body["case"]["category"], body["case"]["resolution_note"]) == ("billing", None)
    assert body["case"]["corrections"] == []
    assert "threat_leave" in body["case"]["messages"][0]["cues"]
    assert not any(":" in cue for cue in body["case"]["messages"][0]["cues"])
    assert (await agent.get("/api/complaints/corrections"))[1]["corrections"] == []
    async with asyncio.timeout(60):
        while (await agent.get("/api/complaints/model"))[1]["model"]["corrections"] != 0:
            await asyncio.sleep(0.1)
