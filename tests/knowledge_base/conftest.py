"""Shared helpers for the knowledge-base tests."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge_base.article import Article, Language, Status

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kb"
WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def make_article(
    article_id: int | None,
    title: str,
    body: str,
    language: Language = "en",
    *,
    slug: str | None = None,
    tags: tuple[str, ...] = (),
    status: Status = "published",
    version: int = 1,
) -> Article:
    """An article with sensible defaults for whatever a test does not care about."""
    return Article(
        id=article_id,
        slug=slug or f"article-{article_id}",
        title=title,
        body_markdown=body,
        language=language,
        tags=tags,
        status=status,
        version=version,
        updated_at=WHEN,
    )


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The folder of recorded knowledge-base files."""
    return FIXTURES
