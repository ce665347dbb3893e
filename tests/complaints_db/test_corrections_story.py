"""Agents and designers correct complaint labels; cases follow, and the retrained detector learns from them."""

from __future__ import annotations

import asyncio

from hub.domain import Role
from tests.complaints_db.conftest import Desk, Staff


async def wait_for_version(staff: Staff, version: int, timeout: float = 60.0) -> dict[str, object]:
    """Poll the detector's version until it has learned correction `version` (retraining takes a second or two)."""
    async with asyncio.timeout(timeout):
        while True:
            status, body = await staff.get("/api/complaints/model")
            assert status == 200
            if body["model"]["version"] == version:
                return dict(body["model"])
            await asyncio.sleep(0.1)


async def test_a_product_name_stops_being_a_complaint_for_similar_questions(desk: Desk) -> None:
    designer = await desk.staff("mei@example.com", Role.DESIGNER)
    asked = await desk.writes("webchat", "visitor-1", "Is the Broken Heart bracelet available in gold?")
    status, body = await designer.get(f"/api/messages/{asked.message_id}/complaint")
    assert body["score"]["is_complaint"] is True
    case_id = body["score"]["case_id"]

    status, fixed = await designer.post(
        "/api/complaints/corrections", {"message_id": asked.message_id, "is_complaint": False}
    )
    assert status == 201, fixed
    model = await wait_for_version(designer, fixed["correction_id"])
    assert model["corrections"] == 1

    status, body = await designer.get(f"/api/complaints/cases/{case_id}")
    assert body["case"]["status"] == "dismissed"
    assert body["case"]["corrections"][0]["previous"]["is_complaint"] is True
    status, body = await designer.get(f"/api/messages/{asked.message_id}/complaint")
    assert (body["score"]["is_complaint"], body["score"]["corrected"], body["score"]["detected"]) == (False, True, True)
    later = await desk.writes("webchat", "visitor-2", "Is the Broken Heart ring available in rose gold?")
    status, body = await designer.get(f"/api/messages/{later.message_id}/complaint")
    assert body["score"]["is_complaint"] is False
    assert body["score"]["model_version"] == fixed["correction_id"]
    kettle = "The kettle stopped working after two days, the handle cracked too."
    still = await desk.writes("webchat", "visitor-3", kettle)
    assert (await designer.get(f"/api/messages/{still.message_id}/complaint"))[1]["score"]["is_complaint"] is True


async def test_shop_jargon_becomes_a_delivery_complaint_and_opens_a_case(desk: Desk) -> None:
    agent = await desk.staff("sun@example.com")
    missed = await desk.writes("sms", "+8613600000001", "双十一的订单被砍单了")
    assert (await agent.get(f"/api/messages/{missed.message_id}/complaint"))[1]["score"]["is_complaint"] is False

    status, fixed = await agent.post(
        "/api/complaints/corrections",
        {"message_id": missed.message_id, "is_complaint": True, "category": "delivery", "severity": "medium"},
    )
    assert status == 201, fixed
    status, body = await agent.get(f"/api/complaints/cases/{fixed['case_id']}")
    case = body["case"]
    assert (case["category"], case["severity"], case["status"]) == ("delivery", "medium", "open")

    await wait_for_version(agent, fixed["correction_id"])
    other = await desk.writes("sms", "+8613600000002", "618的订单又被砍单了")
    status, body = await agent.get(f"/api/complaints/cases?customer_id={other.customer_id}")
    (case,) = body["cases"]
    assert case["category"] == "delivery"
    events = (await agent.get(f"/api/customers/{missed.customer_id}/events"))[1]["events"]
    assert {"complaint.corrected", "complaint.opened"} <= {e["kind"] for e in events}


async def test_a_supervisor_recategorises_a_case(desk: Desk) -> None:
    boss = await desk.staff("boss@example.com", Role.SUPERVISOR)
    sent = await desk.writes("email", "kim@example.com", "You charged my card twice for the same order, unacceptable!")
    (case,) = (await boss.get(f"/api/complaints/cases?customer_id={sent.customer_id}"))[1]["cases"]

    relabel = {"case_id": case["id"], "is_complaint": True, "category": "billing", "severity": "high"}
    status, fixed = await boss.post("/api/complaints/corrections", relabel)
    assert status == 201

    status, body = await boss.get(f"/api/complaints/cases/{case['id']}")
    assert (body["case"]["category"], body["case"]["severity"]) == ("billing", "high")
    status, body = await boss.get("/api/complaints/corrections")
    assert body["corrections"][0]["id"] == fixed["correction_id"]
    assert body["corrections"][0]["actor"] == f"agent:{boss.id}"


async def test_a_designer_teaches_an_example_without_a_message(desk: Desk) -> None:
    designer = await desk.staff("ann@example.com", Role.DESIGNER)

    status, fixed = await designer.post(
        "/api/complaints/corrections",
        {"text": "Where can I buy the Disaster Pants?", "channel": "webchat", "is_complaint": False},
    )

    assert status == 201
    assert fixed["case_id"] is None
    await wait_for_version(designer, fixed["correction_id"])


async def test_bad_corrections_get_clear_errors(desk: Desk) -> None:
    agent = await desk.staff("bai@example.com")
    sent = await desk.writes("telegram", "tg-77", "What are your opening hours?")
    post = agent.post

    assert (await post("/api/complaints/corrections", {"is_complaint": False}))[1]["error"] == "missing_field"
    both = {"message_id": sent.message_id, "text": "x", "is_complaint": False}
    assert (await post("/api/complaints/corrections", both))[1]["error"] == "missing_field"
    yes = {"message_id": sent.message_id, "is_complaint": "yes"}
    assert (await post("/api/complaints/corrections", yes))[1]["error"] == "invalid_field"
    wrong = {"message_id": sent.message_id, "is_complaint": True, "category": "weather"}
    assert (await post("/api/complaints/corrections", wrong))[1]["error"] == "invalid_field"
    loud = {"message_id": sent.message_id, "is_complaint": True, "category": "other", "severity": "extreme"}
    assert (await post("/api/complaints/corrections", loud))[1]["error"] == "invalid_field"
    fine = {"message_id": sent.message_id, "is_complaint": False, "category": "billing"}
    assert (await post("/api/complaints/corrections", fine))[1]["error"] == "invalid_field"
    uncategorised = {"message_id": sent.message_id, "is_complaint": True}
    assert (await post("/api/complaints/corrections", uncategorised))[1]["error"] == "missing_field"
    assert (await post("/api/complaints/corrections", {"message_id": 10**9, "is_complaint": False}))[0] == 404
    assert (await post("/api/complaints/corrections", {"case_id": 10**9, "is_complaint": False}))[0] == 404
    assert (await agent.get("/api/complaints/corrections"))[1]["corrections"] == []
    assert (await agent.get("/api/messages/999999/complaint"))[0] == 404
