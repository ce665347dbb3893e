"""A customer chats on the web, an agent answers live, and the history survives reloads and reconnects."""
from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.webchat.protocol import sign_identity
from hub.domain import Role
from tests.support import add_agent, next_frame, no_frame


async def open_chat(hub: TestClient, **hello: Any) -> tuple[Any, dict[str, Any]]:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello", **hello})
    welcome = await next_frame(ws, "welcome")
    return ws, welcome


async def say(ws: Any, client_id: str, text: str) -> dict[str, Any]:
    await ws.send_json({"type": "message", "client_id": client_id, "text": text})
    return await next_frame(ws, "ack")


async def test_customer_and_agent_talk_live_and_history_survives(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    agent = await login_as("mei@example.com")
    agent_ws = await agent.client.ws_connect("/api/ws")
    await next_frame(agent_ws, "hello")

    customer, welcome = await open_chat(hub)
    token = welcome["token"]
    assert welcome["messages"] == []
    ack = await say(customer, "c-1", "你好，我的订单还没到")
    assert ack["seq"] == 1 and ack["duplicate"] is False
    conversation_id = ack["conversation_id"]

    pushed = await next_frame(agent_ws, "message")
    assert pushed["message"]["text"] == "你好，我的订单还没到"
    assert pushed["conversation_id"] == conversation_id

    status, inbox = await agent.get("/api/conversations?view=queued")
    assert [c["id"] for c in inbox["conversations"]] == [conversation_id]

    status, taken = await agent.post(f"/api/conversations/{conversation_id}/take")
    assert status == 200 and taken["conversation"]["status"] == "assigned"
    status, sent = await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": "马上为您查询。"})
    assert status == 201

    reply = await next_frame(customer, "message")
    assert reply["text"] == "马上为您查询。" and reply["author"] == "agent" and reply["seq"] == 2
    # The reply reaches the tab before its status is written; the agent is told once it is.
    receipt = await next_frame(agent_ws, "delivery")
    assert receipt["message_id"] == sent["message"]["id"] and receipt["status"] == "delivered"

    status, detail = await agent.get(f"/api/conversations/{conversation_id}")
    delivered = [m for m in detail["messages"] if m["direction"] == "out"]
    assert delivered[0]["delivery_status"] == "delivered"

    await customer.close()
    reloaded, welcome = await open_chat(hub, token=token)
    assert [m["text"] for m in welcome["messages"]] == ["你好，我的订单还没到", "马上为您查询。"]
    await reloaded.close()
    await agent_ws.close()

    status, _ = await agent.post(f"/api/conversations/{conversation_id}/resolve")
    assert status == 200
    status, record = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}")
    assert record["customer"]["conversations"][0]["status"] == "resolved"


async def test_resend_with_the_same_client_id_is_stored_once(hub: TestClient, login_as: Any) -> None:
    customer, _ = await open_chat(hub)
    first = await say(customer, "same-id", "Is anyone there?")
    again = await say(customer, "same-id", "Is anyone there?")
    assert again["duplicate"] is True
    assert again["message_id"] == first["message_id"] and again["seq"] == first["seq"]

    await add_agent(hub, "ops@example.com")
    agent = await login_as("ops@example.com")
    _, detail = await agent.get(f"/api/conversations/{first['conversation_id']}")
    assert [m["text"] for m in detail["messages"]] == ["Is anyone there?"]


async def test_reconnect_resumes_from_the_last_sequence_without_gaps(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "li@example.com")
    agent = await login_as("li@example.com")
    customer, welcome = await open_chat(hub)
    token = welcome["token"]
    ack = await say(customer, "a1", "Hello")
    conversation_id = ack["conversation_id"]
    await agent.post(f"/api/conversations/{conversation_id}/take")
    await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": "reply one"})
    seen = await next_frame(customer, "message")
    assert seen["seq"] == 2
    await customer.close()

    for text in ("reply two", "reply three", "reply four"):
        await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": text})
    await agent.post(f"/api/conversations/{conversation_id}/notes", {"text": "internal: customer is VIP"})

    resumed, welcome = await open_chat(hub, token=token, cursor={"conversation_id": conversation_id, "seq": 2})
    assert [(m["seq"], m["text"]) for m in welcome["messages"]] == [
        (3, "reply two"), (4, "reply three"), (5, "reply four"),
    ]
    await say(resumed, "a2", "thanks")
    await resumed.close()


