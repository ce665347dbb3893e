"""Full-text search of published articles: BM25F ranking, language filter, highlighted snippets."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from knowledge_base.analysis import TextAnalyzer
from knowledge_base.article import LANGUAGES, Article, Language
from knowledge_base.bm25 import BM25Params
from knowledge_base.markdown_text import markdown_to_text
from knowledge_base.postings import FieldCounts, PostingStore, StoredDocument
from knowledge_base.snippet import Snippet, make_snippet

# Longer queries are cut: segmenting a pasted essay must not stall the event loop.
MAX_QUERY_CHARS = 500

Progress = Callable[[int, int], None]

_LANGUAGE_CODES: dict[Language, int] = {language: code for code, language in enumerate(LANGUAGES)}


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One found article: what to link to, how well it matched, and where."""

    article_id: int
    slug: str
    title: str
    language: Language
    score: float
    snippet: Snippet
    title_highlights: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class IndexStats:
    """How big the index is: articles, distinct terms, postings and bytes held."""

    articles: int
    terms: int
    postings: int
    array_bytes: int
    text_chars: int


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the index keeps of an article to answer with."""

    article_id: int
    slug: str
    title: str
    language: Language
    version: int
    plain_body: str


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An analysed article, ready to be put into the store."""

    entry: _Entry
    counts: FieldCounts


