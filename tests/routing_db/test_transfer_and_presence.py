"""Agents hand conversations to colleagues or other queues, and going offline puts chats back in line."""

from __future__ import annotations

from tests.routing_db.conftest import Center


async def test_a_transfer_to_a_colleague_rings_there_and_the_history_and_note_travel_along(center: Center) -> None:
    support = await center.queue(name="Support")
    ana = await center.agent("ana@example.com", [support])
    conversation_id = await center.customer_writes("The invoice has the wrong VAT number")
    await center.move_to(conversation_id, support)
    await center.settle()
    status, _ = await ana.post(f"/api/offers/{conversation_id}/accept")
    assert status == 200
    await ana.post(f"/api/conversations/{conversation_id}/messages", {"text": "Let me check that."})
    billing = await center.queue(name="Billing")
    ben = await center.agent("ben@example.com", [billing])

    await center.advance(60)
    status, body = await ana.post(
        f"/api/conversations/{conversation_id}/transfer", {"agent_id": ben.id, "note": "needs a credit note"}
    )
    assert status == 200, body
    offer = await ben.frame("offer", conversation_id=conversation_id)
    assert offer["kind"] == "transfer" and offer["from_agent_id"] == ana.id
    (ringing,) = await ben.offers()
    assert ringing["note"] == "needs a credit note"
    # Until Ben accepts, the customer stays with Ana.
    assert (await center.conversation(conversation_id))["assignee_id"] == ana.id

    status, _ = await ben.post(f"/api/offers/{conversation_id}/accept")
    assert status == 200
    assert (await ana.frame("offer_ended", conversation_id=conversation_id))["outcome"] == "accepted"
    status, detail = await ben.get(f"/api/conversations/{conversation_id}")
    assert detail["conversation"]["assignee_id"] == ben.id
    assert [(m["direction"], m["text"]) for m in detail["messages"]] == [
        ("in", "The invoice has the wrong VAT number"),
        ("out", "Let me check that."),
        ("note", f"Transfer to agent {ben.id}: needs a credit note"),
    ]
    kinds = [e["kind"] for e in await center.events(detail["conversation"]["customer_id"])]
    assert "conversation.transfer_offered" in kinds and kinds[-1] != "conversation.transfer_offered"
    assert "conversation.transferred" in kinds

    # Ana no longer owns it.
    status, body = await ana.post(f"/api/conversations/{conversation_id}/transfer", {"queue_id": support})
    assert status == 403 and body["error"] == "not_assignee"


async def test_a_transfer_to_another_queue_keeps_the_customers_place_and_skips_the_sender(center: Center) -> None:
    general = await center.queue(name="General desk", auto_accept=True)
    billing = await center.queue(name="Billing", auto_accept=True)
    ana = await center.agent("ana@example.com", [general, billing])
    conversation_id = await center.customer_writes("Refund for order 1042")
    await center.move_to(conversation_id, general)
    await center.settle()
    before = await center.conversation(conversation_id)
    assert before["assignee_id"] == ana.id

    await center.advance(120)
    url = f"/api/conversations/{conversation_id}/transfer"
    status, body = await ana.post(url, {"queue_id": billing, "note": "refund"})
    assert status == 200, body
    await center.settle()
    after = await center.conversation(conversation_id)
    # Ana is in Billing too, but she sent it away: it waits for a colleague, with its original enqueue time.
    assert (after["status"], after["queue_id"], after["assignee_id"]) == ("queued", billing, None)
    assert after["enqueued_at"] == before["enqueued_at"]

    cho = await center.agent("cho@example.com", [billing])
    await center.settle()
    assert (await center.conversation(conversation_id))["assignee_id"] == cho.id


async def test_transfers_that_make_no_sense_are_refused_with_reasons(center: Center) -> None:
    support = await center.queue(name="Support")
    ana = await center.agent("ana@example.com", [support])
    ben = await center.agent("ben@example.com", [])
    conversation_id = await center.customer_writes("help")
    await center.move_to(conversation_id, support)
    await center.settle()
    await ana.post(f"/api/offers/{conversation_id}/accept")
    url = f"/api/conversations/{conversation_id}/transfer"

    cases = [
        ({}, 400, "missing_field"),
        ({"agent_id": ben.id, "queue_id": support}, 400, "missing_field"),
        ({"agent_id": "ben"}, 400, "invalid_field"),
        ({"queue_id": support, "note": 5}, 400, "invalid_field"),
        ({"queue_id": support, "colour": "red"}, 400, "unknown_fields"),
        ({"agent_id": 99999}, 404, "unknown_agent"),
        ({"queue_id": 99999}, 404, "unknown_queue"),
        ({"agent_id": ana.id}, 409, "same_agent"),
        ({"agent_id": ben.id, "force": True}, 403, "supervisor_only"),
    ]
    for body, status, code in cases:
        got_status, got = await ana.post(url, body)
        assert (got_status, got["error"]) == (status, code), body

    await ben.post("/api/me/presence", {"presence": "away"})
    await center.settle()
    status, body = await ana.post(url, {"agent_id": ben.id})
    assert status == 409 and body["error"] == "agent_away"
    status, body = await ben.post(f"/api/conversations/{conversation_id}/transfer", {"queue_id": support})
    assert status == 403 and body["error"] == "not_assignee"
    status, body = await ana.post("/api/conversations/99999/transfer", {"queue_id": support})
    assert status == 404

    # A supervisor may force it onto an away colleague; it still rings there first.
    boss = await center.boss()
    status, body = await boss.post(url, {"agent_id": ben.id, "force": True})
    assert status == 200, body
    status, body = await ana.post(url, {"queue_id": support})
    assert status == 409 and body["error"] == "transfer_pending"


