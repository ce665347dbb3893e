"""Replies go out through the real twilio client to a loopback Messages API; failures say what to do next."""
from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web

from channels.base import Attachment, Button, DeliveryStatus, OutboundMessage
from channels.sms.adapter import TwilioSmsChannel
from channels.sms.segments import segment_count
from tests.channels.sms.conftest import (
    SMS_NUMBER,
    WHATSAPP_NUMBER,
    RecordingHub,
    ServeChannels,
    make_config,
)
from tests.fakes.twilio_api import FakeTwilioApi, LoopbackTwilioHttpClient

CUSTOMER = "+8613800138000"


def reply(text: str, channel: str = "sms", **kwargs: Any) -> OutboundMessage:
    return OutboundMessage(message_id=7, conversation_id=3, channel=channel, recipient=CUSTOMER, text=text, **kwargs)


async def test_a_reply_is_sent_from_our_number_with_a_status_callback(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    server, channels = await serve()
    result = await channels["sms"].send(reply("Your parcel left the warehouse today."))
    assert result.ok and result.status is DeliveryStatus.SENT and not result.retryable
    [sent] = twilio_api.accepted
    assert result.external_id == sent.sid and re.fullmatch(r"SM[0-9a-f]{32}", sent.sid or "")
    assert (sent.to, sent.form["From"], sent.body) == (CUSTOMER, SMS_NUMBER, "Your parcel left the warehouse today.")
    assert sent.form["StatusCallback"] == str(server.make_url("/channels/twilio/sms/status"))


async def test_a_whatsapp_reply_uses_whatsapp_addresses(serve: ServeChannels, twilio_api: FakeTwilioApi) -> None:
    _, channels = await serve()
    result = await channels["whatsapp"].send(reply("退货请点击链接填写表格。", channel="whatsapp"))
    assert result.ok
    [sent] = twilio_api.accepted
    assert (sent.to, sent.form["From"]) == ("whatsapp:" + CUSTOMER, WHATSAPP_NUMBER)


async def test_a_messaging_service_can_pick_the_sender(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve(from_=None, messaging_service_sid="MG" + "a" * 32)
    assert (await channels["sms"].send(reply("Hello"))).ok
    [sent] = twilio_api.accepted
    assert "From" not in sent.form and sent.form["MessagingServiceSid"] == "MG" + "a" * 32


async def test_buttons_become_numbered_choices_and_images_go_as_media(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    photo = Attachment("label.png", "image/png", 1200, url="https://files.example.com/label.png")
    buttons = (Button("Track", "track"), Button("Agent", "agent"))
    assert (await channels["sms"].send(reply("What next?", buttons=buttons, attachments=(photo,)))).ok
    [sent] = twilio_api.accepted
    assert sent.body == "What next?\n1. Track\n2. Agent"
    assert sent.media_urls == ["https://files.example.com/label.png"]
    assert sent.sid and sent.sid.startswith("MM")


async def test_long_chinese_text_goes_as_several_sms_whose_callbacks_report_as_one(
    serve: ServeChannels, twilio_api: FakeTwilioApi, hub: RecordingHub
) -> None:
    _, channels = await serve()
    text = "您好，关于您的退款申请：我们已经收到退回的商品，质检通过后会在三到五个工作日内原路退回。" * 25
    result = await channels["sms"].send(reply(text))
    assert result.ok
    parts = twilio_api.accepted
    assert len(parts) == 2
    assert "".join(p.body for p in parts) == text
    assert all(segment_count(p.body) <= 10 and p.body.endswith(("。", "：", "，")) for p in parts[:-1])
    assert result.external_id == parts[0].sid

    for part in parts:
        assert await twilio_api.fire_status(part.sid or "", "delivered") == 200
    assert [(u.external_id, u.status) for u in hub.updates] == [(result.external_id, DeliveryStatus.DELIVERED)] * 2


async def test_a_status_callback_for_a_sent_reply_reaches_the_hub(
    serve: ServeChannels, twilio_api: FakeTwilioApi, hub: RecordingHub
) -> None:
    _, channels = await serve()
    result = await channels["whatsapp"].send(reply("Done!", channel="whatsapp"))
    assert await twilio_api.fire_status(result.external_id or "", "read") == 200
    [update] = hub.updates
    assert (update.channel, update.external_id, update.status) == ("whatsapp", result.external_id, DeliveryStatus.READ)


async def test_a_provider_outage_is_retryable_and_the_retry_goes_through(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    twilio_api.fail_next(1, status=503)
    first = await channels["sms"].send(reply("Hello again"))
    assert (first.status, first.retryable, first.external_id) == (DeliveryStatus.FAILED, True, None)
    assert first.error is not None and "503" in first.error
    second = await channels["sms"].send(reply("Hello again"))
    assert second.ok
    assert [m.http_status for m in twilio_api.received] == [503, 201]


async def test_an_unsubscribed_recipient_is_a_permanent_failure_with_code_21610(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    twilio_api.unsubscribed.add(CUSTOMER)
    result = await channels["sms"].send(reply("Are you still there?"))
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert result.error == "twilio 21610: Attempt to send to unsubscribed recipient"


async def test_an_invalid_number_is_a_permanent_failure_with_code_21211(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    result = await channels["sms"].send(replace(reply("Hi"), recipient="12345"))
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert result.error is not None and result.error.startswith("twilio 21211:")


async def test_a_customer_who_opted_out_is_never_sent_to(serve: ServeChannels, twilio_api: FakeTwilioApi) -> None:
    _, channels = await serve()
    result = await channels["sms"].send(reply("Special offer!", metadata={"opted_out": True}))
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert "opted out" in (result.error or "")
    assert twilio_api.received == []


async def test_wrong_credentials_are_retryable_so_messages_survive_a_token_rotation(
    twilio_api: FakeTwilioApi, hub: RecordingHub
) -> None:
    http = twilio_api.http_client()
    channel = TwilioSmsChannel(make_config(auth_token="not-the-token"), http_client=http)
    await channel.start(hub.port)
    try:
        result = await channel.send(reply("Hi"))
    finally:
        await channel.stop()
        await http.close()
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, True)
    assert result.error == "twilio 20003: Authenticate"


async def test_an_api_key_can_stand_in_for_the_auth_token_when_sending(
    twilio_api: FakeTwilioApi, hub: RecordingHub
) -> None:
    key, secret = "SK" + "5" * 32, "key-secret"
    twilio_api.api_keys[key] = secret
    http = twilio_api.http_client()
    channel = TwilioSmsChannel(make_config(api_key_sid=key, api_key_secret=secret), http_client=http)
    await channel.start(hub.port)
    try:
        assert (await channel.send(reply("Hi"))).ok
        twilio_api.api_keys[key] = "revoked"
        assert (await channel.send(reply("Hi"))).error == "twilio 20003: Authenticate"
    finally:
        await channel.stop()
        await http.close()


async def test_twilio_unreachable_is_retryable(hub: RecordingHub) -> None:
    http = LoopbackTwilioHttpClient("http://127.0.0.1:9", timeout=2)  # discard port: refused
    channel = TwilioSmsChannel(make_config(), http_client=http)
    await channel.start(hub.port)
    try:
        result = await channel.send(reply("Hi"))
    finally:
        await channel.stop()
        await http.close()
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, True)
    assert (result.error or "").startswith("twilio unreachable: ")


async def test_a_stalled_api_times_out_instead_of_blocking_the_outbox(aiohttp_server: Any, hub: RecordingHub) -> None:
    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", stall)
    server = await aiohttp_server(app, host="127.0.0.1")
    http = LoopbackTwilioHttpClient(str(server.make_url("")).rstrip("/"), timeout=0.3)
    channel = TwilioSmsChannel(make_config(), http_client=http)
    await channel.start(hub.port)
    try:
        result = await asyncio.wait_for(channel.send(reply("Hi")), timeout=5)
    finally:
        await channel.stop()
        await http.close()
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, True)
    assert "TimeoutError" in (result.error or "")


async def test_an_outage_midway_through_a_split_reply_is_retried_in_place(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    text = "word " * 700  # three parts of at most ten GSM-7 segments
    twilio_api.fail_calls(2, 3, status=500)  # part 2 fails twice, then goes through
    result = await channels["sms"].send(reply(text))
    assert result.ok
    assert [m.http_status for m in twilio_api.received] == [201, 500, 500, 201, 201]
    assert " ".join(m.body for m in twilio_api.accepted) == text.strip()
    first, *later = twilio_api.accepted
    assert all(m.form["StatusCallback"].endswith(f"?kefu_parent={first.sid}") for m in later)


async def test_a_part_that_keeps_failing_ends_as_a_permanent_partial_failure(
    serve: ServeChannels, twilio_api: FakeTwilioApi
) -> None:
    _, channels = await serve()
    twilio_api.fail_calls(2, 3, 4)
    result = await channels["sms"].send(reply("word " * 700))
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert result.external_id == twilio_api.accepted[0].sid
    assert result.error == "sent 1 of 3 parts, then twilio 20503: Service Unavailable"
    assert len(twilio_api.received) == 4


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (reply("", attachments=()), "nothing to send"),
        (reply("see file", attachments=(Attachment("a.pdf", "application/pdf", 10, data=b"x"),)), "public URL"),
    ],
)
async def test_replies_twilio_cannot_take_fail_without_calling_it(
    serve: ServeChannels, twilio_api: FakeTwilioApi, message: OutboundMessage, reason: str
) -> None:
    _, channels = await serve()
    result = await channels["sms"].send(message)
    assert (result.status, result.retryable) == (DeliveryStatus.FAILED, False)
    assert reason in (result.error or "")
    assert twilio_api.received == []
