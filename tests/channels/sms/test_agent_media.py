"""An agent's picture goes to an SMS/MMS customer as Twilio's MediaUrl: a signed link Twilio can fetch
(KEFU_PUBLIC_URL); without a public URL the send fails and says why."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from channels.sms.adapter import TwilioSmsChannel
from hub.config import Settings
from hub.keys import ACTIONS, QUERIES
from tests.channels.sms.conftest import AUTH_TOKEN, CUSTOMER, RunningHub, fixture, free_port, make_config
from tests.console.test_attachments import png
from tests.fakes.twilio_api import FakeTwilioApi, post_signed
from tests.support import add_agent, login


async def _hub(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings, twilio_api: FakeTwilioApi, public: bool
) -> AsyncIterator[RunningHub]:
    from hub.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = twilio_api.http_client()
    channel = TwilioSmsChannel(make_config("sms", public_url=base), http_client=client)
    app: web.Application = create_app(
        dataclasses.replace(settings, public_url=base if public else ""), extra_channels=[channel]
    )
    server = await aiohttp_server(app, host="127.0.0.1", port=port)
    yield RunningHub(server, app[ACTIONS], app[QUERIES])
    await server.close()
    await client.close()


@pytest.fixture
async def public_hub(aiohttp_server: Any, settings: Settings, twilio_api: FakeTwilioApi) -> AsyncIterator[RunningHub]:
    async for hub in _hub(aiohttp_server, settings, twilio_api, public=True):
        yield hub


@pytest.fixture
async def private_hub(aiohttp_server: Any, settings: Settings, twilio_api: FakeTwilioApi) -> AsyncIterator[RunningHub]:
    async for hub in _hub(aiohttp_server, settings, twilio_api, public=False):
        yield hub


async def send_picture(hub: RunningHub, picture: bytes) -> tuple[int, Any]:
    assert await post_signed(hub.url("/channels/twilio/sms/inbound"), fixture("inbound_sms"), AUTH_TOKEN) == 200
    conversation = await hub.conversation_of("sms", CUSTOMER)
    client = SimpleNamespace(server=hub.server, app=hub.server.app)
    await add_agent(client, "mei@example.com")  # type: ignore[arg-type]
    mei = await login(client, "mei@example.com")  # type: ignore[arg-type]
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("text", "This is the damaged box?")
    form.add_field("file", picture, filename="box.png", content_type="image/png")
    resp = await mei.client.post(
        f"/api/conversations/{conversation}/messages", data=form, headers={"X-CSRF-Token": mei.csrf}
    )
    assert resp.status == 201, await resp.text()
    # (closing the agent's client would close the hub's server: the test closes it at the end)
    return int((await resp.json())["message"]["id"]), mei.client


async def test_the_picture_goes_as_a_media_url_twilio_can_fetch(
    public_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    picture = png(40, 30)
    message_id, client = await send_picture(public_hub, picture)
    await public_hub.wait_for_status(message_id, "sent")
    [sent] = twilio_api.accepted
    [media] = sent.media_urls
    assert media.startswith(public_hub.url("/files/"))
    async with aiohttp.ClientSession() as session, session.get(media) as fetched:
        assert fetched.status == 200 and fetched.content_type == "image/png"
        assert await fetched.read() == picture
    await client.close()


async def test_without_a_public_url_the_send_fails_and_says_why(
    private_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    message_id, client = await send_picture(private_hub, png())
    failed = await private_hub.wait_for_status(message_id, "failed")
    assert "public URL" in failed["delivery_error"] and twilio_api.accepted == []
    await client.close()
