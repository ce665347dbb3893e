"""Reading stored articles, their versions and import jobs; nothing here writes."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import ColumnElement, Row, Table, Text, cast, func, or_, select

from hub.domain import NotFound
from hub.storage.database import Database
from hub.storage.kb_tables import KbArticle, KbArticleVersion, KbImportJob
from hub.wire import stored_string_patterns
from knowledge_base.article import Article

# Declared tables are always Tables; the cast tells the type checker so.
articles_t = typing.cast(Table, KbArticle.__table__)
versions_t = typing.cast(Table, KbArticleVersion.__table__)
jobs_t = typing.cast(Table, KbImportJob.__table__)

HELP_PREFIX = "/help"


def help_path(slug: str) -> str:
    """The public help-center path of an article (Chinese slugs percent-encoded)."""
    return f"{HELP_PREFIX}/articles/{quote(slug, safe='')}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored: the pure Article plus who and when."""

    article: Article
    archived_at: datetime | None
    published_at: datetime | None
    created_at: datetime
    created_by: int | None
    updated_by: int | None

    @property
    def id(self) -> int:
        """The article's id (stored articles always have one)."""
        assert self.article.id is not None
        return self.article.id

    def to_dict(self, *, body: bool = True) -> dict[str, Any]:
        """The article as the JSON API shows it."""
        a = self.article
        data: dict[str, Any] = {
            "id": a.id,
            "slug": a.slug,
            "title": a.title,
            "language": a.language,
            "tags": list(a.tags),
            "status": a.status,
            "archived": self.archived_at is not None,
            "version": a.version,
            "url": help_path(a.slug) if a.is_published else None,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(a.updated_at),
            "published_at": _iso(self.published_at),
            "archived_at": _iso(self.archived_at),
            "created_by": self.created_by,
            "updated_by": self.updated_by,
        }
        if body:
            data["body_markdown"] = a.body_markdown
        return data


def article_from_row(row: Row[Any]) -> Article:
    """The pure Article of a kb_articles row; archived articles are drafts, never searchable."""
    return Article(
        id=row.id,
        slug=row.slug,
        title=row.title,
        body_markdown=row.body_markdown,
        language=row.language,
        tags=tuple(row.tags or ()),
        status=row.status,
        version=row.version,
        updated_at=row.updated_at,
    )


def stored_from_row(row: Row[Any]) -> StoredArticle:
    """A StoredArticle from a full kb_articles row."""
    return StoredArticle(
        article=article_from_row(row),
        archived_at=row.archived_at,
        published_at=row.published_at,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_by=row.updated_by,
    )


def as_indexed(article: Article, archived: bool) -> Article:
    """What the search index should hold: archived articles as drafts, so they are dropped."""
    return replace(article, status="draft") if archived and article.is_published else article


def version_dict(row: Row[Any], *, body: bool) -> dict[str, Any]:
    """One saved version as the JSON API shows it."""
    data: dict[str, Any] = {
        "article_id": row.article_id,
        "version": row.version,
        "change": row.change,
        "slug": row.slug,
        "title": row.title,
        "language": row.language,
        "tags": list(row.tags or ()),
        "status": row.status,
        "archived": row.archived,
        "author_id": row.author_id,
        "created_at": _iso(row.created_at),
    }
    if body:
        data["body_markdown"] = row.body_markdown
    return data


def job_dict(row: Row[Any], now: datetime, stale_after: timedelta) -> dict[str, Any]:
    """An import job as the API shows it; a running job nobody touched lately was interrupted."""
    state = row.state
    if state in ("parsing", "saving") and now - row.updated_at > stale_after:
        state = "interrupted"
    return {
        "id": row.id,
        "kind": row.kind,
        "state": state,
        "source": row.source,
        "total": row.total,
        "done": row.done,
        "created": row.created,
        "updated": row.updated,
        "unchanged": row.unchanged,
        "problems": list(row.problems or ()),
        "error": row.error,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "finished_at": _iso(row.finished_at),
    }


