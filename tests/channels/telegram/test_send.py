"""An agent or the bot replies; the outbox hands the stored message to TelegramChannel.send."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from channels.base import Attachment, Button, DeliveryStatus, OutboundMessage
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import TelegramConfig
from tests.channels.telegram.conftest import TOKEN, RecordingHub
from tests.fakes.telegram_api import FakeTelegramAPI

Start = Callable[..., Awaitable[TelegramChannel]]
CHAT = "5127460391"


def reply(text: str = "", *, message_id: int = 1, recipient: str = CHAT, **fields: Any) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id, conversation_id=1, channel="telegram", recipient=recipient, text=text, **fields
    )


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_reply_with_buttons_arrives_as_text_with_an_inline_keyboard(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()
    buttons = (Button("Track my order", "intent:track_order"), Button("Talk to a person", "intent:handoff"))

    result = await channel.send(reply("What would you like to do?", buttons=buttons))

    assert result.ok and result.status is DeliveryStatus.SENT
    [call] = api.calls_to("sendMessage")
    assert call.params["chat_id"] == 5127460391
    assert call.params["text"] == "What would you like to do?"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Track my order", "callback_data": "intent:track_order"}],
            [{"text": "Talk to a person", "callback_data": "intent:handoff"}],
        ]
    }
    assert result.external_id == f"{CHAT}:1000"


async def test_a_long_reply_is_split_into_messages_telegram_accepts(started: Start, api: FakeTelegramAPI) -> None:
    channel = await started()
    paragraph = "退货流程：请在订单页面点击“申请退货”，填写原因并上传照片。我们会在两个工作日内处理。\n\n"
    text = paragraph * 120  # about 5,000 characters of Chinese, no spaces to break at

    result = await channel.send(reply(text, buttons=(Button("好的", "ok"),)))

    assert result.ok
    calls = api.calls_to("sendMessage")
    assert len(calls) == 2
    assert "".join(c.params["text"] for c in calls) == text
    assert all(c.params["text"].endswith("\n\n") for c in calls)
    assert "reply_markup" not in calls[0].params
    assert calls[1].params["reply_markup"]["inline_keyboard"] == [[{"text": "好的", "callback_data": "ok"}]]
    assert result.external_id == f"{CHAT}:1001"


async def test_a_button_payload_telegram_cannot_carry_falls_back_to_numbered_choices(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()
    buttons = (Button("Yes", "confirm:" + "x" * 80), Button("No", "cancel"))

    result = await channel.send(reply("Cancel the order?", buttons=buttons))

    assert result.ok
    [call] = api.calls_to("sendMessage")
    assert call.params["text"] == "Cancel the order?\n1. Yes\n2. No"
    assert "reply_markup" not in call.params


async def test_images_go_as_photos_and_other_files_as_documents(started: Start, api: FakeTelegramAPI) -> None:
    channel = await started()
    png = b"\x89PNG\r\n\x1a\n" + b"label" * 50
    csv = b"order,status\nA-1093,shipped\n"
    attachments = (
        Attachment("return-label.png", "image/png", len(png), data=png),
        Attachment("orders.csv", "text/csv", len(csv), data=csv),
    )

    result = await channel.send(reply("Here is your return label", attachments=attachments))

    assert result.ok
    assert [c.method for c in api.calls if c.method.startswith("send")] == ["sendMessage", "sendPhoto", "sendDocument"]
    [photo] = api.calls_to("sendPhoto")
    assert photo.uploads["photo"].data == png
    [document] = api.calls_to("sendDocument")
    assert (document.uploads["document"].filename, document.uploads["document"].data) == ("orders.csv", csv)


async def test_flood_control_is_retryable_and_respected_until_it_expires(
    make_config: Callable[..., TelegramConfig], hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    clock = Clock()
    channel = TelegramChannel(make_config(), clock=clock)
    await channel.start(hub.port)
    try:
        api.fail("sendMessage", code=429, description="Too Many Requests: retry after 30", retry_after=30)

        limited = await channel.send(reply("Your refund is on its way"))
        clock.now += 10
        too_soon = await channel.send(reply("Your refund is on its way"))
        clock.now += 21
        later = await channel.send(reply("Your refund is on its way"))
    finally:
        await channel.stop()

    assert (limited.status, limited.retryable) == (DeliveryStatus.FAILED, True)
    assert limited.error == "Too Many Requests: retry after 30s"
    assert (too_soon.retryable, too_soon.error) == (True, "Too Many Requests: retry after 20s")
    assert (limited.retry_after, too_soon.retry_after) == (30, 20)  # the outbox waits at least this long
    assert later.ok
    assert len(api.calls_to("sendMessage")) == 2, "nothing was sent while Telegram said to wait"


async def test_server_errors_and_an_unreachable_api_are_retryable(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()
    api.fail("sendMessage", code=500, description="Internal Server Error")

    server_error = await channel.send(reply("hello"))
    await api.close()
    unreachable = await channel.send(reply("hello"))

    assert (server_error.status, server_error.retryable) == (DeliveryStatus.FAILED, True)
    assert (unreachable.status, unreachable.retryable) == (DeliveryStatus.FAILED, True)
    assert TOKEN not in (unreachable.error or "")


async def test_a_customer_who_blocked_the_bot_is_a_permanent_failure_with_the_reason(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()
    api.block(5127460391)

    result = await channel.send(reply("Is there anything else?"))

    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert result.error == "Forbidden: bot was blocked by the user"


async def test_an_unknown_chat_is_a_permanent_failure(started: Start) -> None:
    channel = await started()

    result = await channel.send(reply("hello", recipient="@no_such_channel"))

    assert (result.status, result.retryable, result.error) == (DeliveryStatus.FAILED, False, "Chat not found")


async def test_a_message_with_nothing_to_send_fails_without_calling_telegram(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()

    result = await channel.send(reply("   "))

    assert (result.retryable, result.error) == (False, "nothing to send: no text and no attachments")
    assert api.calls_to("sendMessage") == []


async def test_a_retry_after_a_partial_send_does_not_repeat_the_parts_already_delivered(
    started: Start, api: FakeTelegramAPI
) -> None:
    channel = await started()
    parts = ["a" * 4000 + "\n", "b" * 4000 + "\n", "c" * 4000 + "\n"]
    api.fail("sendMessage", after=1, code=502, description="Bad Gateway")

    first = await channel.send(reply("".join(parts), message_id=7))
    second = await channel.send(reply("".join(parts), message_id=7))

    assert first.retryable and second.ok
    sent = [c.params["text"] for c in api.calls_to("sendMessage")]
    assert sent == [parts[0], parts[1], parts[1], parts[2]]  # part 2 failed once, then went through


async def test_typing_shows_while_an_agent_writes(started: Start, api: FakeTelegramAPI) -> None:
    channel = await started()

    assert await channel.send_typing("5127460391", True) is True
    assert await channel.send_typing("5127460391", False) is True  # nothing to call: it lapses
    api.block(5127460391)
    assert await channel.send_typing(5127460391) is False

    assert [c.params["action"] for c in api.calls_to("sendChatAction")] == ["typing", "typing"]


async def test_the_bot_token_never_reaches_the_logs(
    started: Start, api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    channel = await started()
    api.fail("sendMessage", code=500, description="Internal Server Error")

    await channel.send(reply("one"))
    await channel.send(reply("two"))

    assert caplog.records, "the HTTP client logs each request"
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(channel)
