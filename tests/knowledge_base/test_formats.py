"""Articles written as Markdown files or FAQ spreadsheets come in, and go out the same way."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge_base.article import ArticleError, Language, Status, normalize_body
from knowledge_base.formats import (
    parse_csv,
    parse_markdown_article,
    render_csv,
    render_markdown_article,
    slugify,
)

from .conftest import WHEN, make_article

MARKDOWN = """---
title: 如何申请退款
language: zh
tags: [退款, 售后]
status: published
---

点击**申请退款**。
"""


def test_front_matter_and_body_become_an_article_named_after_the_file() -> None:
    article = parse_markdown_article(MARKDOWN, "refund-policy", updated_at=WHEN)
    assert (article.id, article.slug, article.title, article.language) == (
        None, "refund-policy", "如何申请退款", "zh")
    assert article.tags == ("退款", "售后")
    assert article.status == "published"
    assert article.body_markdown == "点击**申请退款**。"
    assert article.updated_at == WHEN


def test_missing_language_is_detected_and_missing_status_means_draft() -> None:
    article = parse_markdown_article("---\ntitle: 配送时效\n---\n快递两天送达。", "shipping")
    assert article.language == "zh" and article.status == "draft" and article.tags == ()


def test_tags_may_be_one_comma_separated_string() -> None:
    text = "---\ntitle: Login\nlanguage: en\ntags: account, login；安全\n---\nBody"
    assert parse_markdown_article(text, "login").tags == ("account", "login", "安全")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# No front matter\n", 1, "missing front matter"),
        ("---\ntitle: Never closed\n", 1, "no closing"),
        ("---\ntitle: x\ntags: [a\nstatus: draft\n---\n", 4, "front matter"),
        ("---\n- just\n- a list\n---\nBody", 2, "mapping"),
        ("---\nlanguage: en\n---\nBody", 1, "title is missing"),
        ("---\ntitle: x\n\nlanguage: fr\n---\nBody", 4, "unknown language"),
        ("---\ntitle: x\nlanguage: en\nstatus: live\n---\nBody", 4, "unknown status"),
        ("---\ntitle: x\nlanguage: en\ntags: {a: 1}\n---\nBody", 4, "tags must be"),
        ("---\ntitle: x\nlanguage: en\nstatus: published\n---\n\n\n", 6, "needs a body"),
    ],
)
def test_a_bad_file_says_which_line_to_fix(text: str, line: int, words: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_markdown_article(text, "some-file")
    assert caught.value.line == line
    assert words in caught.value.message


def test_rendered_markdown_reads_back_as_the_same_article() -> None:
    original = make_article(None, 'Title: with "quotes" and yes', "# Heading\n\n- a\n- b",
                            slug="tricky", tags=("no", "123", "退款"))
    again = parse_markdown_article(render_markdown_article(original), "tricky", updated_at=WHEN)
    assert again == original


titles = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda t: t.strip() == t and t)
bodies = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=200).map(
    normalize_body).filter(bool)
tag_lists = st.lists(
    st.text(st.characters(whitelist_categories=("L", "N")), min_size=1, max_size=10),
    max_size=4, unique_by=str.casefold)


@settings(max_examples=60, deadline=None)
@given(title=titles, body=bodies, tags=tag_lists, language=st.sampled_from(["zh", "en"]),
       status=st.sampled_from(["draft", "published"]))
def test_any_valid_article_survives_a_markdown_round_trip(
    title: str, body: str, tags: list[str], language: Language, status: Status
) -> None:
    original = make_article(None, title, body, language, slug="a", tags=tuple(tags),
                            status=status)
    again = parse_markdown_article(render_markdown_article(original), "a", updated_at=WHEN)
    assert again == original


def test_csv_rows_become_articles_and_bad_rows_are_reported_by_line(fixtures) -> None:
    text = (fixtures / "faq.csv").read_text(encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = parse_csv(text, source="faq.csv", default_status="published",
                       progress=lambda done, total: seen.append((done, total)))
    assert [a.title for a in report.articles] == [
        "怎么修改收货地址？", "How long does shipping take?"]
    first, second = report.articles
    assert first.body_markdown == "在订单发货前，进入**订单详情**\n点击“修改地址”即可。"
    assert (first.language, first.slug, first.tags) == ("zh", "怎么修改收货地址", ("地址",))
    assert (second.language, second.slug, second.tags) == (
        "en", "how-long-does-shipping-take", ("shipping", "delivery"))
    assert all(a.status == "published" for a in report.articles)
    assert [str(p) for p in report.problems] == [
        "faq.csv:4: question is empty",
        "faq.csv:6: answer is empty",
        "faq.csv:7: 5 cells but the header has 3; is a comma left unquoted?",
    ]
    assert seen[-1] == (5, 5) and len(seen) == 5


def test_a_csv_with_chinese_headers_and_clashing_questions_gets_unique_slugs() -> None:
    text = "问题,答案\n怎么退款,点击申请退款。\n怎么退款？,联系客服。\n"
    report = parse_csv(text, taken_slugs=["怎么退款-2"])
    assert [a.slug for a in report.articles] == ["怎么退款", "怎么退款-3"]
    assert all(a.status == "draft" for a in report.articles)


def test_a_csv_without_the_needed_columns_is_refused_as_a_whole() -> None:
    report = parse_csv("name,email\nAnn,ann@example.com\n", source="people.csv")
    assert report.articles == []
    assert [str(p) for p in report.problems] == [
        "people.csv:1: header must name the question and answer column(s);"
        " found ['name', 'email']"
    ]
    empty = parse_csv("", source="e.csv")
    assert [str(p) for p in empty.problems] == ["e.csv:1: the file is empty"]


def test_csv_export_reads_back_without_loss() -> None:
    articles = [
        make_article(None, "Commas, quotes \"and\" lines", "Line one\n\nLine, two", slug="c",
                     tags=("a", "b")),
        make_article(None, "退款", "原路退回。", "zh", slug="退款", status="draft"),
    ]
    report = parse_csv(render_csv(articles), updated_at=WHEN)
    assert report.ok
    assert report.articles == articles


def test_slugs_come_from_titles_in_either_language() -> None:
    assert slugify("How do I reset my Password?") == "how-do-i-reset-my-password"
    assert slugify("如何申请退款？") == "如何申请退款"
    assert slugify("!!!") == ""
    assert len(slugify("word " * 40)) <= 80


def test_a_csv_that_breaks_off_keeps_the_rows_before_the_break() -> None:
    huge = "y" * 300_000  # past any limit an answer may have, so the reader gives up
    text = f"question,answer\nHow to pay?,By card.\nBroken row,{huge}\nNever read,At all.\n"
    report = parse_csv(text, source="broken.csv")
    assert [a.title for a in report.articles] == ["How to pay?"]
    assert len(report.problems) == 1
    assert report.problems[0].line == 3
    assert "unreadable CSV from here on" in report.problems[0].message


def test_a_long_answer_within_the_article_limit_imports() -> None:
    answer = "Step. " * 30_000  # 180,000 characters: over the csv module's default field limit
    report = parse_csv(f"question,answer\nThe long one,\"{answer}\"\n")
    assert report.ok and len(report.articles[0].body_markdown) == len(answer.strip())
