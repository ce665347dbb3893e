"""Someone scripting the public chat cannot flood the queue: past a person's pace their messages get an
error frame with the wait and are not stored, the socket stays open, and other customers chat on."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.config import Settings
from tests.channels.webchat.test_webchat_story import open_chat, say
from tests.support import next_frame


async def start_hub(aiohttp_client: Any, settings: Settings, **limits: Any) -> TestClient:
    from hub.app import create_app

    return await aiohttp_client(create_app(dataclasses.replace(settings, **limits)))


async def test_a_visitor_sending_too_fast_is_told_to_wait_and_nothing_is_stored(
    aiohttp_client: Any, settings: Settings
) -> None:
    hub = await start_hub(aiohttp_client, settings, webchat_messages_per_minute=3)
    spammer, welcome = await open_chat(hub)
    for n in range(3):
        assert (await say(spammer, f"s-{n}", f"buy cheap watches {n}"))["seq"] == n + 1

    await spammer.send_json({"type": "message", "client_id": "s-3", "text": "buy cheap watches 3"})
    refused = await next_frame(spammer, "error")
    assert refused["code"] == "rate_limited" and refused["client_id"] == "s-3"
    assert 1 <= refused["retry_after"] <= 60 and "send again in" in refused["message"]

    await spammer.send_json({"type": "ping"})  # the socket is still open
    assert (await next_frame(spammer))["type"] == "pong"

    customer, _ = await open_chat(hub)  # someone else is not held up
    ack = await say(customer, "c-1", "我的订单到哪了？")
    assert ack["seq"] == 1

    reloaded, history = await open_chat(hub, token=welcome["token"])
    assert [m["text"] for m in history["messages"]] == [f"buy cheap watches {n}" for n in range(3)]
    for ws in (spammer, customer, reloaded):
        await ws.close()


async def test_many_visitors_from_one_address_share_a_larger_allowance(
    aiohttp_client: Any, settings: Settings
) -> None:
    hub = await start_hub(
        aiohttp_client, settings, webchat_messages_per_minute=10, webchat_messages_per_minute_per_address=4
    )
    tabs = [(await open_chat(hub))[0] for _ in range(3)]  # fresh tokens, one address
    for i, ws in enumerate(tabs[:2]):
        await say(ws, f"a-{i}", "hello")
        await say(ws, f"b-{i}", "hello again")
    await tabs[2].send_json({"type": "message", "client_id": "c-0", "text": "and me"})
    assert (await next_frame(tabs[2], "error"))["code"] == "rate_limited"
    for ws in tabs:
        await ws.close()


@pytest.mark.parametrize("name", ["KEFU_WEBCHAT_MESSAGES_PER_MINUTE", "KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS"])
def test_a_negative_limit_is_named(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: "-5"})
