"""Recorded Twilio webhooks become Kefu messages and delivery updates; bad ones say what is wrong."""
from __future__ import annotations

import re

import pytest

from channels.base import DeliveryStatus
from channels.sms.parse import TwilioPayloadError, error_text, opt_out_keyword, parse_inbound, parse_status
from tests.channels.sms.conftest import ACCOUNT_SID, fixture


def test_an_sms_becomes_an_inbound_message_from_the_phone_number() -> None:
    message = parse_inbound(fixture("inbound_sms"))
    assert message.channel == "sms"
    assert message.external_id == "SM1f0e8a5e2d3c4b5a69788796a5b4c3d2"
    assert message.sender == "+14155550123"
    assert message.text == "Hi, my order #1042 has not arrived yet. Can you check?"
    assert message.sender_name is None
    assert message.attachments == ()
    assert message.verified_addresses == (("phone", "+14155550123"),)
    assert message.metadata == {"account_sid": ACCOUNT_SID, "to": "+14155550100", "num_segments": "1"}


def test_chinese_text_arrives_intact() -> None:
    message = parse_inbound(fixture("inbound_sms_chinese"))
    assert message.text == "你好，我的快递三天了还没到，单号是SF1234567890，麻烦帮我查一下。"
    assert message.sender == "+8613800138000"


def test_mms_media_become_attachments_with_their_content_types() -> None:
    message = parse_inbound(fixture("inbound_mms"))
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("ME11112222333344445555666677778888.jpg", "image/jpeg"),
        ("ME99990000aaaabbbbccccddddeeeeffff.pdf", "application/pdf"),
    ]
    assert message.attachments[0].url is not None
    assert message.attachments[0].url.endswith("/Media/ME11112222333344445555666677778888")


def test_a_whatsapp_message_is_on_the_whatsapp_channel_with_the_profile_name() -> None:
    message = parse_inbound(fixture("inbound_whatsapp"))
    assert message.channel == "whatsapp"
    assert message.sender == "+8613912345678"
    assert message.sender_name == "李雷"
    assert message.text == "请问退货流程是怎样的？"
    assert message.metadata["wa_id"] == "8613912345678"
    assert message.metadata["to"] == "whatsapp:+14155238886"


def test_a_whatsapp_location_gets_readable_text_and_coordinates() -> None:
    message = parse_inbound(fixture("inbound_whatsapp_location"))
    assert message.text == "Location: Our Shanghai store (31.2304, 121.4737)"
    assert message.metadata["location"] == {
        "latitude": 31.2304,
        "longitude": 121.4737,
        "address": "People's Square, Shanghai",
        "label": "Our Shanghai store",
    }


def test_a_whatsapp_quick_reply_carries_its_payload_for_the_bot() -> None:
    message = parse_inbound(fixture("inbound_whatsapp_button"))
    assert message.metadata["button_payload"] == "track_order"
    assert message.metadata["in_reply_to_sid"] == "SMc0ffee00c0ffee00c0ffee00c0ffee00"


def test_stop_is_reported_as_an_opt_out() -> None:
    assert parse_inbound(fixture("inbound_stop")).metadata["opt_out"] == "stop"


