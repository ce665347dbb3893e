"""Planning outbound calls: long text split where a reader would, keyboards on the last part."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.base import Attachment, Button, OutboundMessage
from channels.telegram.compose import (
    FilePart,
    TextPart,
    UnsendableMessage,
    plan,
    split_text,
    utf16_len,
)


def reply(text: str, **fields: Any) -> OutboundMessage:
    return OutboundMessage(message_id=1, conversation_id=1, channel="telegram", recipient="1", text=text, **fields)


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello") == ["hello"]
    assert split_text("") == []


def test_english_breaks_between_paragraphs_before_anywhere_else() -> None:
    text = "a" * 60 + "\n\n" + "b" * 30 + " " + "c" * 20

    assert split_text(text, limit=100) == ["a" * 60 + "\n\n", "b" * 30 + " " + "c" * 20]


def test_chinese_without_spaces_breaks_after_a_full_stop() -> None:
    text = "我们已经收到您的退货申请。" * 10  # 13 characters per sentence

    chunks = split_text(text, limit=50)

    assert all(chunk.endswith("。") for chunk in chunks)
    assert "".join(chunks) == text


def test_emoji_count_as_two_units_like_telegram_counts_them() -> None:
    chunks = split_text("😀" * 5, limit=4)

    assert chunks == ["😀😀", "😀😀", "😀"]


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=400), limit=st.integers(min_value=2, max_value=120))
def test_chunks_always_fit_and_join_back_to_the_original(text: str, limit: int) -> None:
    chunks = split_text(text, limit)

    assert "".join(chunks) == text
    assert all(0 < utf16_len(chunk) <= limit for chunk in chunks)


def test_the_keyboard_rides_on_the_last_part_even_when_it_is_a_file() -> None:
    photo = Attachment("label.png", "image/png", 3, data=b"png")

    parts = plan(reply("Your label:", attachments=(photo,), buttons=(Button("Thanks", "thanks"),)))

    assert isinstance(parts[0], TextPart) and parts[0].keyboard is None
    assert isinstance(parts[1], FilePart) and parts[1].method == "photo"
    assert parts[1].keyboard is not None


def test_unusual_images_go_as_documents_so_they_arrive_unaltered() -> None:
    svg = Attachment("logo.svg", "image/svg+xml", 10, data=b"<svg></svg>")

    [part] = plan(reply("", attachments=(svg,)))

    assert isinstance(part, FilePart) and part.method == "document"


def test_an_attachment_without_bytes_or_url_cannot_be_sent() -> None:
    with pytest.raises(UnsendableMessage, match="neither bytes nor a URL"):
        plan(reply("see attached", attachments=(Attachment("gone.pdf", "application/pdf", 0),)))
