"""The knowledge base inside the hub: stored articles, a live search index, imports, events.

`install(app)` wires it into create_app. Every change commits first, then is applied to this
process's index (so it is searchable when the call returns), then published as
KbArticlesChanged, which other processes use to load the article and update their own index.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aiohttp import web

from agents_ui.kb_api import routes as kb_api_routes
from hub import heap
from hub.events import Bus, Event, KbArticlesChanged
from hub.keys import ACTIONS, BUS, DATABASE
from hub.storage.database import Database
from knowledge_base.article import LANGUAGES, Article, Status
from knowledge_base.bundles import BundleLimits, NamedFile, parse_csv_files, parse_markdown_files
from knowledge_base.formats import ImportReport
from knowledge_base.help_center import routes as help_routes
from knowledge_base.keys import KNOWLEDGE_BASE
from knowledge_base.search import SearchHit, SearchIndex
from knowledge_base.segmenter import segmenter
from knowledge_base.store import KbStore, StoredArticle, as_indexed, help_path
from knowledge_base.writes import KbWriter, Saved

log = logging.getLogger(__name__)

__all__ = ["KNOWLEDGE_BASE", "KbConfig", "KnowledgeBase", "install"]


@dataclass(frozen=True, slots=True)
class KbConfig:
    """Limits and sizes, from KEFU_KB_* variables (see docs/knowledge-base.md)."""

    max_upload_bytes: int = 20 * 1024 * 1024
    max_files: int = 20_000
    import_batch: int = 200
    job_stale_after_s: float = 300.0
    # Start-up waits for the index when there are at most this many published articles, so a
    # small knowledge base is searchable the moment the hub answers; bigger ones build behind.
    wait_for_index_up_to: int = 2_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KbConfig:
        """Read KEFU_KB_MAX_UPLOAD_MB, KEFU_KB_MAX_FILES, KEFU_KB_IMPORT_BATCH, KEFU_KB_WAIT_FOR_INDEX_UP_TO."""
        e = os.environ if env is None else env
        values: dict[str, Any] = {}
        if e.get("KEFU_KB_MAX_UPLOAD_MB"):
            values["max_upload_bytes"] = int(float(e["KEFU_KB_MAX_UPLOAD_MB"]) * 1024 * 1024)
        for attr, key in (
            ("max_files", "KEFU_KB_MAX_FILES"),
            ("import_batch", "KEFU_KB_IMPORT_BATCH"),
            ("wait_for_index_up_to", "KEFU_KB_WAIT_FOR_INDEX_UP_TO"),
        ):
            if e.get(key):
                values[attr] = int(e[key])
        return cls(**values)

    @property
    def bundle_limits(self) -> BundleLimits:
        """How far an uploaded zip may unpack."""
        return BundleLimits(max_files=self.max_files, max_total_bytes=self.max_upload_bytes * 10)


class KnowledgeBase:
    """Articles, their search index and imports, for the API, the help center and the bot."""

    def __init__(self, db: Database, bus: Bus, clock: Callable[[], datetime], config: KbConfig | None = None) -> None:
        self.config = config or KbConfig()
        self.store = KbStore(db)
        self.writer = KbWriter(db, clock)
        self.bus = bus
        self.clock = clock
        self.index = SearchIndex()
        self.ready = False
        self.build_progress = (0, 0)
        self._seen: dict[int, int] = {}  # newest version applied (or being applied) per article
        self._recording: list[Article] | None = None  # changes made while a rebuild runs
        self._rebuild_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._search_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kefu-kb-search")

    # --- search: what the bot, the API, the help center and the widget call -------------------

    async def search(self, query: str, language: str | None = None, limit: int = 5) -> list[SearchHit]:
        """Published articles best matching the query, best first; language "zh", "en" or None (both).

        Scoring and snippets (about a millisecond) run on a search thread of their own, so neither
        the event loop nor a long import or rebuild in the default executor holds a search up.
        """
        if language is not None and language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
        index = self.index
        call = partial(index.search, query, language=language, limit=max(1, min(limit, 50)))
        return await asyncio.get_running_loop().run_in_executor(self._search_pool, call)

    @staticmethod
    def article_path(slug: str) -> str:
        """Where the help center shows an article (append to the hub's public URL)."""
        return help_path(slug)

    async def published_article(self, slug: str) -> Article | None:
        """The published article with this slug, with its Markdown body, or None."""
        found = await self.store.published(slug)
        return found.article if found is not None else None

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Build the index from the database; wait for it only when the knowledge base is small."""
        counts = await self.store.counts()
        task = self._spawn(self.rebuild(), name="kb-index-build")
        if counts["published"] <= self.config.wait_for_index_up_to:
            await task
        else:
            log.info("building the search index of %d articles in the background", counts["published"])

    async def stop(self) -> None:
        """Stop running imports and builds (an interrupted import says so in its job)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._search_pool.shutdown(wait=False, cancel_futures=True)

    async def rebuild(self) -> None:
        """Build a fresh index from the database in an executor, then swap it in."""
        loop = asyncio.get_running_loop()
        async with self._rebuild_lock:
            self._recording = []
            try:
                # jieba's dictionary takes about a second to load: never on the event loop.
                await loop.run_in_executor(None, segmenter)
                articles = await self.store.searchable()
                previous = self.index if len(self.index) else None
                built = await loop.run_in_executor(
                    None, partial(SearchIndex.build, articles, previous=previous, progress=self._built)
                )
                recorded, self._recording = self._recording, None
                self.index = built
                heap.settle()
                if recorded:
                    # Changes committed while the snapshot was read or the index built; the
                    # index ignores versions older than it has, so replaying extra is harmless.
                    await loop.run_in_executor(None, _upsert_all, built, recorded)
            finally:
                self._recording = None
            self.ready = True
            log.info("knowledge-base search index holds %d articles", len(self.index))

    def _built(self, done: int, total: int) -> None:
        self.build_progress = (done, total)

    def _spawn(self, work: Any, *, name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- keeping the index current -----------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: articles another process (or this one) saved are (re)indexed."""
        if not isinstance(event, KbArticlesChanged):
            return
        newer = [i for i, v in zip(event.article_ids, event.versions, strict=True) if self._seen.get(i, 0) < v]
        if newer:
            await self._apply(await self.store.current(newer))

    async def _apply(self, articles: Sequence[Article]) -> None:
        """Put committed articles into the index (drafts and archived ones come out)."""
        fresh = [a for a in articles if a.id is not None and self._seen.get(a.id, 0) < a.version]
        if not fresh:
            return
        for article in fresh:
            assert article.id is not None
            self._seen[article.id] = article.version
        if self._recording is not None:
            self._recording.extend(fresh)
        await asyncio.get_running_loop().run_in_executor(None, _upsert_all, self.index, fresh)

    async def _committed(self, saved: Sequence[StoredArticle], change: str) -> None:
        """After a commit: index here at once, then tell every process."""
        if not saved:
            return
        await self._apply([_indexable(s) for s in saved])
        await self.bus.publish(
            KbArticlesChanged(
                article_ids=tuple(s.id for s in saved),
                versions=tuple(s.article.version for s in saved),
                change=change,
            )
        )

    async def _saved(self, result: Saved, change: str) -> StoredArticle:
        if result.changed:
            await self._committed([result.stored], change)
        return result.stored

    # --- designers' actions ------------------------------------------------------------------

    async def create(self, draft: Article, author: int | None) -> StoredArticle:
        """Store a new article (version 1); searchable at once if it is published."""
        stored = await self.writer.create(draft, author)
        await self._committed([stored], "created")
        return stored

    async def update(
        self, article_id: int, changes: dict[str, Any], author: int | None, expected_version: int | None = None
    ) -> Saved:
        """Edit fields, keeping a version; a published article's new text is live at once."""
        result = await self.writer.update(article_id, changes, author, expected_version)
        await self._saved(result, "updated")
        return result

    async def set_status(self, article_id: int, status: Status, author: int | None) -> Saved:
        """Publish or unpublish."""
        result = await self.writer.set_status(article_id, status, author)
        await self._saved(result, "published" if status == "published" else "unpublished")
        return result

    async def archive(self, article_id: int, author: int | None) -> Saved:
        """Archive (the API's delete): unpublished and hidden, history kept."""
        result = await self.writer.archive(article_id, author)
        await self._saved(result, "archived")
        return result

    async def restore(self, article_id: int, author: int | None) -> Saved:
        """Bring an archived article back as a draft."""
        result = await self.writer.restore(article_id, author)
        await self._saved(result, "restored")
        return result

    # --- imports -----------------------------------------------------------------------------

    async def start_import(
        self, kind: str, files: Sequence[NamedFile], author: int | None, *, default_status: Status = "draft"
    ) -> str:
        """Record an import job and run it in the background; returns the job id to poll."""
        source = ", ".join(f.name for f in files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        job_id = await self.writer.start_job(kind, source, author)
        if kind == "markdown":
            parse = partial(parse_markdown_files, files, limits=self.config.bundle_limits)
        else:
            parse = partial(parse_csv_files, files, default_status=default_status)
        self._spawn(self._run_import(job_id, parse, author), name=f"kb-import:{job_id}")
        return job_id

    async def _run_import(self, job_id: str, parse: Callable[[], ImportReport], author: int | None) -> None:
        try:
            report = await asyncio.get_running_loop().run_in_executor(None, parse)
            await self.writer.job_parsed(job_id, len(report.articles), report.problems)
            size = self.config.import_batch
            for start in range(0, len(report.articles), size):
                batch = await self.writer.import_batch(report.articles[start : start + size], job_id, author)
                await self._committed(batch.saved, "imported")
            await self.writer.finish_job(job_id)
        except asyncio.CancelledError:
            await _quietly(self.writer.finish_job(job_id, error="interrupted: the hub shut down"))
            raise
        except Exception as error:
            log.exception("knowledge-base import %s failed", job_id)
            await _quietly(self.writer.finish_job(job_id, error=f"{type(error).__name__}: {error}"))

    async def job(self, job_id: str) -> dict[str, Any]:
        """An import job's progress and outcome."""
        return await self.store.job(job_id, self.clock(), timedelta(seconds=self.config.job_stale_after_s))

    async def status(self) -> dict[str, Any]:
        """Article counts and the index's state."""
        stats = self.index.stats()
        return {
            "articles": await self.store.counts(),
            "index": {
                "ready": self.ready,
                "articles": stats.articles,
                "terms": stats.terms,
                "postings": stats.postings,
                "bytes": stats.array_bytes,
                "build_progress": list(self.build_progress),
            },
        }


def _indexable(stored: StoredArticle) -> Article:
    """Archived articles reach the index as drafts, so they are removed."""
    return as_indexed(stored.article, stored.archived_at is not None)


def _upsert_all(index: SearchIndex, articles: Sequence[Article]) -> None:
    """Apply changes to an index (CPU work: run in an executor)."""
    for article in articles:
        index.upsert(article)


async def _quietly(work: Any) -> None:
    try:
        await work
    except Exception:
        log.exception("could not record the end of an import job")


async def _knowledge_base_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[KNOWLEDGE_BASE].start()
    yield
    await app[KNOWLEDGE_BASE].stop()


def install(app: web.Application) -> None:
    """Add the knowledge base to the hub: service, index upkeep, agent API, help center, widget."""
    kb = KnowledgeBase(app[DATABASE], app[BUS], app[ACTIONS].clock, KbConfig.from_env())
    app[KNOWLEDGE_BASE] = kb
    app[BUS].subscribe(kb.on_event, name="knowledge-base", origin="any", events=(KbArticlesChanged,))
    app.cleanup_ctx.append(_knowledge_base_ctx)
    app.router.add_routes(kb_api_routes)
    app.router.add_routes(help_routes)
