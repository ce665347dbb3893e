"""The knowledge base's writers: each is one transaction that keeps a version of every save.

Like hub.actions, each transaction function reads what it needs inside the transaction and changes
nothing outside the database, because on SQLite a write may run twice. The service around these
applies the committed result to the search index and publishes the event.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from hub.domain import Conflict, NotFound
from hub.storage.database import Database
from knowledge_base.article import Article, Status, check_article
from knowledge_base.formats import ImportProblem, slugify
from knowledge_base.store import StoredArticle, articles_t, jobs_t, stored_from_row, versions_t

# Fields a save compares to decide whether anything changed (a no-op save keeps no version).
_CONTENT = ("slug", "title", "body_markdown", "language", "tags", "status")


@dataclass(frozen=True, slots=True)
class Saved:
    """A committed save: the article as it now is, and whether this call changed it."""

    stored: StoredArticle
    changed: bool


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one committed import batch did."""

    saved: list[StoredArticle]
    created: int
    updated: int
    unchanged: int


def same_content(a: Article, b: Article) -> bool:
    """True when two articles read the same to a customer and a designer."""
    return all(getattr(a, name) == getattr(b, name) for name in _CONTENT)


def _row_values(article: Article) -> dict[str, Any]:
    return {
        "slug": article.slug,
        "title": article.title,
        "body_markdown": article.body_markdown,
        "language": article.language,
        "tags": list(article.tags),
        "status": article.status,
        "version": article.version,
    }


def _version_values(
    article_id: int, article: Article, change: str, archived: bool, author: int | None, now: datetime
) -> dict[str, Any]:
    values = _row_values(article)
    values.update(article_id=article_id, change=change, archived=archived, author_id=author, created_at=now)
    return values


