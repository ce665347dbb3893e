"""The whole trip through a running hub: a customer texts in, an agent's reply goes out, Twilio reports back."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from channels.sms.adapter import TwilioSmsChannel, TwilioWhatsAppChannel
from hub.actions import SYSTEM, Actions
from hub.config import Settings
from hub.keys import ACTIONS, QUERIES
from hub.queries import Queries
from tests.channels.sms.conftest import AUTH_TOKEN, fixture, free_port, make_config
from tests.fakes.twilio_api import FakeTwilioApi, post_signed

CUSTOMER = "+14155550123"


@dataclass
class RunningHub:
    server: TestServer
    actions: Actions
    queries: Queries

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def conversation_of(self, channel: str, address: str) -> int:
        customer = await self.queries.visitor_customer(channel, address)
        assert customer is not None, f"no customer for {channel} {address}"
        conversation = await self.queries.open_conversation_for(customer, channel)
        assert conversation is not None
        return conversation

    async def wait_for_status(self, message_id: int, status: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            message = await self.queries.message(message_id)
            assert message is not None
            if message["delivery_status"] == status:
                return message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"message {message_id} stayed {message['delivery_status']}: {message}")
            await asyncio.sleep(0.02)


@pytest.fixture
async def running_hub(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings, twilio_api: FakeTwilioApi
) -> AsyncIterator[RunningHub]:
    from hub.app import create_app

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    clients = [twilio_api.http_client(), twilio_api.http_client()]
    channels = [
        TwilioSmsChannel(make_config("sms", public_url=public), http_client=clients[0]),
        TwilioWhatsAppChannel(make_config("whatsapp", public_url=public), http_client=clients[1]),
    ]
    app: web.Application = create_app(settings, extra_channels=channels)
    server = await aiohttp_server(app, host="127.0.0.1", port=port)
    yield RunningHub(server, app[ACTIONS], app[QUERIES])
    await server.close()
    for client in clients:
        await client.close()


async def test_a_texted_question_is_stored_once_and_the_reply_is_delivered(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    inbound = running_hub.url("/channels/twilio/sms/inbound")
    form = fixture("inbound_sms")
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200  # Twilio retried
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    [question] = await running_hub.queries.messages(conversation)
    assert (question["text"], question["channel"]) == (form["Body"], "sms")

    text = "您好！您的包裹已于今天上午从上海仓库发出，预计两到三个工作日送达，请保持电话畅通。" * 20
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, text)
    sent = await running_hub.wait_for_status(reply_id, "sent")
    parts = twilio_api.accepted
    assert len(parts) == 2 and "".join(p.body for p in parts) == text
    assert all(p.to == CUSTOMER for p in parts)

    for part in parts:
        assert await twilio_api.fire_status(part.sid or "", "delivered") == 200
    delivered = await running_hub.wait_for_status(reply_id, "delivered")
    assert delivered["delivery_error"] is None and sent["id"] == reply_id


async def test_a_whatsapp_customer_gets_the_reply_on_whatsapp(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    form = fixture("inbound_whatsapp")
    assert await post_signed(running_hub.url("/channels/twilio/whatsapp/inbound"), form, AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("whatsapp", "+8613912345678")
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "退货请在订单页点击“申请退货”。")
    await running_hub.wait_for_status(reply_id, "sent")
    [sent] = twilio_api.accepted
    assert (sent.to, sent.form["From"]) == ("whatsapp:+8613912345678", "whatsapp:+14155238886")
    assert await twilio_api.fire_status(sent.sid or "", "read") == 200
    await running_hub.wait_for_status(reply_id, "read")


async def test_a_recipient_twilio_has_blocked_ends_failed_with_21610(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    assert await post_signed(running_hub.url("/channels/twilio/sms/inbound"), fixture("inbound_sms"), AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    twilio_api.unsubscribed.add(CUSTOMER)
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Still there?")
    failed = await running_hub.wait_for_status(reply_id, "failed")
    assert failed["delivery_error"] == "twilio 21610: Attempt to send to unsubscribed recipient"
    assert len(twilio_api.received) == 1  # permanent: the outbox did not retry


async def test_an_outage_is_ridden_out_by_the_outbox(running_hub: RunningHub, twilio_api: FakeTwilioApi) -> None:
    assert await post_signed(running_hub.url("/channels/twilio/sms/inbound"), fixture("inbound_sms"), AUTH_TOKEN) == 200
    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    twilio_api.fail_next(2, status=503)
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Checking now.")
    await running_hub.wait_for_status(reply_id, "sent")
    assert [m.http_status for m in twilio_api.received] == [503, 503, 201]
