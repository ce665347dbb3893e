"""Long replies become SMS that fit: GSM-7 160/153, UCS-2 70/67, cut at spaces and punctuation."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.sms.segments import encoding_of, segment_count, split_chars, split_sms


def test_plain_english_is_gsm7_and_chinese_or_emoji_is_ucs2() -> None:
    assert encoding_of("Your parcel is on its way! Ref: A-12 (£5)") == "GSM-7"
    assert encoding_of("Curly braces {} and € are GSM-7 too") == "GSM-7"
    assert encoding_of("你好") == "UCS-2"
    assert encoding_of("thanks 👍") == "UCS-2"


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # each € is ESC + char: 160 septets
        ("€" * 81, 2),
        ("你" * 70, 1),
        ("你" * 71, 2),
        ("你" * 134, 2),
        ("你" * 135, 3),
        ("😀" * 35, 1),  # a surrogate pair is two UCS-2 units
        ("😀" * 36, 2),
    ],
)
def test_segment_counts_follow_the_carrier_limits(text: str, segments: int) -> None:
    assert segment_count(text) == segments


def test_escape_pairs_never_straddle_a_segment() -> None:
    # 152 plain septets then a 2-septet € cannot share the first 153-septet segment.
    assert segment_count("a" * 152 + "€" + "a" * 8) == 2
    assert segment_count("a" * 152 + "€" + "a" * 152) == 3


def test_a_short_reply_is_sent_whole() -> None:
    assert split_sms("  Thanks, we are on it.  ") == ["Thanks, we are on it."]


def test_english_is_cut_between_words_into_single_sms() -> None:
    text = " ".join(f"word{i}" for i in range(100))
    parts = split_sms(text, max_segments=1)
    assert all(segment_count(p) == 1 and len(p) <= 160 for p in parts)
    assert " ".join(parts) == text  # nothing lost, no word broken


def test_chinese_is_cut_after_punctuation_into_70_character_sms() -> None:
    sentence = "您好，您的退款已经处理完毕，预计三到五个工作日到账。"
    text = sentence * 8
    parts = split_sms(text, max_segments=1)
    assert all(len(p) <= 70 for p in parts)
    assert "".join(parts) == text
    assert all(p[-1] in "，。" for p in parts[:-1])


def test_emoji_are_never_cut_in_half() -> None:
    text = "👍🏽" * 40  # thumbs up + skin tone: two astral characters, four UCS-2 units
    parts = split_sms(text, max_segments=1)
    assert "".join(parts) == text
    assert all(p.startswith("👍") and p.endswith("🏽") for p in parts)


def test_parts_use_up_to_ten_concatenated_segments_by_default() -> None:
    text = "退" * 1000
    parts = split_sms(text)
    assert [len(p) for p in parts] == [670, 330]
    assert [segment_count(p) for p in parts] == [10, 5]


def test_no_sms_body_passes_twilios_1600_character_cap() -> None:
    parts = split_sms("a " * 2000, max_segments=10)
    assert all(len(p) <= 1600 and segment_count(p) <= 10 for p in parts)


def test_whatsapp_text_splits_by_characters_only() -> None:
    text = ("这是一段很长的说明。" * 200).strip()
    parts = split_chars(text, 1600)
    assert [len(p) for p in parts] == [1600, 400]


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        split_sms("hi", max_segments=0)
    with pytest.raises(ValueError):
        split_chars("hi", 0)


_alphabet = st.sampled_from(list("abc xyz.,!\n€{你好，。😀👍🏽\u0301\u200d"))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=_alphabet, max_size=600), max_segments=st.integers(1, 4))
def test_any_text_splits_into_fitting_parts_that_lose_nothing(text: str, max_segments: int) -> None:
    parts = split_sms(text, max_segments=max_segments)
    whole = encoding_of(text)
    assert all(p and p == p.strip() for p in parts)
    assert all(segment_count(p, whole) <= max_segments for p in parts)
    assert all(segment_count(p) <= max_segments for p in parts)
    def squash(s: str) -> str:
        return re.sub(r"\s+", "", s)

    assert squash("".join(parts)) == squash(text)