async def test_when_an_agent_goes_offline_their_chats_go_back_to_the_queue_and_emails_stay(center: Center) -> None:
    support = await center.queue(name="Support", auto_accept=True)
    ana = await center.agent("ana@example.com", [support], capacity={"chat": 2, "email": 2})
    chat = await center.customer_writes("chat question")
    email = await center.customer_writes("email question", sender="kim@example.com", channel="email")
    for conversation_id in (chat, email):
        await center.move_to(conversation_id, support)
    await center.settle()
    assert {(await center.conversation(c))["assignee_id"] for c in (chat, email)} == {ana.id}

    await center.advance(600)
    status, _ = await ana.post("/api/me/presence", {"presence": "offline"})
    assert status == 200
    await center.settle()
    back = await center.conversation(chat)
    assert (back["status"], back["assignee_id"]) == ("queued", None)
    assert (await center.conversation(email))["assignee_id"] == ana.id

    ben = await center.agent("ben@example.com", [support])
    await center.settle()
    assert (await center.conversation(chat))["assignee_id"] == ben.id
    kinds = [e["kind"] for e in await center.events(back["customer_id"])]
    assert "conversation.requeued" in kinds


async def test_a_console_left_silent_goes_away_then_offline(center: Center) -> None:
    from dataclasses import replace

    center.routing.settings = replace(center.routing.settings, away_after_s=120, offline_after_s=900, seen_every_s=3600)
    support = await center.queue(name="Support", auto_accept=True)
    ana = await center.agent("ana@example.com", [support])
    chat = await center.customer_writes("still there?")
    await center.move_to(chat, support)
    await center.settle()
    assert (await center.conversation(chat))["assignee_id"] == ana.id

    await center.advance(119)
    assert (await ana.get("/api/me/routing"))[1]["agent"]["presence"] == "available"
    await center.advance(1)
    assert (await ana.frame("presence", presence="away"))["reason"] == "inactive"
    await center.advance(780)
    assert (await ana.frame("presence", presence="offline"))["reason"] == "silent"
    assert (await center.conversation(chat))["status"] == "queued"

    # A connected console keeps its agent present: every pass marks open sockets as heard from.
    center.routing.settings = replace(center.routing.settings, seen_every_s=0)
    await ana.post("/api/me/presence", {"presence": "available"})
    await center.settle()
    await center.advance(3000)
    assert (await ana.get("/api/me/routing"))[1]["agent"]["presence"] == "available"


async def test_the_periodic_repair_restores_what_a_crash_between_commit_and_event_lost(center: Center) -> None:
    from dataclasses import replace

    from sqlalchemy import update

    from hub.keys import DATABASE
    from hub.routing.store import conversations

    support = await center.queue(name="Support")
    ana = await center.agent("ana@example.com", [support])
    conversation_id = await center.customer_writes("hello")
    await center.move_to(conversation_id, support)
    await center.settle()
    assert [o["conversation_id"] for o in await ana.offers()] == [conversation_id]

    # Another writer assigns it and the process dies before publishing: routing never hears of it.
    def assign_silently(conn: object) -> None:
        conn.execute(  # type: ignore[attr-defined]
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(status="assigned", assignee_id=ana.id, assigned_at=center.clock.now)
        )

    await center.hub.app[DATABASE].run_write(assign_silently)
    await center.settle()
    assert [o["conversation_id"] for o in await ana.offers()] == [conversation_id]  # stale until the repair

    center.routing.settings = replace(center.routing.settings, reconcile_every_s=0)
    await center.advance(60)
    assert await ana.offers() == []
    boss = await center.boss()
    status, body = await boss.get("/api/metrics/agents")
    (mine,) = [a for a in body["agents"] if a["agent_id"] == ana.id]
    assert mine["handling_seconds"] == 60  # the repaired interval starts at the assignment


async def test_an_agent_stepping_away_is_seen_at_once_and_what_rings_for_them_is_withdrawn(center: Center) -> None:
    support = await center.queue(name="Support", offer_timeout_seconds=60)
    ana = await center.agent("ana@example.com", [support])
    boss = await center.boss()
    chat = await center.customer_writes("anyone there?")
    await center.move_to(chat, support)
    await center.settle()
    assert [o["conversation_id"] for o in await ana.offers()] == [chat]

    status, _ = await ana.post("/api/me/presence", {"presence": "away"})
    assert status == 200
    # No routing pass has run since: the change is recorded and pushed by the request itself.
    seen = await boss.frame("presence", agent_id=ana.id, presence="away")
    assert seen["reason"] == "console"
    assert await ana.offers() == []
    status, body = await ana.get("/api/me/routing")
    assert body["agent"]["presence"] == "away"


async def test_logging_in_is_seen_by_supervisors_at_once(center: Center) -> None:
    boss = await center.boss()
    ana = await center.login("ana@example.com")  # no routing pass runs in between
    seen = await boss.frame("presence", agent_id=ana.id, presence="available")
    assert seen["reason"] == "login"
    status, body = await ana.get("/api/me/routing")
    assert body["agent"]["presence"] == "available"
