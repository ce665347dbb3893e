"""A customer's photo or PDF sent by MMS or WhatsApp is fetched from Twilio (with the account's
credentials, which never follow Twilio's redirect to its storage) and kept by the hub, so the agent
sees it even after Twilio deletes it; media that cannot be fetched never cost the message."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from channels.sms.media import sends_credentials
from tests.channels.sms.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CUSTOMER,
    RecordingHub,
    RunningHub,
    ServeChannels,
    fixture,
)
from tests.console.test_attachments import png
from tests.fakes.twilio_api import FakeTwilioApi, new_sid, post_signed
from tests.support import add_agent, login

RECEIPT = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def mms_form(twilio_api: FakeTwilioApi, *media: tuple[bytes, str], channel: str = "sms") -> dict[str, str]:
    """An incoming MMS (or WhatsApp message) webhook whose media the fake Twilio really holds."""
    sid = new_sid("MM")
    form = {k: v for k, v in fixture("inbound_mms").items() if not k.startswith(("MediaUrl", "MediaContentType"))}
    form.update({"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "NumMedia": str(len(media))})
    if channel == "whatsapp":
        form.update({"From": "whatsapp:+14155550123", "To": "whatsapp:+14155238886"})
    for i, (data, content_type) in enumerate(media):
        form[f"MediaUrl{i}"] = twilio_api.add_media(sid, data, content_type)
        form[f"MediaContentType{i}"] = content_type
    return form


async def post_inbound(server: object, form: dict[str, str], kind: str = "sms") -> int:
    url = str(server.make_url(f"/channels/twilio/{kind}/inbound"))  # type: ignore[attr-defined]
    return await post_signed(url, form, AUTH_TOKEN)


async def test_the_agent_opens_the_customers_photo_and_receipt_from_the_hub(
    running_hub: RunningHub, twilio_api: FakeTwilioApi
) -> None:
    photo = png()
    form = mms_form(twilio_api, (photo, "image/png"), (RECEIPT, "application/pdf"))
    assert await post_signed(running_hub.url("/channels/twilio/sms/inbound"), form, AUTH_TOKEN) == 200

    conversation = await running_hub.conversation_of("sms", CUSTOMER)
    client = SimpleNamespace(server=running_hub.server, app=running_hub.server.app)
    await add_agent(client, "mei@example.com")  # type: ignore[arg-type]
    mei = await login(client, "mei@example.com")  # type: ignore[arg-type]
    resp = await mei.client.get(f"/api/conversations/{conversation}")
    [message] = (await resp.json())["messages"]
    assert message["text"] == "Here is the damaged box and the receipt"
    assert [(a["content_type"], a["size"]) for a in message["attachments"]] == [
        ("image/png", len(photo)),
        ("application/pdf", len(RECEIPT)),
    ]
    assert [m["status"] for m in message["meta"]["media"]] == ["fetched", "fetched"]

    twilio_api.media.clear()  # the business deletes media at Twilio after a day, as Twilio advises
    for i, expected in enumerate((photo, RECEIPT)):
        resp = await mei.client.get(f"/api/messages/{message['id']}/attachments/{i}")
        assert resp.status == 200 and await resp.read() == expected


async def test_credentials_go_to_twilio_but_never_follow_the_redirect_to_storage(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve()
    photo = png()
    assert await post_inbound(server, mms_form(twilio_api, (photo, "image/png"))) == 200
    [message] = hub.delivered
    [attachment] = message.attachments
    assert attachment.data == photo and attachment.size == len(photo) and attachment.url is None
    # Twilio saw our Basic auth; the storage (which refuses a second auth mechanism with 400) served it.
    assert [with_auth for _, with_auth in twilio_api.media_requests] == [True]
    assert message.metadata["media"][0]["url"].startswith("https://api.twilio.com/2010-04-01/Accounts/")


async def test_with_an_api_key_the_key_fetches_the_media(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    key = "SK" + "7" * 32
    twilio_api.api_keys[key] = "key-secret"
    server, _ = await serve(api_key_sid=key, api_key_secret="key-secret")
    assert await post_inbound(server, mms_form(twilio_api, (RECEIPT, "application/pdf"))) == 200
    [message] = hub.delivered
    assert message.attachments[0].data == RECEIPT


async def test_wrong_credentials_are_reported_and_the_message_still_arrives(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    key = "SK" + "8" * 32
    server, _ = await serve(api_key_sid=key, api_key_secret="revoked")
    assert await post_inbound(server, mms_form(twilio_api, (RECEIPT, "application/pdf"))) == 200
    [message] = hub.delivered
    assert message.metadata["media"][0]["status"] == "failed"
    assert message.metadata["media"][0]["error"] == "HTTP 401 from 127.0.0.1"
    assert "revoked" not in repr(message.metadata)


async def test_a_whatsapp_voice_note_is_fetched_too(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve()
    voice = b"OggS\x00\x02" + bytes(range(256)) * 8
    assert await post_inbound(server, mms_form(twilio_api, (voice, "audio/ogg"), channel="whatsapp"), "whatsapp") == 200
    [message] = hub.delivered
    assert message.channel == "whatsapp" and message.attachments[0].data == voice
    assert message.attachments[0].filename.endswith(".oga") or message.attachments[0].filename.endswith(".ogg")


async def test_media_twilio_no_longer_has_still_lets_the_message_through_with_the_reason(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve()
    form = mms_form(twilio_api, (png(), "image/png"), (RECEIPT, "application/pdf"))
    twilio_api.media.pop(form["MediaUrl1"].rsplit("/", 1)[-1])
    assert await post_inbound(server, form) == 200
    [message] = hub.delivered
    photo, receipt = message.attachments
    assert photo.data is not None
    assert receipt.data is None and receipt.url == form["MediaUrl1"]
    assert [m["status"] for m in message.metadata["media"]] == ["fetched", "failed"]
    assert message.metadata["media"][1]["error"] == "HTTP 404 from 127.0.0.1"


async def test_media_over_the_limit_are_noted_not_downloaded(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve(max_media_bytes=1024)
    big = b"%PDF-1.4\n" + b"0" * 5000
    assert await post_inbound(server, mms_form(twilio_api, (big, "application/pdf"))) == 200
    [message] = hub.delivered
    [attachment] = message.attachments
    assert attachment.data is None and attachment.size == len(big)
    assert message.metadata["media"][0]["status"] == "too_large"


async def test_with_downloads_turned_off_the_media_keep_their_twilio_urls(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve(max_media_bytes=0)
    form = mms_form(twilio_api, (png(), "image/png"))
    assert await post_inbound(server, form) == 200
    [message] = hub.delivered
    assert message.attachments[0].data is None and message.attachments[0].url == form["MediaUrl0"]
    assert message.metadata["media"] == [{"url": form["MediaUrl0"], "status": "not_fetched"}]
    assert twilio_api.media_requests == []


async def test_slow_storage_cannot_make_twilio_give_up_on_the_webhook(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve(media_timeout=0.3)
    twilio_api.media_delay = 5.0
    started = asyncio.get_running_loop().time()
    assert await post_inbound(server, mms_form(twilio_api, (png(), "image/png"), (RECEIPT, "application/pdf"))) == 200
    assert asyncio.get_running_loop().time() - started < 3.0
    [message] = hub.delivered
    assert [m["status"] for m in message.metadata["media"]] == ["failed", "failed"]
    assert all(a.data is None and a.url for a in message.attachments)


async def test_with_deletion_on_the_media_the_hub_keeps_are_deleted_at_twilio(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve(delete_media=True, max_media_bytes=4096)
    big = b"%PDF-1.4\n" + b"0" * 5000
    form = mms_form(twilio_api, (png(), "image/png"), (big, "application/pdf"))
    photo_sid, big_sid = (form[f"MediaUrl{i}"].rsplit("/", 1)[-1] for i in (0, 1))
    assert await post_inbound(server, form) == 200
    [message] = hub.delivered
    assert message.attachments[0].data is not None
    # Only what the hub now holds is deleted; the file too big to fetch stays at Twilio.
    assert twilio_api.deleted_media == [photo_sid]
    assert big_sid in twilio_api.media and photo_sid not in twilio_api.media
    assert await post_inbound(server, form) == 200  # Twilio retried: nothing more to delete, still 200
    assert twilio_api.deleted_media == [photo_sid]


async def test_by_default_media_stay_at_twilio(
    serve: ServeChannels, hub: RecordingHub, twilio_api: FakeTwilioApi
) -> None:
    server, _ = await serve()
    assert await post_inbound(server, mms_form(twilio_api, (png(), "image/png"))) == 200
    assert twilio_api.deleted_media == [] and len(twilio_api.media) == 1


def test_only_twilios_own_https_hosts_get_the_account_credentials() -> None:
    media = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    assert sends_credentials("https://api.twilio.com" + media)
    assert sends_credentials("https://api.dublin.ie1.twilio.com" + media)
    assert not sends_credentials("http://api.twilio.com" + media)
    assert not sends_credentials("https://api.twilio.com.evil.example" + media)
    assert not sends_credentials("https://eviltwilio.com" + media)
    assert not sends_credentials("https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC/abc")