def _locked_row(conn: Connection, article_id: int) -> Row[Any]:
    """The article's row, locked against concurrent saves on PostgreSQL; NotFound if missing."""
    row = conn.execute(select(articles_t).where(articles_t.c.id == article_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"article {article_id} does not exist")
    return row


def _slug_free(conn: Connection, slug: str, article_id: int | None = None) -> bool:
    query = select(articles_t.c.id).where(articles_t.c.slug == slug)
    found = conn.execute(query).scalar()
    return found is None or found == article_id


def _free_slug(conn: Connection, title: str) -> str:
    """A slug made from the title that no article has yet: refunds, refunds-2, refunds-3…"""
    base = slugify(title) or "article"
    taken = set(
        conn.execute(select(articles_t.c.slug).where(articles_t.c.slug.startswith(base, autoescape=True))).scalars()
    )
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def _save(
    conn: Connection,
    row: Row[Any],
    article: Article,
    change: str,
    author: int | None,
    now: datetime,
    *,
    archived_at: datetime | None,
) -> StoredArticle:
    """Write the next version of an existing article and keep a copy of it."""
    published_at = now if article.is_published and row.status != "published" else row.published_at
    conn.execute(
        update(articles_t)
        .where(articles_t.c.id == row.id)
        .values(
            **_row_values(article),
            archived_at=archived_at,
            published_at=published_at,
            updated_by=author,
            updated_at=now,
        )
    )
    conn.execute(insert(versions_t), _version_values(row.id, article, change, archived_at is not None, author, now))
    return StoredArticle(
        article=article,
        archived_at=archived_at,
        published_at=published_at,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_by=author,
    )


class KbWriter:
    """Transactions that change articles and import jobs; each returns what it committed."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def create(self, draft: Article, author: int | None) -> StoredArticle:
        """Store a new article as version 1; an empty slug is made from the title."""
        now = self.clock()

        def tx(conn: Connection) -> StoredArticle:
            slug = draft.slug or _free_slug(conn, draft.title)
            article = check_article(replace(draft, slug=slug, version=1, updated_at=now))
            if not _slug_free(conn, slug):
                raise Conflict(f"the slug {slug!r} is already used by another article", code="slug_taken")
            values = _row_values(article)
            values.update(
                published_at=now if article.is_published else None,
                created_by=author,
                updated_by=author,
                created_at=now,
                updated_at=now,
            )
            article_id = conn.execute(insert(articles_t).returning(articles_t.c.id), values).scalar_one()
            conn.execute(insert(versions_t), _version_values(article_id, article, "created", False, author, now))
            return StoredArticle(
                article=replace(article, id=article_id),
                archived_at=None,
                published_at=values["published_at"],
                created_at=now,
                created_by=author,
                updated_by=author,
            )

        return await self.db.run_write(tx)

    async def update(
        self, article_id: int, changes: dict[str, Any], author: int | None, expected_version: int | None = None
    ) -> Saved:
        """Change some fields; a real change keeps a new version, a no-op save keeps none."""
        now = self.clock()

        def tx(conn: Connection) -> Saved:
            row = _locked_row(conn, article_id)
            if row.archived_at is not None:
                raise Conflict("the article is archived; restore it before editing", code="archived")
            if expected_version is not None and row.version != expected_version:
                raise Conflict(
                    f"the article is at version {row.version}, not {expected_version}: someone saved it"
                    " meanwhile; reload it and apply your change again",
                    code="version_conflict",
                )
            current = stored_from_row(row)
            edited = check_article(replace(current.article, **changes, version=row.version + 1, updated_at=now))
            if same_content(edited, current.article):
                return Saved(current, False)
            if edited.slug != row.slug and not _slug_free(conn, edited.slug, article_id):
                raise Conflict(f"the slug {edited.slug!r} is already used by another article", code="slug_taken")
            return Saved(_save(conn, row, edited, "updated", author, now, archived_at=None), True)

        return await self.db.run_write(tx)

    async def set_status(self, article_id: int, status: Status, author: int | None) -> Saved:
        """Publish or unpublish; a published article must pass every check, a body included."""
        now = self.clock()
        change = "published" if status == "published" else "unpublished"

        def tx(conn: Connection) -> Saved:
            row = _locked_row(conn, article_id)
            if row.archived_at is not None:
                raise Conflict("the article is archived; restore it first", code="archived")
            current = stored_from_row(row)
            if row.status == status:
                return Saved(current, False)
            edited = check_article(replace(current.article, status=status, version=row.version + 1, updated_at=now))
            return Saved(_save(conn, row, edited, change, author, now, archived_at=None), True)

        return await self.db.run_write(tx)

    async def archive(self, article_id: int, author: int | None) -> Saved:
        """Take an article out of sight (unpublished, kept with its history and slug)."""
        now = self.clock()

        def tx(conn: Connection) -> Saved:
            row = _locked_row(conn, article_id)
            current = stored_from_row(row)
            if row.archived_at is not None:
                return Saved(current, False)
            edited = replace(current.article, status="draft", version=row.version + 1, updated_at=now)
            return Saved(_save(conn, row, edited, "archived", author, now, archived_at=now), True)

        return await self.db.run_write(tx)

    async def restore(self, article_id: int, author: int | None) -> Saved:
        """Bring an archived article back as a draft."""
        now = self.clock()

        def tx(conn: Connection) -> Saved:
            row = _locked_row(conn, article_id)
            current = stored_from_row(row)
            if row.archived_at is None:
                return Saved(current, False)
            edited = replace(current.article, version=row.version + 1, updated_at=now)
            return Saved(_save(conn, row, edited, "restored", author, now, archived_at=None), True)

        return await self.db.run_write(tx)

    async def import_batch(self, articles: Sequence[Article], job_id: str, author: int | None) -> BatchResult:
        """Save imported articles by slug (new ones created, changed ones given a new version)."""
        now = self.clock()

        def tx(conn: Connection) -> BatchResult:
            slugs = [a.slug for a in articles]
            existing = {
                r.slug: r
                for r in conn.execute(select(articles_t).where(articles_t.c.slug.in_(slugs)).with_for_update())
            }
            saved: list[StoredArticle] = []
            fresh: list[Article] = []
            unchanged = 0
            for imported in articles:
                row = existing.get(imported.slug)
                if row is None:
                    fresh.append(replace(imported, version=1, updated_at=now))
                    continue
                current = stored_from_row(row)
                if row.archived_at is None and same_content(imported, current.article):
                    unchanged += 1
                    continue
                edited = replace(imported, id=row.id, version=row.version + 1, updated_at=now)
                saved.append(_save(conn, row, edited, "imported", author, now, archived_at=None))
            updated = len(saved)
            if fresh:
                rows = [
                    {
                        **_row_values(a),
                        "published_at": now if a.is_published else None,
                        "created_by": author,
                        "updated_by": author,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for a in fresh
                ]
                returning = insert(articles_t).returning(articles_t.c.id, sort_by_parameter_order=True)
                ids = list(conn.execute(returning, rows).scalars())
                conn.execute(
                    insert(versions_t),
                    [_version_values(i, a, "imported", False, author, now) for i, a in zip(ids, fresh, strict=True)],
                )
                saved.extend(
                    StoredArticle(replace(a, id=i), None, r["published_at"], now, author, author)
                    for i, a, r in zip(ids, fresh, rows, strict=True)
                )
            conn.execute(
                update(jobs_t)
                .where(jobs_t.c.id == job_id)
                .values(
                    done=jobs_t.c.done + len(articles),
                    created=jobs_t.c.created + len(fresh),
                    updated=jobs_t.c.updated + updated,
                    unchanged=jobs_t.c.unchanged + unchanged,
                    updated_at=now,
                )
            )
            return BatchResult(saved, len(fresh), updated, unchanged)

        return await self.db.run_write(tx)

    async def start_job(self, kind: str, source: str, author: int | None) -> str:
        """Record a new import job, parsing; its id is what the client polls."""
        now = self.clock()
        job_id = secrets.token_hex(12)

        def tx(conn: Connection) -> str:
            conn.execute(
                insert(jobs_t),
                {
                    "id": job_id,
                    "kind": kind,
                    "state": "parsing",
                    "source": source[:300],
                    "total": 0,
                    "done": 0,
                    "created": 0,
                    "updated": 0,
                    "unchanged": 0,
                    "problems": [],
                    "author_id": author,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            return job_id

        return await self.db.run_write(tx)

    async def job_parsed(self, job_id: str, total: int, problems: Sequence[ImportProblem]) -> None:
        """The upload is read: `total` articles to save and the files or rows that were refused."""
        now = self.clock()
        found = [{"source": p.source, "line": p.line, "message": p.message} for p in problems]

        def tx(conn: Connection) -> None:
            conn.execute(
                update(jobs_t)
                .where(jobs_t.c.id == job_id)
                .values(state="saving", total=total, problems=found, updated_at=now)
            )

        await self.db.run_write(tx)

    async def finish_job(self, job_id: str, error: str | None = None) -> None:
        """Mark the job done, or failed with the reason."""
        now = self.clock()

        def tx(conn: Connection) -> None:
            conn.execute(
                update(jobs_t)
                .where(jobs_t.c.id == job_id)
                .values(
                    state="failed" if error else "done",
                    error=error,
                    updated_at=now,
                    finished_at=now,
                )
            )

        await self.db.run_write(tx)
