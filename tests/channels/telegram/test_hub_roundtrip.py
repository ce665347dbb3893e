"""The whole trip through a running hub: a customer writes to the bot, taps a button, gets replies."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from channels.base import Button
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import TelegramConfig
from channels.telegram.webhook import SECRET_HEADER
from hub.actions import SYSTEM, Actions
from hub.config import Settings
from hub.keys import ACTIONS, QUERIES
from hub.queries import Queries
from tests.channels.telegram.conftest import SECRET, fixture
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support import open_conversation_of, wait_for_delivery_status

ADA = "5127460391"


@dataclass
class RunningHub:
    server: TestServer
    actions: Actions
    queries: Queries

    async def post_update(self, update: dict[str, Any]) -> int:
        async with ClientSession() as session:
            url = self.server.make_url(TelegramChannel.webhook_path)
            async with session.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                return response.status

    async def conversation_of(self, address: str) -> int:
        return await open_conversation_of(self.queries, "telegram", address)

    async def wait_for_status(self, message_id: int, status: str, timeout: float = 5.0) -> dict[str, Any]:
        return await wait_for_delivery_status(self.queries, message_id, status, timeout)


@pytest.fixture
async def running_hub(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    settings: Settings,
    make_config: Callable[..., TelegramConfig],
) -> AsyncIterator[RunningHub]:
    from hub.app import create_app

    app: web.Application = create_app(settings, extra_channels=[TelegramChannel(make_config())])
    server = await aiohttp_server(app, host="127.0.0.1")
    yield RunningHub(server, app[ACTIONS], app[QUERIES])
    await server.close()


async def test_a_question_is_stored_once_and_the_answer_comes_back_with_buttons(
    running_hub: RunningHub, api: FakeTelegramAPI
) -> None:
    assert await running_hub.post_update(fixture("text")) == 200
    assert await running_hub.post_update(fixture("text")) == 200  # Telegram redelivered
    conversation = await running_hub.conversation_of(ADA)
    [question] = await running_hub.queries.messages(conversation)
    assert (question["text"], question["channel"]) == ("Hi, my order #A-1093 has not arrived yet", "telegram")

    buttons = [Button("Track my order", "intent:track_order"), Button("Talk to a person", "intent:handoff")]
    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "What would you like to do?", buttons=buttons)
    await running_hub.wait_for_status(reply_id, "sent")

    [sent] = api.calls_to("sendMessage")
    assert sent.params["chat_id"] == int(ADA)
    assert [row[0]["callback_data"] for row in sent.params["reply_markup"]["inline_keyboard"]] == [
        "intent:track_order", "intent:handoff",
    ]

    assert await running_hub.post_update(fixture("callback_query")) == 200
    texts = [m["text"] for m in await running_hub.queries.messages(conversation)]
    assert texts[-1] == "intent:handoff"


async def test_a_photo_is_stored_with_its_bytes(running_hub: RunningHub, api: FakeTelegramAPI) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"crushed box" * 100
    api.add_file("AgACAgIAAxkBAAIBKmZIc2-large", jpeg, file_path="photos/file_12.jpg")

    assert await running_hub.post_update(fixture("photo_caption")) == 200

    [message] = await running_hub.queries.messages(await running_hub.conversation_of(ADA))
    [attachment] = message["attachments"]
    assert attachment["size"] == len(jpeg)
    assert message["text"] == "The box arrived crushed"


async def test_a_customer_who_blocked_the_bot_ends_failed_without_retries(
    running_hub: RunningHub, api: FakeTelegramAPI
) -> None:
    assert await running_hub.post_update(fixture("text")) == 200
    conversation = await running_hub.conversation_of(ADA)
    api.block(int(ADA))

    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Is there anything else?")
    failed = await running_hub.wait_for_status(reply_id, "failed")

    assert failed["delivery_error"] == "Forbidden: bot was blocked by the user"
    assert len(api.calls_to("sendMessage")) == 1


async def test_a_telegram_outage_is_ridden_out_by_the_outbox(running_hub: RunningHub, api: FakeTelegramAPI) -> None:
    assert await running_hub.post_update(fixture("text")) == 200
    conversation = await running_hub.conversation_of(ADA)
    api.fail("sendMessage", code=502, description="Bad Gateway", times=2)

    reply_id = await running_hub.actions.post_reply(conversation, SYSTEM, "Checking now.")

    await running_hub.wait_for_status(reply_id, "sent")
    assert len(api.calls_to("sendMessage")) == 3
