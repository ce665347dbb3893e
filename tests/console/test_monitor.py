"""A supervisor monitoring a conversation sees its messages live; a plain agent sees only their own."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from tests.support import add_agent, next_frame, no_frame


async def test_the_supervisor_sees_a_monitored_conversation_live(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    await add_agent(hub, "lin@example.com")
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR)
    mei = await login_as("mei@example.com")
    lin = await login_as("lin@example.com")
    boss = await login_as("boss@example.com")

    async def customer(text: str, external_id: str) -> int:
        result = await hub.app[ACTIONS].receive_inbound(
            InboundMessage(channel="sms", external_id=external_id, sender="+15550300", text=text)
        )
        await hub.app[BUS].drain()
        return int(result.conversation_id)

    conv = await customer("my parcel is lost", "m1")
    assert (await mei.post(f"/api/conversations/{conv}/take"))[0] == 200
    boss_ws = await boss.client.ws_connect("/api/ws")
    lin_ws = await lin.client.ws_connect("/api/ws")
    await next_frame(boss_ws, "hello")
    await next_frame(lin_ws, "hello")
    await boss_ws.send_json({"type": "watch", "conversation_id": conv})

    await customer("it was due on Monday", "m2")
    frame = await next_frame(boss_ws, "message")
    assert frame["conversation_id"] == conv and frame["message"]["text"] == "it was due on Monday"
    assert (await mei.post(f"/api/conversations/{conv}/messages", {"text": "I'm checking with the courier"}))[0] == 201
    await hub.app[BUS].drain()
    frame = await next_frame(boss_ws, "message")
    assert frame["message"]["text"] == "I'm checking with the courier" and frame["message"]["author"] == "agent"
    # The colleague who is not on it does not get the conversation's messages.
    await no_frame(lin_ws, "message")

    # Joining with a private note: the assignee sees it live too.
    mei_ws = await mei.client.ws_connect("/api/ws")
    await next_frame(mei_ws, "hello")
    status, body = await boss.post(f"/api/conversations/{conv}/mention-notes", {"text": "ask for the tracking number"})
    assert status == 201
    await hub.app[BUS].drain()
    frame = await next_frame(mei_ws, "message")
    assert frame["message"]["direction"] == "note" and frame["message"]["text"] == "ask for the tracking number"
    for ws in (boss_ws, lin_ws, mei_ws):
        await ws.close()