class KbStore:
    """Read-side queries for the knowledge base."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, article_id: int) -> StoredArticle:
        """One article in any state, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(articles_t).where(articles_t.c.id == article_id))).first()
        if row is None:
            raise NotFound(f"article {article_id} does not exist")
        return stored_from_row(row)

    async def find(
        self,
        *,
        status: str | None = None,
        language: str | None = None,
        tag: str | None = None,
        text: str | None = None,
        archived: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[StoredArticle], int]:
        """A page of articles, newest change first, and how many match in all."""
        conditions: list[ColumnElement[bool]] = [
            articles_t.c.archived_at.is_not(None) if archived else articles_t.c.archived_at.is_(None)
        ]
        if status is not None:
            conditions.append(articles_t.c.status == status)
        if language is not None:
            conditions.append(articles_t.c.language == language)
        if tag:
            tags_text = cast(articles_t.c.tags, Text)
            conditions.append(or_(*(tags_text.contains(p, autoescape=True) for p in stored_string_patterns(tag))))
        if text:
            conditions.append(articles_t.c.title.ilike(f"%{_escape_like(text)}%", escape="\\"))
        query = (
            select(articles_t)
            .where(*conditions)
            .order_by(articles_t.c.updated_at.desc(), articles_t.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            total = (await conn.execute(select(func.count()).select_from(articles_t).where(*conditions))).scalar_one()
        return [stored_from_row(r) for r in rows], int(total)

    async def published(self, slug: str) -> StoredArticle | None:
        """The published, unarchived article with this slug, if any."""
        query = select(articles_t).where(
            articles_t.c.slug == slug, articles_t.c.status == "published", articles_t.c.archived_at.is_(None)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return stored_from_row(row) if row is not None else None

    async def renamed(self, old_slug: str) -> str | None:
        """The current slug of a published article that used to have `old_slug`, if any."""
        query = (
            select(articles_t.c.slug)
            .join(versions_t, versions_t.c.article_id == articles_t.c.id)
            .where(
                versions_t.c.slug == old_slug,
                articles_t.c.slug != old_slug,
                articles_t.c.status == "published",
                articles_t.c.archived_at.is_(None),
            )
            .order_by(versions_t.c.id.desc())
            .limit(1)
        )
        async with self.db.read() as conn:
            return (await conn.execute(query)).scalar()

    async def published_page(self, language: str, limit: int, offset: int) -> tuple[list[StoredArticle], int]:
        """Published articles in one language, for the help-center front page."""
        return await self.find(status="published", language=language, limit=limit, offset=offset)

    async def versions(self, article_id: int) -> list[dict[str, Any]]:
        """Every saved version of an article, newest first (without bodies)."""
        await self.get(article_id)
        query = select(versions_t).where(versions_t.c.article_id == article_id).order_by(versions_t.c.version.desc())
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [version_dict(r, body=False) for r in rows]

    async def version(self, article_id: int, version: int) -> dict[str, Any]:
        """One saved version with its body, or NotFound."""
        query = select(versions_t).where(versions_t.c.article_id == article_id, versions_t.c.version == version)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"article {article_id} has no version {version}")
        return version_dict(row, body=True)

    async def searchable(self) -> list[Article]:
        """Every published, unarchived article: what the search index is built from."""
        query = select(articles_t).where(articles_t.c.status == "published", articles_t.c.archived_at.is_(None))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [article_from_row(r) for r in rows]

    async def current(self, article_ids: Iterable[int]) -> list[Article]:
        """The current state of some articles as the index should see it (archived as drafts)."""
        ids = sorted(set(article_ids))
        found: list[Article] = []
        async with self.db.read() as conn:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = (await conn.execute(select(articles_t).where(articles_t.c.id.in_(chunk)))).all()
                found.extend(as_indexed(article_from_row(r), r.archived_at is not None) for r in rows)
        return found

    async def for_export(self, *, status: str | None, language: str | None) -> list[Article]:
        """Unarchived articles to export, by slug."""
        conditions: list[ColumnElement[bool]] = [articles_t.c.archived_at.is_(None)]
        if status is not None:
            conditions.append(articles_t.c.status == status)
        if language is not None:
            conditions.append(articles_t.c.language == language)
        query = select(articles_t).where(*conditions).order_by(articles_t.c.slug)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [article_from_row(r) for r in rows]

    async def job(self, job_id: str, now: datetime, stale_after: timedelta) -> dict[str, Any]:
        """An import job's progress, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(jobs_t).where(jobs_t.c.id == job_id))).first()
        if row is None:
            raise NotFound(f"import job {job_id} does not exist")
        return job_dict(row, now, stale_after)

    async def counts(self) -> dict[str, int]:
        """How many articles there are in each state."""
        query = select(articles_t.c.status, articles_t.c.archived_at.is_not(None), func.count()).group_by(
            articles_t.c.status, articles_t.c.archived_at.is_not(None)
        )
        totals = {"draft": 0, "published": 0, "archived": 0}
        async with self.db.read() as conn:
            for status, archived, count in (await conn.execute(query)).all():
                totals["archived" if archived else status] += int(count)
        return totals


def _escape_like(text: str) -> str:
    """Text for a LIKE pattern with its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def summaries(items: Sequence[StoredArticle]) -> list[dict[str, Any]]:
    """Articles without bodies, for lists."""
    return [item.to_dict(body=False) for item in items]
