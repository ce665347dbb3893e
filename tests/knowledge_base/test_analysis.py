"""Both languages, and the two mixed in one question, turn into comparable search terms."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knowledge_base.analysis import TextAnalyzer, detect_language


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer()


def test_chinese_is_cut_into_words_and_stop_words_dropped(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("我想申请退款") == ["申请", "退款"]


def test_search_mode_also_yields_the_words_inside_long_words(analyzer: TextAnalyzer) -> None:
    terms = analyzer.terms("中华人民共和国")
    assert "中华人民共和国" in terms and "共和国" in terms


def test_english_is_lowercased_stemmed_and_stripped_of_stop_words(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("How do I get my Refunds?") == ["get", "refund"]
    assert analyzer.terms("refunding refunded refund") == ["refund"] * 3


def test_mixed_text_uses_the_right_rules_for_each_part(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("iPhone15怎么退款？Refunds") == ["iphone15", "退款", "refund"]


def test_full_width_letters_and_digits_count_as_ascii(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("ＶＩＰ会员１２３") == analyzer.terms("VIP会员123")


def test_query_terms_are_distinct_in_typed_order(analyzer: TextAnalyzer) -> None:
    assert analyzer.query_terms("退款 refund 退款 refunds") == ["退款", "refund"]


def test_matches_find_every_surface_form_of_a_term(analyzer: TextAnalyzer) -> None:
    text = "如何申请退款：Refunding takes a day; refunds are free."
    found = [(text[m.start:m.end], m.term) for m in analyzer.matches(text, ["退款", "refund"])]
    assert found == [("退款", "退款"), ("Refunding", "refund"), ("refunds", "refund")]


def test_overlapping_chinese_matches_become_one_span(analyzer: TextAnalyzer) -> None:
    text = "请查看中华人民共和国海关规定"
    spans = [(m.start, m.end) for m in analyzer.matches(text, ["中华人民共和国", "共和国"])]
    assert spans == [(3, 10)]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("退款", "zh"),
        ("iPhone 怎么退款", "zh"),
        ("How do I get a refund", "en"),
        ("my order 订单 has not arrived yet", "en"),
        ("12345 !!!", None),
        ("", None),
    ],
)
def test_a_query_language_is_guessed_from_its_script(text: str, language: str | None) -> None:
    assert detect_language(text) == language


@given(st.text(max_size=80))
def test_any_text_is_analysed_without_errors_into_non_empty_terms(text: str) -> None:
    analyzer = TextAnalyzer()
    terms = analyzer.terms(text)
    assert all(term and not term.isspace() for term in terms)
    for match in analyzer.matches(text, terms):
        assert 0 <= match.start < match.end <= len(text)
