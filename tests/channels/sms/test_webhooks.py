"""Twilio posts signed webhooks to Kefu over HTTP; only genuine, well-formed ones reach the hub."""
from __future__ import annotations

import aiohttp
from twilio.request_validator import RequestValidator

from channels.base import DeliveryStatus
from tests.channels.sms.conftest import AUTH_TOKEN, RecordingHub, ServeChannels, fixture
from tests.fakes.twilio_api import post_signed

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def post(url: str, form: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.post(url, data=form, headers=headers or {}) as resp:
        return resp.status, resp.content_type, await resp.text()


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


async def test_a_signed_sms_reaches_the_hub_and_twilio_gets_empty_twiml(
    serve: ServeChannels, hub: RecordingHub
) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms")
    status, content_type, body = await post(url, form, signature(url, form))
    assert (status, content_type, body) == (200, "text/xml", TWIML)
    [message] = hub.delivered
    assert (message.channel, message.sender, message.external_id) == (
        "sms",
        "+14155550123",
        "SM1f0e8a5e2d3c4b5a69788796a5b4c3d2",
    )
    assert message.text.startswith("Hi, my order #1042")


async def test_a_signed_whatsapp_message_reaches_the_hub_with_the_customers_name(
    serve: ServeChannels, hub: RecordingHub
) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/whatsapp/inbound"))
    form = fixture("inbound_whatsapp")
    assert (await post(url, form, signature(url, form)))[0] == 200
    [message] = hub.delivered
    assert (message.channel, message.sender, message.sender_name) == ("whatsapp", "+8613912345678", "李雷")


async def test_twilio_retrying_the_same_message_is_answered_200_and_stored_once(
    serve: ServeChannels, hub: RecordingHub
) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms")
    assert [(await post(url, form, signature(url, form)))[0] for _ in range(2)] == [200, 200]
    assert len(hub.delivered) == 1


async def test_a_stop_reply_reaches_the_hub_marked_as_an_opt_out(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_stop")
    assert (await post(url, form, signature(url, form)))[0] == 200
    assert hub.delivered[0].metadata["opt_out"] == "stop"


async def test_a_forged_or_unsigned_request_is_refused_with_403(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms")
    wrong_token = signature(url, form, token="0" * 32)
    tampered = signature(url, form)
    status, content_type, body = await post(url, form | {"Body": "refund me twice"}, tampered)
    assert (status, content_type) == (403, "application/json")
    assert "invalid X-Twilio-Signature" in body
    assert (await post(url, form, wrong_token))[0] == 403
    assert (await post(url, form))[0] == 403
    assert hub.delivered == []


async def test_a_signature_for_another_url_is_refused(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms")
    other = str(server.make_url("/channels/twilio/whatsapp/inbound"))
    assert (await post(url, form, signature(other, form)))[0] == 403
    assert hub.delivered == []


async def test_a_genuine_request_for_another_account_is_refused(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms") | {"AccountSid": "AC" + "9" * 32}
    status, _, body = await post(url, form, signature(url, form))
    assert status == 403 and "AccountSid" in body
    assert hub.delivered == []


async def test_a_signed_but_malformed_message_is_refused_with_400_and_the_reason(
    serve: ServeChannels, hub: RecordingHub
) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = {k: v for k, v in fixture("inbound_sms").items() if k != "From"}
    status, content_type, body = await post(url, form, signature(url, form))
    assert (status, content_type, body) == (400, "application/json", '{"error": "missing From"}')
    assert hub.delivered == []


async def test_json_bodies_are_refused_with_400(serve: ServeChannels) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    async with aiohttp.ClientSession() as session, session.post(url, json=fixture("inbound_sms")) as resp:
        assert resp.status == 400
        assert "x-www-form-urlencoded" in (await resp.json())["error"]


async def test_behind_a_proxy_the_public_url_is_what_twilio_signed(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve(public_url="https://support.example.com/kefu")
    local = str(server.make_url("/channels/twilio/sms/inbound"))
    public = "https://support.example.com/kefu/channels/twilio/sms/inbound"
    form = fixture("inbound_sms")
    assert (await post(local, form, signature(local, form)))[0] == 403
    assert (await post(local, form, signature(public, form)))[0] == 200
    assert len(hub.delivered) == 1


async def test_forwarded_headers_are_used_only_when_trusted(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve(public_url=None, trust_forwarded=True)
    local = str(server.make_url("/channels/twilio/sms/inbound"))
    public = "https://chat.example.org/channels/twilio/sms/inbound"
    form = fixture("inbound_sms")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "chat.example.org"}
    assert (await post(local, form, signature(public, form) | forwarded))[0] == 200

    server, _ = await serve(public_url=None, trust_forwarded=False)
    local = str(server.make_url("/channels/twilio/sms/inbound"))
    assert (await post(local, form, signature(public, form) | forwarded))[0] == 403
    assert (await post(local, form, signature(local, form) | forwarded))[0] == 200


async def test_a_status_callback_reaches_the_hub_as_a_delivery_update(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/status"))
    status = await post_signed(url, fixture("status_undelivered"), AUTH_TOKEN)
    assert status == 200
    [update] = hub.updates
    assert (update.external_id, update.status, update.error) == (
        "SMf6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1",
        DeliveryStatus.FAILED,
        "twilio 30003: unreachable destination handset",
    )


async def test_an_unsigned_status_callback_is_refused(serve: ServeChannels, hub: RecordingHub) -> None:
    server, _ = await serve()
    url = str(server.make_url("/channels/twilio/sms/status"))
    assert (await post(url, fixture("status_delivered")))[0] == 403
    assert hub.updates == []


async def test_a_stopped_channel_answers_503(serve: ServeChannels, hub: RecordingHub) -> None:
    server, channels = await serve()
    await channels["sms"].stop()
    url = str(server.make_url("/channels/twilio/sms/inbound"))
    form = fixture("inbound_sms")
    assert (await post(url, form, signature(url, form)))[0] == 503
    assert hub.delivered == []
