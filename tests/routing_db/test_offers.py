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


async def test_a_declined_offer_goes_straight_to_the_next_agent_and_never_back(center: Center) -> None:
    support = await center.queue(name="Support")
    ana = await center.agent("ana@example.com", [support])
    ben = await center.agent("ben@example.com", [support])
    conversation_id = await center.customer_writes("Can I change my order?")
    await center.move_to(conversation_id, support)
    await center.settle()

    first = ana if await ana.offers() else ben
    second = ben if first is ana else ana
    status, _ = await first.post(f"/api/offers/{conversation_id}/decline")
    assert status == 200
    await center.settle()
    assert [o["conversation_id"] for o in await second.offers()] == [conversation_id]

    status, _ = await second.post(f"/api/offers/{conversation_id}/decline")
    assert status == 200
    await center.settle()
    # Both said no: it waits for someone to pick it by hand rather than ringing at them again.
    assert await first.offers() == [] and await second.offers() == []
    assert (await center.conversation(conversation_id))["status"] == "queued"
    status, body = await first.post(f"/api/offers/{conversation_id}/decline")
    assert status == 409 and body["error"] == "no_offer"


async def test_missing_offers_in_a_row_sets_an_agent_away_and_withdraws_what_still_rings(center: Center) -> None:
    support = await center.queue(name="Support", max_missed_offers=2, offer_timeout_seconds=20)
    dozy = await center.agent("dozy@example.com", [support], capacity={"chat": 2})
    first = await center.customer_writes("hello?")
    await center.move_to(first, support)
    await center.settle()
    assert [o["conversation_id"] for o in await dozy.offers()] == [first]

    await center.advance(10)
    second = await center.customer_writes("anyone?")
    await center.move_to(second, support)
    await center.settle()
    assert sorted(o["conversation_id"] for o in await dozy.offers()) == [first, second]

    # The first rings out: one miss. Out of the declined set for `first`, so a third customer is offered.
    await center.advance(10)
    assert [o["conversation_id"] for o in await dozy.offers()] == [second]
    status, body = await dozy.get("/api/me/routing")
    assert body["agent"]["missed_offers_in_a_row"] == 1 and body["agent"]["presence"] == "available"

    await center.advance(10)
    presence = await dozy.frame("presence", presence="away")
    assert presence == {"type": "presence", "agent_id": dozy.id, "presence": "away", "reason": "missed_offers"}
    status, body = await dozy.get("/api/me/routing")
    assert body["agent"]["presence"] == "away" and body["offers"] == []

    # Back at the desk: the streak starts again from zero.
    status, _ = await dozy.post("/api/me/presence", {"presence": "available"})
    await center.settle()
    status, body = await dozy.get("/api/me/routing")
    assert body["agent"]["missed_offers_in_a_row"] == 0


async def test_an_auto_accept_queue_assigns_at_once_within_capacity(center: Center) -> None:
    vip = await center.queue(name="VIP", auto_accept=True)
    cai = await center.agent("cai@example.com", [vip], capacity={"chat": 2, "email": 0})
    ids = [await center.customer_writes(f"urgent {i}") for i in range(3)]
    for conversation_id in ids:
        await center.move_to(conversation_id, vip)
    await center.settle()

    states = [await center.conversation(c) for c in ids]
    assert [(s["status"], s["assignee_id"]) for s in states] == [
        ("assigned", cai.id),
        ("assigned", cai.id),
        ("queued", None),
    ]
    assert (await cai.frame("conversation", change="auto_assigned"))["conversation"]["assignee_id"] == cai.id
    assert await cai.offers() == []

    # A resolved chat frees a slot and the third customer is assigned without waiting for the timer.
    status, _ = await cai.post(f"/api/conversations/{ids[0]}/resolve")
    assert status == 200
    await center.settle()
    assert (await center.conversation(ids[2]))["assignee_id"] == cai.id


async def test_urgent_first_key_accounts_ahead_then_first_come_first_served(center: Center) -> None:
    support = await center.queue(name="Support", auto_accept=True)
    plain = await center.customer_writes("first in line", sender="+15550100")
    center.clock.advance(5)
    key = await center.customer_writes("our contract", sender="+15550101")
    center.clock.advance(5)
    urgent = await center.customer_writes("site down", sender="+15550102")
    for conversation_id in (plain, key, urgent):
        await center.move_to(conversation_id, support)
    boss = await center.boss()
    status, _ = await boss.patch(f"/api/conversations/{urgent}/routing", {"priority": "urgent"})
    assert status == 200
    key_customer = (await center.conversation(key))["customer_id"]
    status, _ = await boss.patch(f"/api/customers/{key_customer}", {"tier": "key"})
    assert status == 200

    dan = await center.agent("dan@example.com", [support], capacity={"chat": 1})
    served = []
    for _ in range(3):
        await center.settle()
        status, body = await dan.get("/api/conversations?view=mine")
        (mine,) = body["conversations"]
        served.append(mine["id"])
        await dan.post(f"/api/conversations/{mine['id']}/resolve")
    assert served == [urgent, key, plain]