async def test_typing_indicators_travel_both_ways(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "typist@example.com")
    agent = await login_as("typist@example.com")
    agent_ws = await agent.client.ws_connect("/api/ws")
    await next_frame(agent_ws, "hello")
    customer, _ = await open_chat(hub)
    ack = await say(customer, "t1", "hi")
    await customer.send_json({"type": "typing", "active": True})
    typing = await next_frame(agent_ws, "typing")
    assert typing == {"type": "typing", "conversation_id": ack["conversation_id"], "who": "customer", "active": True}

    await agent.post(f"/api/conversations/{ack['conversation_id']}/take")
    await agent_ws.send_json({"type": "typing", "conversation_id": ack["conversation_id"], "active": True})
    assert (await next_frame(customer, "typing"))["active"] is True
    await customer.close()
    await agent_ws.close()


async def test_a_verified_visitor_is_the_same_customer_on_every_device(hub: TestClient, login_as: Any) -> None:
    secret = "test-identity-secret"
    identity = {"user_id": "cust-42", "user_hash": sign_identity(secret, "cust-42", "ada@example.com"),
                "email": "ada@example.com", "name": "Ada"}
    laptop, welcome = await open_chat(hub, identity=identity)
    assert welcome["verified"] is True
    ack = await say(laptop, "l1", "Sent from my laptop")
    await laptop.close()

    phone, welcome = await open_chat(hub, identity=identity)
    assert [m["text"] for m in welcome["messages"]] == ["Sent from my laptop"]
    await phone.close()

    await add_agent(hub, "sup@example.com", Role.SUPERVISOR)
    agent = await login_as("sup@example.com")
    _, detail = await agent.get(f"/api/conversations/{ack['conversation_id']}")
    _, record = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}")
    assert record["customer"]["display_name"] == "Ada"
    assert {i["channel"] for i in record["customer"]["identities"]} == {"webchat", "user", "email"}


async def test_a_forged_identity_is_refused_and_the_socket_stays_open(hub: TestClient) -> None:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello", "identity": {"user_id": "cust-42", "user_hash": "0" * 64}})
    error = await next_frame(ws, "error")
    assert error["code"] == "identity_rejected"
    await ws.send_json({"type": "hello"})
    assert (await next_frame(ws, "welcome"))["token"]
    await ws.close()


async def test_bad_frames_get_error_frames_and_store_nothing(hub: TestClient, login_as: Any) -> None:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "message", "client_id": "x1", "text": "before hello"})
    assert (await next_frame(ws, "error"))["code"] == "hello_first"
    await ws.send_json({"type": "hello"})
    await next_frame(ws, "welcome")

    cases = [
        ("{not json", "bad_json"),
        ('["a list"]', "bad_json"),
        ('{"type": "launch_rockets"}', "unknown_type"),
        ('{"type": "message", "text": "no id"}', "invalid_client_id"),
        ('{"type": "message", "client_id": "bad id with spaces", "text": "x"}', "invalid_client_id"),
        ('{"type": "message", "client_id": "e1", "text": 42}', "invalid_text"),
        ('{"type": "message", "client_id": "e2", "text": "   "}', "empty_text"),
        ('{"type": "message", "client_id": "e3", "text": "' + "长" * 4001 + '"}', "text_too_long"),
        ('{"type": "message", "client_id": "e4", "text": "' + "x" * 70_000 + '"}', "frame_too_large"),
        ('{"type": "hello"}', "already_hello"),
    ]
    for raw, code in cases:
        await ws.send_str(raw)
        error = await next_frame(ws, "error")
        assert error["code"] == code, (raw[:40], error)
    await ws.send_bytes(b"\x00\x01")
    assert (await next_frame(ws, "error"))["code"] == "binary_frame"

    await ws.send_json({"type": "ping"})
    assert (await next_frame(ws, "pong")) == {"type": "pong"}
    await no_frame(ws, "ack")
    await ws.close()

    await add_agent(hub, "audit@example.com", Role.SUPERVISOR)
    agent = await login_as("audit@example.com")
    _, inbox = await agent.get("/api/conversations?view=all")
    assert inbox["conversations"] == []


async def test_a_message_sent_in_one_tab_shows_in_the_visitors_other_tab_once(hub: TestClient) -> None:
    first, welcome = await open_chat(hub)
    second, _ = await open_chat(hub, token=welcome["token"])
    ack = await say(first, "t-1", "Is the red kettle back in stock?")
    shown = await next_frame(second, "message")
    assert (shown["id"], shown["seq"], shown["author"]) == (ack["message_id"], 1, "customer")
    assert shown["text"] == "Is the red kettle back in stock?" and shown["client_id"] == "t-1"
    await no_frame(first, "message")  # the sending tab has it already: no echo back to it
    await first.close()
    await second.close()
