"""An editor saving an article gets told plainly what is wrong with it."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from knowledge_base.article import (
    MAX_BODY_CHARS,
    ArticleError,
    check_article,
    check_slug,
    normalize_body,
    normalize_tags,
)

from .conftest import make_article


def test_a_complete_article_passes_unchanged() -> None:
    article = make_article(1, "如何申请退款", "点击申请退款。", "zh", tags=("退款",))
    assert check_article(article) is article


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": "   "}, "title", "title is empty"),
        ({"title": "x" * 201}, "title", "longer than 200"),
        ({"title": "two\nlines"}, "title", "single line"),
        ({"language": "de"}, "language", "unknown language 'de'"),
        ({"status": "archived"}, "status", "unknown status"),
        ({"body_markdown": "x" * (MAX_BODY_CHARS + 1)}, "body_markdown", "the limit is"),
        ({"body_markdown": "  \n"}, "body_markdown", "published article needs a body"),
        ({"tags": ("billing", "Billing")}, "tags", "distinct"),
        ({"tags": (" padded",)}, "tags", "trimmed"),
        ({"tags": ("a, b",)}, "tags", "comma"),
        ({"tags": tuple(f"t{i}" for i in range(21))}, "tags", "limit is 20"),
        ({"version": 0}, "version", "starts at 1"),
        ({"updated_at": datetime(2025, 1, 1)}, "updated_at", "timezone"),
        ({"slug": "../etc/passwd"}, "slug", "may only hold"),
        ({"slug": ""}, "slug", "empty"),
    ],
)
def test_each_problem_is_named_with_its_field(change: dict, field: str, words: str) -> None:
    article = replace(make_article(1, "Reset your password", "Use the link."), **change)
    with pytest.raises(ArticleError) as caught:
        check_article(article)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_draft_may_have_an_empty_body_while_it_is_written() -> None:
    check_article(make_article(1, "Coming soon", "", status="draft"))


def test_chinese_slugs_are_allowed_but_not_path_tricks() -> None:
    assert check_slug("退款政策") == "退款政策"
    assert check_slug("refund-policy_v2") == "refund-policy_v2"
    for bad in ("a/b", "a.md", "-lead", "trail-", "with space"):
        with pytest.raises(ArticleError):
            check_slug(bad)


def test_normalizing_keeps_the_text_but_not_the_padding() -> None:
    assert normalize_body("\r\n\n# Title\r\n\ntext  \n\n  \n") == "# Title\n\ntext"
    assert normalize_tags(["  Billing ", "billing", "", "退款", "退款"]) == ("Billing", "退款")
