"""Reading Telegram Updates without any I/O: what each kind of customer message becomes."""
from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.telegram.parse import MalformedUpdate, normalize_phone, parse_update
from tests.channels.telegram.conftest import fixture


def test_text_message_identifies_chat_message_and_sender() -> None:
    message = parse_update(fixture("text"))

    assert message is not None
    assert (message.channel, message.external_id, message.sender) == ("telegram", "5127460391:41", "5127460391")
    assert message.sender_name == "Ada Lovelace"
    assert message.metadata["update_id"] == 734019001
    assert message.metadata["chat_type"] == "private"
    assert message.attachments == ()


def test_photo_uses_the_largest_size_and_the_caption_as_text() -> None:
    message = parse_update(fixture("photo_caption"))

    assert message is not None
    assert message.text == "The box arrived crushed"
    [photo] = message.attachments
    assert (photo.filename, photo.content_type, photo.size, photo.data) == (
        "photo_AQADq9kxG-large.jpg", "image/jpeg", 68201, None,
    )
    assert message.metadata["files"] == [
        {"kind": "photo", "file_id": "AgACAgIAAxkBAAIBKmZIc2-large", "file_unique_id": "AQADq9kxG-large"}
    ]


def test_a_voice_note_is_an_attachment_with_a_made_up_name() -> None:
    message = parse_update(fixture("voice"))

    assert message is not None
    assert message.text == ""
    assert [(a.filename, a.content_type) for a in message.attachments] == [("voice_AgADkAwAAj-voice.ogg", "audio/ogg")]


def test_someone_elses_contact_is_recorded_but_not_verified() -> None:
    message = parse_update(fixture("contact_other"))

    assert message is not None
    assert message.verified_addresses == ()
    assert message.metadata["phone_number"] == "+15550104477"
    assert message.metadata["contact"]["user_id"] == 5200000001
    assert message.text == "Charles Babbage +15550104477"


def test_own_contact_is_verified_because_telegram_vouches_for_it() -> None:
    message = parse_update(fixture("contact_own"))

    assert message is not None
    assert message.verified_addresses == (("phone", "+8613800138000"),)


def test_a_contact_forwarded_by_someone_else_with_the_wrong_user_id_is_not_verified() -> None:
    update = fixture("contact_own")
    update["message"]["contact"]["user_id"] = 1111

    message = parse_update(update)

    assert message is not None and message.verified_addresses == ()


def test_a_button_tap_is_its_payload_with_the_title_alongside() -> None:
    message = parse_update(fixture("callback_query"))

    assert message is not None
    assert message.text == "intent:handoff"
    assert message.sender == "5127460391"
    assert message.metadata["button"] is True
    assert message.metadata["button_title"] == "Talk to a person"
    assert message.metadata["reply_to"] == "5127460391:45"


def test_an_edit_is_flagged_and_stored_apart_from_the_original() -> None:
    original = parse_update(fixture("text"))
    edit = parse_update(fixture("edited_message"))

    assert original is not None and edit is not None
    assert edit.metadata["edited"] is True
    assert edit.text == "Hi, my order #A-1094 has not arrived yet"
    assert edit.external_id != original.external_id
    assert edit.external_id.startswith(original.external_id)


@pytest.mark.parametrize("name", ["my_chat_member", "service_new_member"])
def test_updates_without_a_customer_message_are_ignored(name: str) -> None:
    assert parse_update(fixture(name)) is None


def test_location_becomes_readable_text_and_metadata() -> None:
    update = fixture("text")
    del update["message"]["text"]
    update["message"]["location"] = {"latitude": 31.2304, "longitude": 121.4737}

    message = parse_update(update)

    assert message is not None
    assert message.text == "📍 31.230400, 121.473700"
    assert message.metadata["location"] == {"latitude": 31.2304, "longitude": 121.4737}


def _without(update: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(update)
    target = broken
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return broken


def _with(update: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(update)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        ([], "an update must be a JSON object"),
        ({"message": {}}, "update.update_id is missing"),
        (_with(fixture("text"), "734019001", "update_id"), "update.update_id must be an integer"),
        (_without(fixture("text"), "message", "chat"), "message.chat must be an object"),
        (_without(fixture("text"), "message", "message_id"), "message.message_id is missing"),
        (_with(fixture("text"), 42, "message", "text"), "message.text must be a string"),
        (_with(fixture("photo_caption"), {"file_id": "x"}, "message", "photo"),
         "message.photo must be a non-empty array of PhotoSize"),
        (_without(fixture("document"), "message", "document", "file_id"), "message.document.file_id is missing"),
        (_with(fixture("callback_query"), "someone", "callback_query", "from"),
         "callback_query.from must be an object"),
        (_with(fixture("text"), "yes", "message", "from", "is_bot"), "message.from.is_bot must be a boolean"),
    ],
)
def test_malformed_updates_are_rejected_with_the_reason(update: object, reason: str) -> None:
    with pytest.raises(MalformedUpdate) as caught:
        parse_update(update)

    assert caught.value.reason == reason


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
MESSAGE_BODY = fixture("text")["message"]
CALLBACK_BODY = fixture("callback_query")["callback_query"]
message_keys = st.sampled_from(
    ["message_id", "date", "chat", "from", "text", "caption", "photo", "document", "contact",
     "location", "sticker", "voice", "edit_date", "reply_to_message"]
)


@settings(max_examples=100, deadline=None)
@given(
    kind=st.sampled_from(["message", "edited_message", "callback_query"]),
    fuzz=st.dictionaries(message_keys, json_values, max_size=5),
)
def test_any_json_either_parses_or_fails_as_malformed_never_otherwise(kind: str, fuzz: dict[str, Any]) -> None:
    body = CALLBACK_BODY if kind == "callback_query" else MESSAGE_BODY
    update = {"update_id": 1, kind: {**body, **fuzz}}

    try:
        parse_update(update)
    except MalformedUpdate:
        pass


@pytest.mark.parametrize(
    ("raw", "e164"),
    [("8613800138000", "+8613800138000"), ("+1 (555) 010-4477", "+15550104477"), ("12", None), ("call me", None)],
)
def test_phone_numbers_are_normalised_to_e164(raw: str, e164: str | None) -> None:
    assert normalize_phone(raw) == e164