def test_advanced_opt_out_type_wins_over_our_keyword_list() -> None:
    form = fixture("inbound_sms") | {"Body": "ARRET", "OptOutType": "STOP"}
    assert parse_inbound(form).metadata["opt_out"] == "stop"


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("STOP", "stop"),
        ("stopall", "stop"),
        (" Unsubscribe ", "stop"),
        ("cancel", "stop"),
        ("END", "stop"),
        ("Quit", "stop"),
        ("START", "start"),
        ("yes", "start"),
        ("unstop", "start"),
        ("HELP", "help"),
        ("info", "help"),
        ("please stop", None),  # Twilio only acts on single-word messages
        ("stopped", None),
        ("STOP!", None),
        ("", None),
    ],
)
def test_opt_out_keywords_match_twilios_defaults(body: str, intent: str | None) -> None:
    assert opt_out_keyword(body) == intent
    form = fixture("inbound_sms") | {"Body": body or "x"}
    assert parse_inbound(form).metadata.get("opt_out") == (intent if body else None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"MessageSid": ""}, "missing MessageSid"),
        ({"MessageSid": "12345"}, "MessageSid is not a Twilio SID"),
        ({"AccountSid": ""}, "missing AccountSid"),
        ({"From": ""}, "missing From"),
        ({"To": "  "}, "missing To"),
        ({"Body": "", "NumMedia": "0"}, "no Body, media or location"),
        ({"NumMedia": "two"}, "NumMedia must be 0..10"),
        ({"NumMedia": "11"}, "NumMedia must be 0..10"),
        ({"NumMedia": "1"}, "missing MediaUrl0"),
        ({"NumMedia": "1", "MediaUrl0": "file:///etc/passwd"}, "MediaUrl0 is not an http(s) URL"),
        ({"Latitude": "north", "Longitude": "1"}, "Latitude/Longitude are not numbers"),
    ],
)
def test_malformed_forms_are_refused_with_the_reason(change: dict[str, str], reason: str) -> None:
    form = fixture("inbound_sms") | change
    with pytest.raises(TwilioPayloadError, match=re.escape(reason)):
        parse_inbound(form)


def test_a_delivered_callback_becomes_a_delivery_update() -> None:
    update = parse_status(fixture("status_delivered"), "sms")
    assert update is not None
    assert (update.channel, update.external_id, update.status, update.error) == (
        "sms",
        "SMe5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
        DeliveryStatus.DELIVERED,
        None,
    )


def test_an_undelivered_callback_carries_the_error_code_and_its_meaning() -> None:
    update = parse_status(fixture("status_undelivered"), "sms")
    assert update is not None
    assert update.status is DeliveryStatus.FAILED
    assert update.error == "twilio 30003: unreachable destination handset"


def test_a_whatsapp_read_receipt_is_read_on_the_whatsapp_channel() -> None:
    update = parse_status(fixture("status_whatsapp_read"), "sms")
    assert update is not None
    assert (update.channel, update.status) == ("whatsapp", DeliveryStatus.READ)


@pytest.mark.parametrize(
    ("twilio", "kefu"),
    [
        ("accepted", DeliveryStatus.PENDING),
        ("queued", DeliveryStatus.PENDING),
        ("sending", DeliveryStatus.SENDING),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
        ("canceled", DeliveryStatus.FAILED),
    ],
)
def test_every_outbound_status_maps(twilio: str, kefu: DeliveryStatus) -> None:
    update = parse_status(fixture("status_delivered") | {"MessageStatus": twilio}, "sms")
    assert update is not None and update.status is kefu


def test_statuses_kefu_does_not_track_are_skipped() -> None:
    assert parse_status(fixture("status_delivered") | {"MessageStatus": "receiving"}, "sms") is None


def test_a_later_part_of_a_split_reply_reports_under_the_first_parts_sid() -> None:
    first = "SM00000000000000000000000000000001"
    update = parse_status(fixture("status_delivered"), "sms", parent=first)
    assert update is not None and update.external_id == first
    with pytest.raises(TwilioPayloadError, match="parent"):
        parse_status(fixture("status_delivered"), "sms", parent="not-a-sid")


def test_status_callbacks_without_sid_or_status_are_refused() -> None:
    with pytest.raises(TwilioPayloadError, match="missing MessageStatus"):
        parse_status(fixture("status_delivered") | {"MessageStatus": ""}, "sms")
    with pytest.raises(TwilioPayloadError, match="missing MessageSid"):
        parse_status({"MessageStatus": "sent"}, "sms")


def test_error_text_names_known_codes_and_links_unknown_ones() -> None:
    assert error_text(21610) == "twilio 21610: recipient has opted out (replied STOP)"
    assert error_text("99999") == "twilio 99999: see https://www.twilio.com/docs/api/errors/99999"
    assert error_text(None, "boom") == "twilio: boom"
