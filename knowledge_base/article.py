"""A knowledge-base article and the checks it must pass before it is stored or indexed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, get_args

Language = Literal["zh", "en"]
Status = Literal["draft", "published"]

LANGUAGES: tuple[Language, ...] = get_args(Language)
STATUSES: tuple[Status, ...] = get_args(Status)

MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 200_000
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_SLUG_CHARS = 120

# Unicode word characters so Chinese slugs (退款政策) work; no dots or slashes, so a slug is
# always a safe file name and URL segment.
_SLUG = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Article:
    """One help article; `id` is None until storage has given it one."""

    id: int | None
    slug: str
    title: str
    body_markdown: str
    language: Language
    tags: tuple[str, ...] = ()
    status: Status = "draft"
    version: int = 1
    updated_at: datetime = field(default_factory=utcnow)

    @property
    def is_published(self) -> bool:
        """True when customers and bots may see the article."""
        return self.status == "published"


class ArticleError(ValueError):
    """An article (or one row or file of an import) that cannot be accepted, and why."""

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line


def normalize_body(markdown: str) -> str:
    """Unix newlines, no trailing spaces on the last line, no blank lines around the text."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        lines[-1] = lines[-1].rstrip()
    return "\n".join(lines)


def normalize_tags(tags: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Trimmed tags in their first-seen order, empty ones and case-insensitive repeats dropped."""
    seen: set[str] = set()
    kept: list[str] = []
    for tag in tags:
        clean = " ".join(str(tag).split())
        if clean and clean.casefold() not in seen:
            seen.add(clean.casefold())
            kept.append(clean)
    return tuple(kept)


def check_slug(slug: str) -> str:
    """Return the slug if it is a safe file name and URL segment, else raise ArticleError."""
    if not slug:
        raise ArticleError("slug is empty", field="slug")
    if len(slug) > MAX_SLUG_CHARS:
        raise ArticleError(f"slug is longer than {MAX_SLUG_CHARS} characters", field="slug")
    if not _SLUG.fullmatch(slug):
        raise ArticleError(
            f"slug {slug!r} may only hold letters, digits, '-' and '_' and must start and end"
            " with a letter or digit",
            field="slug",
        )
    return slug


def check_article(article: Article) -> Article:
    """Return the article unchanged if it may be stored, else raise ArticleError saying why."""
    check_slug(article.slug)
    title = article.title.strip()
    if not title:
        raise ArticleError("title is empty", field="title")
    if len(title) > MAX_TITLE_CHARS:
        raise ArticleError(f"title is longer than {MAX_TITLE_CHARS} characters", field="title")
    if "\n" in article.title or "\r" in article.title:
        raise ArticleError("title must be a single line", field="title")
    if article.language not in LANGUAGES:
        raise ArticleError(
            f"unknown language {article.language!r}; expected one of {', '.join(LANGUAGES)}",
            field="language",
        )
    if article.status not in STATUSES:
        raise ArticleError(
            f"unknown status {article.status!r}; expected one of {', '.join(STATUSES)}",
            field="status",
        )
    if len(article.body_markdown) > MAX_BODY_CHARS:
        raise ArticleError(
            f"body has {len(article.body_markdown)} characters; the limit is {MAX_BODY_CHARS}",
            field="body_markdown",
        )
    if article.is_published and not article.body_markdown.strip():
        raise ArticleError("a published article needs a body", field="body_markdown")
    _check_tags(article.tags)
    if article.version < 1:
        raise ArticleError("version starts at 1", field="version")
    if article.updated_at.tzinfo is None:
        raise ArticleError("updated_at must carry a timezone", field="updated_at")
    return article


def _check_tags(tags: tuple[str, ...]) -> None:
    """Raise ArticleError unless tags are few, short, trimmed and distinct."""
    if not isinstance(tags, tuple):
        raise ArticleError("tags must be a tuple of strings", field="tags")
    if len(tags) > MAX_TAGS:
        raise ArticleError(f"{len(tags)} tags; the limit is {MAX_TAGS}", field="tags")
    if normalize_tags(tags) != tags:
        raise ArticleError(
            "tags must be trimmed, non-empty and distinct (ignoring case)", field="tags"
        )
    for tag in tags:
        if len(tag) > MAX_TAG_CHARS:
            raise ArticleError(f"tag {tag[:20]!r}… is longer than {MAX_TAG_CHARS} characters",
                               field="tags")
        if "," in tag:
            raise ArticleError(f"tag {tag!r} contains a comma", field="tags")
