"""A customer writes to the support bot; Telegram posts the Update to Kefu's webhook."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp.test_utils import TestClient

from channels.telegram.webhook import SECRET_HEADER
from tests.channels.telegram.conftest import SECRET, RecordingHub, fixture
from tests.fakes.telegram_api import FakeTelegramAPI

Serve = Callable[..., Awaitable[TestClient]]
PATH = "/channels/telegram/webhook"


async def post_update(client: TestClient, update: object, secret: str | None = SECRET) -> tuple[int, dict]:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    response = await client.post(PATH, json=update, headers=headers)
    return response.status, await response.json()


async def test_a_text_message_reaches_the_hub_as_one_inbound_message(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    status, body = await post_update(client, fixture("text"))

    assert (status, body) == (200, {"ok": True})
    [message] = hub.delivered
    assert message.channel == "telegram"
    assert message.external_id == "5127460391:41"
    assert message.sender == "5127460391"
    assert message.sender_name == "Ada Lovelace"
    assert message.text == "Hi, my order #A-1093 has not arrived yet"
    assert message.received_at == datetime(2024, 5, 18, 9, 0, tzinfo=UTC)
    assert message.metadata["username"] == "ada_l"
    assert message.metadata["language_code"] == "en"
    assert not message.automated


async def test_chinese_text_and_emoji_arrive_intact(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    status, _ = await post_update(client, fixture("text_chinese"))

    assert status == 200
    [message] = hub.delivered
    assert message.text == "你好，我的订单还没到。订单号：20240518-7731 😟"
    assert message.sender_name == "李伟"
    assert message.metadata["language_code"] == "zh-hans"


async def test_a_photo_arrives_with_its_caption_and_the_largest_size_downloaded(
    webhook: Serve, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"crushed box" * 100
    api.add_file("AgACAgIAAxkBAAIBKmZIc2-large", jpeg, file_path="photos/file_12.jpg")
    client = await webhook()

    status, _ = await post_update(client, fixture("photo_caption"))

    assert status == 200
    [message] = hub.delivered
    assert message.text == "The box arrived crushed"
    [photo] = message.attachments
    assert photo.data == jpeg
    assert photo.size == len(jpeg)
    assert photo.content_type == "image/jpeg"
    assert photo.url is None  # the download URL carries the bot token; it is never stored
    assert [c.params["file_id"] for c in api.calls_to("getFile")] == ["AgACAgIAAxkBAAIBKmZIc2-large"]
    assert api.downloads == ["photos/file_12.jpg"]
    assert message.metadata["files"][0]["status"] == "fetched"


async def test_a_document_arrives_with_its_name_type_and_bytes(
    webhook: Serve, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 8
    api.add_file("BQACAgIAAxkBAAIBLGZIc4-invoice", pdf, file_path="documents/file_3.pdf")
    client = await webhook()

    await post_update(client, fixture("document"))

    [message] = hub.delivered
    [document] = message.attachments
    assert (document.filename, document.content_type, document.data) == ("invoice-A-1093.pdf", "application/pdf", pdf)
    assert message.metadata["files"][0]["file_id"] == "BQACAgIAAxkBAAIBLGZIc4-invoice"


async def test_a_file_over_the_size_limit_is_announced_but_not_downloaded(
    webhook: Serve, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    api.add_file("BQACAgIAAxkBAAIBLGZIc4-invoice", b"x" * 2048)
    client = await webhook(max_download_bytes=1024)

    status, _ = await post_update(client, fixture("document"))

    assert status == 200
    [message] = hub.delivered
    assert message.attachments[0].data is None
    assert message.metadata["files"][0]["status"] == "too_large"
    assert api.downloads == []


async def test_a_file_telegram_cannot_serve_still_delivers_the_message(
    webhook: Serve, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    client = await webhook()  # the fake knows no such file_id

    status, _ = await post_update(client, fixture("voice"))

    assert status == 200
    [message] = hub.delivered
    assert message.attachments[0].data is None
    assert message.metadata["files"][0] == {
        "kind": "voice",
        "file_id": "AwACAgUAAxkBAAIBMGZIdA-voice",
        "file_unique_id": "AgADkAwAAj-voice",
        "status": "failed",
        "error": "Invalid file_id",
    }


async def test_sharing_their_own_contact_gives_a_verified_phone_number(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    await post_update(client, fixture("contact_own"))

    [message] = hub.delivered
    assert message.verified_addresses == (("phone", "+8613800138000"),)
    assert message.metadata["phone_number"] == "+8613800138000"
    assert message.metadata["reply_to"] == "6093318842:6"


async def test_a_tapped_button_arrives_as_its_payload_and_the_tap_is_acknowledged(
    webhook: Serve, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    client = await webhook()

    status, _ = await post_update(client, fixture("callback_query"))

    assert status == 200
    [message] = hub.delivered
    assert message.text == "intent:handoff"
    assert message.metadata["button"] is True
    assert message.metadata["button_title"] == "Talk to a person"
    assert message.external_id == "cb:2201203873927651842"
    [answer] = api.calls_to("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "2201203873927651842"


async def test_the_same_update_posted_twice_is_recognised_as_a_duplicate(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    first, _ = await post_update(client, fixture("text"))
    second, _ = await post_update(client, fixture("text"))

    assert (first, second) == (200, 200)
    assert len(hub.delivered) == 1


async def test_a_wrong_secret_is_refused_with_403_and_nothing_is_delivered(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    status, body = await post_update(client, fixture("text"), secret=SECRET + "x")

    assert status == 403
    assert body == {"ok": False, "error": "missing or wrong secret token"}
    assert hub.delivered == []


async def test_a_missing_secret_is_refused_with_403(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    status, body = await post_update(client, fixture("text"), secret=None)

    assert status == 403
    assert body["ok"] is False
    assert hub.delivered == []


async def test_a_body_that_is_not_json_is_a_400(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    response = await client.post(PATH, data=b"{not json", headers={SECRET_HEADER: SECRET})

    assert response.status == 400
    assert await response.json() == {"ok": False, "error": "body is not JSON"}


async def test_a_malformed_update_is_a_400_that_says_what_is_wrong(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()
    update = fixture("text")
    del update["message"]["chat"]

    status, body = await post_update(client, update)

    assert status == 400
    assert body == {"ok": False, "error": "message.chat must be an object"}
    assert hub.delivered == []


async def test_a_bot_membership_change_is_accepted_and_ignored(webhook: Serve, hub: RecordingHub) -> None:
    client = await webhook()

    status, body = await post_update(client, fixture("my_chat_member"))

    assert (status, body) == (200, {"ok": True, "ignored": True})
    assert hub.delivered == []


async def test_when_the_hub_fails_telegram_gets_a_500_and_its_retry_is_stored(
    webhook: Serve, hub: RecordingHub
) -> None:
    client = await webhook()
    hub.failures_left = 1

    failed, _ = await post_update(client, fixture("text"))
    retried, _ = await post_update(client, fixture("text"))

    assert (failed, retried) == (500, 200)
    assert [m.external_id for m in hub.delivered] == ["5127460391:41"]


async def test_a_configured_webhook_url_is_registered_with_the_secret(webhook: Serve, api: FakeTelegramAPI) -> None:
    await webhook(webhook_url="https://support.example.com/channels/telegram/webhook")

    [call] = api.calls_to("setWebhook")
    assert call.params["url"] == "https://support.example.com/channels/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "edited_message", "callback_query"]
