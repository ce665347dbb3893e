"""An SMS customer gets the bot's buttons as numbered lines and picks one by texting its number."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bots.service import BOT_SERVICE
from channels.sms.adapter import TwilioSmsChannel
from hub.config import Settings
from tests.channels.sms.conftest import ACCOUNT_SID, AUTH_TOKEN, fixture, free_port, make_config
from tests.fakes.twilio_api import FakeTwilioApi, post_signed

CUSTOMER = "+8613800138000"


@pytest.fixture
async def twilio() -> AsyncIterator[FakeTwilioApi]:
    api = FakeTwilioApi(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    await api.start()
    yield api
    await api.close()


@pytest.fixture
async def sms_hub(aiohttp_server: Callable[..., Awaitable[TestServer]], bot_settings: Settings,
                  twilio: FakeTwilioApi) -> AsyncIterator[TestServer]:
    from hub.app import create_app

    port = free_port()
    client = twilio.http_client()
    channel = TwilioSmsChannel(make_config("sms", public_url=f"http://127.0.0.1:{port}"), http_client=client)
    app: web.Application = create_app(bot_settings, extra_channels=[channel])
    server = await aiohttp_server(app, host="127.0.0.1", port=port)
    await app[BOT_SERVICE].wait_ready(timeout=120)
    yield server
    await server.close()
    await client.close()


def texted(body: str, n: int) -> dict[str, str]:
    """A recorded inbound SMS webhook, from our customer, with this body and its own message SID."""
    sid = f"SM{n:032x}"
    return {**fixture("inbound_sms"), "From": CUSTOMER, "Body": body, "MessageSid": sid, "SmsSid": sid,
            "SmsMessageSid": sid}


async def texted_back(twilio: FakeTwilioApi, count: int, timeout: float = 30.0) -> list[str]:
    """The bodies of the first `count` texts Kefu sent, once they are all there."""
    async with asyncio.timeout(timeout):
        while len(twilio.accepted) < count:
            await asyncio.sleep(0.02)
    return [m.body for m in twilio.accepted]


async def test_buttons_become_numbered_text_and_a_number_picks_one(sms_hub: TestServer, twilio: FakeTwilioApi) -> None:
    inbound = str(sms_hub.make_url("/channels/twilio/sms/inbound"))
    form = texted("你好", 1)
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200
    [greeting] = await texted_back(twilio, 1)
    assert greeting == "您好！我是客服助手小服，请问有什么可以帮您？\n1. 查询订单\n2. 退款政策\n3. 转人工"

    reply = texted("2", 2)
    assert await post_signed(inbound, reply, AUTH_TOKEN) == 200
    _, answer = await texted_back(twilio, 2)
    assert answer.startswith("收货后7天内可无理由退货")

    # an SMS-only variation: the short opening-hours text
    ask = texted("你们几点营业？", 3)
    assert await post_signed(inbound, ask, AUTH_TOKEN) == 200
    *_, hours = await texted_back(twilio, 3)
    assert hours == "人工客服每天9:00-21:00在线。"
