"""Message clean-up before scoring."""
from __future__ import annotations

from hub.analysis.text import MAX_CHARS, fold, mark_negation, prepare, strip_email_history, tokens


def test_full_width_text_is_folded_to_ascii_and_lower_case() -> None:
    assert fold("ＡＰＰ打不开！？") == "app打不开!?"


def test_tokens_split_han_runs_from_latin_words() -> None:
    assert tokens("my parcel 十天了还没到, why?") == ["my", "parcel", "十天了还没到", ",", "why", "?"]


def test_negation_marks_the_next_few_words_until_the_clause_ends() -> None:
    marked = mark_negation(tokens("this is not a complaint at all, just asking"))

    assert marked == ["this", "is", "not", "not_a", "not_complaint", "not_at", "all", ",", "just", "asking"]


def test_email_history_and_signature_are_cut() -> None:
    body = "Please resend the invoice.\n\n-- \nAnna\nOn Mon, 3 Mar 2025, Bob <b@x.com> wrote:\n> angry"

    assert strip_email_history(body) == "Please resend the invoice."


def test_chinese_email_clients_quote_history_too() -> None:
    body = "好的，谢谢。\n\n发件人：客服中心\n你们太差了"

    assert strip_email_history(body) == "好的，谢谢。"


def test_an_email_that_is_only_a_quote_keeps_the_quote() -> None:
    assert strip_email_history("> the box arrived broken") == "> the box arrived broken"


def test_only_email_is_stripped_and_everything_is_capped() -> None:
    chat = "> quoted looking chat line"

    assert prepare(chat, "webchat") == chat
    assert len(prepare("x" * 5000, "sms")) == MAX_CHARS
