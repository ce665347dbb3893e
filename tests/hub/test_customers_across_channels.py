"""One customer across channels: verified addresses link identities; agents merge records and undo it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage, ThreadHint
from channels.webchat.protocol import sign_identity
from hub.keys import ACTIONS, QUERIES
from tests.support import add_agent, next_frame


async def deliver(hub: TestClient, **fields: Any) -> Any:
    return await hub.app[ACTIONS].receive_inbound(InboundMessage(**fields))


async def test_sms_and_whatsapp_from_one_number_are_one_customer(hub: TestClient) -> None:
    sms = await deliver(
        hub,
        channel="sms",
        external_id="SM1",
        sender="+8613800000001",
        text="hi by sms",
        verified_addresses=(("phone", "+8613800000001"),),
    )
    wa = await deliver(
        hub,
        channel="whatsapp",
        external_id="SM2",
        sender="+8613800000001",
        text="hi on whatsapp",
        verified_addresses=(("phone", "+8613800000001"),),
    )
    assert wa.customer_id == sms.customer_id
    assert wa.conversation_id != sms.conversation_id


async def test_a_verified_chat_email_and_a_later_email_are_one_customer(hub: TestClient) -> None:
    secret = "test-identity-secret"
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json(
        {
            "type": "hello",
            "identity": {
                "user_id": "u-7",
                "email": "ling@example.com",
                "user_hash": sign_identity(secret, "u-7", "ling@example.com"),
            },
        }
    )
    await next_frame(ws, "welcome")
    await ws.send_json({"type": "message", "client_id": "m1", "text": "我想改地址"})
    chat = await next_frame(ws, "ack")
    await ws.close()
    mail = await deliver(
        hub,
        channel="email",
        external_id="<a1@mail.example>",
        sender="ling@example.com",
        text="Following up by email",
        thread=ThreadHint(subject="Address change"),
    )
    conversation = await hub.app[QUERIES].conversation(chat["conversation_id"])
    assert mail.customer_id == conversation["customer_id"]


async def test_an_agent_merges_two_records_and_undoes_it(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "merger@example.com")
    agent = await login_as("merger@example.com")
    mail = await deliver(
        hub,
        channel="email",
        external_id="<m1@x>",
        sender="chen@example.com",
        text="Invoice?",
        thread=ThreadHint(subject="Invoice"),
    )
    sms = await deliver(hub, channel="sms", external_id="SM9", sender="+15550100", text="It's Chen, about my invoice")
    assert mail.customer_id != sms.customer_id

    status, body = await agent.post(f"/api/customers/{sms.customer_id}/merge", {"into": mail.customer_id})
    assert status == 200
    merged = body["customer"]
    assert {c["id"] for c in merged["conversations"]} == {mail.conversation_id, sms.conversation_id}
    assert {i["channel"] for i in merged["identities"]} == {"email", "sms"}

    again = await deliver(hub, channel="sms", external_id="SM10", sender="+15550100", text="any news?")
    assert again.customer_id == mail.customer_id

    _, events = await agent.get(f"/api/customers/{mail.customer_id}/events")
    assert events["events"][0]["kind"] in ("message.received", "customer.merged")
    assert any(e["kind"] == "customer.merged" for e in events["events"])

    status, body = await agent.post(f"/api/customers/{sms.customer_id}/unmerge")
    assert status == 200
    assert {c["id"] for c in body["customer"]["conversations"]} == {sms.conversation_id}
    assert {c["id"] for c in body["former_target"]["conversations"]} == {mail.conversation_id}
    assert body["customer"]["merged_into_id"] is None
    later = await deliver(hub, channel="sms", external_id="SM11", sender="+15550100", text="hello again")
    assert later.customer_id == sms.customer_id
    _, sms_events = await agent.get(f"/api/customers/{sms.customer_id}/events")
    kinds = [e["kind"] for e in sms_events["events"]]
    assert "customer.unmerged" in kinds and kinds.count("message.received") == 3


async def test_wrong_merges_are_refused_clearly(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "careful@example.com")
    agent = await login_as("careful@example.com")
    one = await deliver(hub, channel="sms", external_id="SM20", sender="+15550200", text="a")
    two = await deliver(hub, channel="sms", external_id="SM21", sender="+15550201", text="b")
    cases = [
        (f"/api/customers/{one.customer_id}/merge", {"into": one.customer_id}, 400, "same_customer"),
        (f"/api/customers/{one.customer_id}/merge", {"into": 999999}, 404, "not_found"),
        (f"/api/customers/{one.customer_id}/merge", {"into": "2"}, 400, "invalid_field"),
        (f"/api/customers/{one.customer_id}/unmerge", {}, 409, "not_merged"),
    ]
    for path, body, status, code in cases:
        got_status, got = await agent.post(path, body)
        assert (got_status, got["error"]) == (status, code), path
    assert (await agent.post(f"/api/customers/{one.customer_id}/merge", {"into": two.customer_id}))[0] == 200
    status, body = await agent.post(f"/api/customers/{one.customer_id}/merge", {"into": two.customer_id})
    assert (status, body["error"]) == (409, "already_merged")
