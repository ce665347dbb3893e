"""Snippets show a reader where the question matched, without cutting words in half."""
from __future__ import annotations

from knowledge_base.analysis import Match
from knowledge_base.snippet import Snippet, make_snippet


def find(text: str, *words: str) -> list[Match]:
    found = []
    for word in words:
        start = text.find(word)
        while start != -1:
            found.append(Match(start, start + len(word), word))
            start = text.find(word, start + 1)
    return sorted(found, key=lambda m: m.start)


def test_a_short_text_is_shown_whole_with_its_matches() -> None:
    text = "Refunds take three days."
    snippet = make_snippet(text, find(text, "Refunds"), width=80)
    assert snippet == Snippet(text, ((0, 7),))
    assert snippet.marked() == "[Refunds] take three days."


def test_without_matches_the_beginning_is_shown() -> None:
    text = "word " * 100
    snippet = make_snippet(text, [], width=40)
    assert snippet.text.startswith("word word") and snippet.text.endswith("…")
    assert snippet.highlights == ()


def test_the_window_with_most_distinct_terms_wins() -> None:
    text = "refund " + "x " * 200 + "refund policy explained " + "y " * 200
    snippet = make_snippet(text, find(text, "refund", "policy"), width=60)
    assert "refund policy" in snippet.text
    assert snippet.marked().count("[") == 2


def test_latin_words_are_not_cut_at_the_edges() -> None:
    text = "alpha beta gamma delta epsilon " * 10 + "MATCH " + "zeta eta theta iota " * 10
    snippet = make_snippet(text, find(text, "MATCH"), width=50)
    inner = snippet.text.strip("…").split()
    vocabulary = {"alpha", "beta", "gamma", "delta", "epsilon", "MATCH", "zeta", "eta", "theta",
                  "iota"}
    assert set(inner) <= vocabulary


def test_chinese_text_is_cut_anywhere_and_newlines_become_spaces() -> None:
    text = "第一段没有关系的内容。" * 20 + "\n退款会原路退回。" + "其他内容。" * 30
    snippet = make_snippet(text, find(text, "退款"), width=40)
    assert "退款" in snippet.text and "\n" not in snippet.text
    start, end = snippet.highlights[0]
    assert snippet.text[start:end] == "退款"


def test_html_escapes_everything_but_the_marks() -> None:
    text = "<script> refund & more"
    snippet = make_snippet(text, find(text, "refund"), width=80)
    assert snippet.html() == "&lt;script&gt; <mark>refund</mark> &amp; more"