class SearchIndex:
    """In-memory index of published articles; drafts are never searchable.

    Searches and single-article changes may come from any thread. Analysis runs outside the
    locks, searches wait only for the short moment a change is applied, and compaction builds
    its new arrays while searches carry on against the old ones.
    """

    def __init__(
        self,
        *,
        analyzer: TextAnalyzer | None = None,
        params: BM25Params | None = None,
        snippet_width: int = 160,
    ) -> None:
        self.analyzer = analyzer or TextAnalyzer()
        self.params = params or BM25Params()
        self.snippet_width = snippet_width
        self._store = PostingStore()
        self._entries: list[_Entry | None] = []
        self._slots: dict[int, int] = {}
        # The newest version seen of every article, indexed or not, so a late, older event
        # cannot bring back text that a newer draft or edit replaced.
        self._versions: dict[int, int] = {}
        self._lock = threading.Lock()  # readers vs. the moment a change is applied
        self._write_lock = threading.Lock()  # one writer at a time, held through compaction

    @classmethod
    def build(
        cls,
        articles: Iterable[Article],
        *,
        analyzer: TextAnalyzer | None = None,
        params: BM25Params | None = None,
        snippet_width: int = 160,
        progress: Progress | None = None,
        previous: SearchIndex | None = None,
    ) -> SearchIndex:
        """A new index of the published articles (the newest version of each id wins).

        With `previous` (an index built with the same analyzer, which is then the default), an
        article whose id and version it holds is not analysed again, so a rebuild of a mostly
        unchanged knowledge base takes a fraction of the first build. `previous` keeps serving
        meanwhile.
        """
        if previous is not None and analyzer is None:
            analyzer = previous.analyzer
        index = cls(analyzer=analyzer, params=params, snippet_width=snippet_width)
        reusable: dict[int, tuple[_Entry, StoredDocument]] = {}
        vocabulary: dict[str, int] | None = None
        if previous is not None and previous.analyzer is index.analyzer:
            vocabulary, reusable = previous._reusable()
        newest: dict[int, Article] = {}
        for article in articles:
            article_id = _require_id(article)
            known = newest.get(article_id)
            if known is None or article.version >= known.version:
                newest[article_id] = article
        published = [a for a in newest.values() if a.is_published]
        entries: list[_Entry | None] = []

        def analysed() -> Iterator[tuple[FieldCounts | StoredDocument, int]]:
            """Each article's terms, analysed (unless reusable) just before the store takes them."""
            for done, article in enumerate(published, start=1):
                known = reusable.get(_require_id(article))
                if known is not None and known[0].version == article.version:
                    entries.append(known[0])
                    yield known[1], _LANGUAGE_CODES[article.language]
                else:
                    prepared = index._prepare(article)
                    entries.append(prepared.entry)
                    yield prepared.counts, _LANGUAGE_CODES[article.language]
                if progress is not None:
                    progress(done, len(published))

        index._store = PostingStore.build(analysed(), vocabulary)
        index._entries = entries
        index._slots = {e.article_id: slot for slot, e in enumerate(entries) if e is not None}
        index._versions = {article_id: a.version for article_id, a in newest.items()}
        return index

    def upsert(self, article: Article) -> bool:
        """Index a published article or drop a draft at once; False if nothing changed.

        A version older than the newest one seen is ignored, so replaying changes is safe.
        """
        article_id = _require_id(article)
        with self._lock:
            if self._is_stale(article):
                return False
        prepared = self._prepare(article) if article.is_published else None
        with self._write_lock:
            with self._lock:
                if self._is_stale(article):
                    return False
                self._versions[article_id] = article.version
                changed = self._forget(article_id)
                if prepared is not None:
                    slot = self._store.add(prepared.counts, _LANGUAGE_CODES[article.language])
                    self._entries.append(prepared.entry)
                    assert len(self._entries) == slot + 1
                    self._slots[article_id] = slot
                    changed = True
            if changed and self._store.needs_compaction():
                self._compact_holding_write_lock()
        return changed

    def remove(self, article_id: int) -> bool:
        """Make the article unsearchable; False if it was not indexed."""
        with self._write_lock:
            with self._lock:
                found = self._forget(article_id)
            if found and self._store.needs_compaction():
                self._compact_holding_write_lock()
        return found

    def compact(self) -> None:
        """Pack recent changes and drop removed articles' postings (done by itself when needed)."""
        with self._write_lock:
            self._compact_holding_write_lock()

    def search(
        self, query: str, *, language: Language | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """The best published articles for the query, best first; language=None searches all."""
        if language is not None and language not in _LANGUAGE_CODES:
            raise ValueError(f"unknown language {language!r}")
        terms = self.analyzer.query_terms(query[:MAX_QUERY_CHARS])
        if not terms:
            return []
        group = None if language is None else _LANGUAGE_CODES[language]
        with self._lock:
            ranked = self._store.top(terms, self.params, limit, group)
            found = [(self._entries[slot], score) for slot, score in ranked]
        # Snippets are cut outside the lock: entries are immutable.
        return [self._hit(entry, score, terms) for entry, score in found if entry is not None]

    def version_of(self, article_id: int) -> int | None:
        """The indexed version of the article, or None if it is not searchable."""
        with self._lock:
            return self._indexed_version(article_id)

    def stats(self) -> IndexStats:
        """Sizes of the index right now."""
        with self._lock:
            store = self._store.stats()
            text = sum(len(e.plain_body) + len(e.title) for e in self._entries if e is not None)
        return IndexStats(
            articles=store.documents,
            terms=store.terms,
            postings=store.packed_postings + store.recent_postings,
            array_bytes=store.array_bytes,
            text_chars=text,
        )

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._slots

    def _reusable(self) -> tuple[dict[str, int], dict[int, tuple[_Entry, StoredDocument]]]:
        """A copy of the vocabulary and each indexed article's entry and stored terms."""
        with self._lock:
            # A copy: this index may still add terms (upserts) while the new one is built.
            vocabulary = dict(self._store.vocabulary)
            reusable = {}
            for article_id, slot in self._slots.items():
                entry, stored = self._entries[slot], self._store.document(slot)
                if entry is not None and stored is not None:
                    reusable[article_id] = (entry, stored)
        return vocabulary, reusable

    def _prepare(self, article: Article) -> _Prepared:
        """Analyse the article's fields; pure, so it runs outside the locks."""
        plain = markdown_to_text(article.body_markdown)
        terms = self.analyzer.terms
        counts = FieldCounts.count(
            terms(article.title), terms("\n".join(article.tags)), terms(plain)
        )
        entry = _Entry(
            article_id=_require_id(article),
            slug=article.slug,
            title=article.title,
            language=article.language,
            version=article.version,
            plain_body=plain,
        )
        return _Prepared(entry, counts)

    def _indexed_version(self, article_id: int) -> int | None:
        """The indexed version; the caller holds the read lock."""
        slot = self._slots.get(article_id)
        entry = self._entries[slot] if slot is not None else None
        return entry.version if entry is not None else None

    def _is_stale(self, article: Article) -> bool:
        """True when a newer version has been seen; the caller holds the read lock."""
        return self._versions.get(_require_id(article), 0) > article.version

    def _forget(self, article_id: int) -> bool:
        """Remove the article's slot; the caller holds both locks."""
        slot = self._slots.pop(article_id, None)
        if slot is None:
            return False
        self._store.remove(slot)
        self._entries[slot] = None
        return True

    def _compact_holding_write_lock(self) -> None:
        """Build packed arrays while searches go on, then swap them in."""
        store, old_slots = self._store.compacted()
        entries = [self._entries[slot] for slot in old_slots.tolist()]
        slots = {entry.article_id: slot for slot, entry in enumerate(entries) if entry is not None}
        with self._lock:
            self._store, self._entries, self._slots = store, entries, slots

    def _hit(self, entry: _Entry, score: float, terms: list[str]) -> SearchHit:
        """A result with the snippet around the best body matches and the title matches marked."""
        matches = self.analyzer.matches(entry.plain_body, terms)
        title_matches = self.analyzer.matches(entry.title, terms)
        return SearchHit(
            article_id=entry.article_id,
            slug=entry.slug,
            title=entry.title,
            language=entry.language,
            score=score,
            snippet=make_snippet(entry.plain_body, matches, self.snippet_width),
            title_highlights=tuple((m.start, m.end) for m in title_matches),
        )


def _require_id(article: Article) -> int:
    """The article's id; only stored articles (with an id) can be indexed."""
    if article.id is None:
        raise ValueError(f"article {article.slug!r} has no id yet; store it before indexing")
    return article.id
