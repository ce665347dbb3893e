"""Offers ring at one agent at a time: they time out to the next agent, can be declined, and too many misses
send an agent away."""

from __future__ import annotations

from tests.routing_db.conftest import Center


async def test_an_unanswered_offer_moves_to_the_next_agent_after_the_timeout(center: Center) -> None:
    support = await center.queue(name="Support", policy="longest_idle", offer_timeout_seconds=30)
    ana = await center.agent("ana@example.com", [support])
    center.clock.advance(60)
    ben = await center.agent("ben@example.com", [support])

    conversation_id = await center.customer_writes("My parcel is lost")
    await center.move_to(conversation_id, support)
    await center.settle()

    # Ana has been idle longest, so the chat rings at her, with a deadline for the console's countdown.
    offer = await ana.frame("offer")
    assert offer["conversation_id"] == conversation_id
    assert offer["expires_at"] == "2026-03-02T02:01:30+00:00"
    assert [o["conversation_id"] for o in await ben.offers()] == []

    await center.advance(29)
    assert [o["conversation_id"] for o in await ana.offers()] == [conversation_id]

    await center.advance(1)
    assert (await ana.frame("offer_ended"))["outcome"] == "expired"
    assert (await ben.frame("offer"))["conversation_id"] == conversation_id
    assert await ana.offers() == []

    status, body = await ana.post(f"/api/offers/{conversation_id}/accept")
    assert status == 409 and body["error"] == "no_offer"
    status, body = await ben.post(f"/api/offers/{conversation_id}/accept")
    assert status == 200, body
    conversation = await center.conversation(conversation_id)
    assert conversation["status"] == "assigned" and conversation["assignee_id"] == ben.id

    kinds = [e["kind"] for e in await center.events(conversation["customer_id"]) if e["kind"].startswith("routing.")]
    assert kinds == ["routing.offered", "routing.offer_expired", "routing.offered", "routing.offer_accepted"]
