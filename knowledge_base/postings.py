"""An inverted index of field term frequencies: a packed base plus a small delta of recent adds."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from knowledge_base.bm25 import FIELDS, BM25Params, idf, length_norms, term_scores

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]

_FIELD_COUNT = len(FIELDS)


@dataclass(frozen=True, slots=True)
class FieldCounts:
    """One document's distinct terms, their frequency in each field, and each field's length."""

    terms: tuple[str, ...]
    frequencies: FloatArray  # fields x len(terms)
    lengths: tuple[int, int, int]

    @classmethod
    def count(cls, title: Sequence[str], tags: Sequence[str], body: Sequence[str]) -> FieldCounts:
        """Count the analysed terms of the three fields."""
        per_field = (Counter(title), Counter(tags), Counter(body))
        terms = tuple(dict.fromkeys([*per_field[0], *per_field[1], *per_field[2]]))
        frequencies = np.array(
            [[field.get(term, 0) for term in terms] for field in per_field], dtype=np.float32
        ).reshape(_FIELD_COUNT, len(terms))
        return cls(terms, frequencies, (len(title), len(tags), len(body)))


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """What the store keeps of a document: term ids, their field frequencies, field lengths."""

    term_ids: IntArray
    frequencies: FloatArray  # fields x len(term_ids)
    lengths: tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Sizes worth watching: documents, slots held by removed ones, terms, postings, bytes."""

    documents: int
    slots: int
    terms: int
    packed_postings: int
    recent_postings: int
    array_bytes: int


class PostingStore:
    """Documents live in numbered slots; a removed slot stays dead until the store is compacted.

    Not thread-safe on its own: callers serialise writers and keep readers out while writing.
    """

    def __init__(self, vocabulary: dict[str, int] | None = None) -> None:
        self.vocabulary: dict[str, int] = vocabulary if vocabulary is not None else {}
        self.slot_count = 0
        self.live_count = 0
        self._live = np.zeros(0, dtype=np.bool_)
        self._groups = np.zeros(0, dtype=np.int8)
        self._lengths = np.zeros((_FIELD_COUNT, 0), dtype=np.float32)
        self._length_sums = np.zeros(_FIELD_COUNT, dtype=np.float64)
        self._document_frequency = np.zeros(0, dtype=np.int32)
        self._forward: list[StoredDocument | None] = []
        # The packed base: postings of term t are docs[offsets[t]:offsets[t + 1]].
        self._offsets = np.zeros(1, dtype=np.int64)
        self._docs = np.zeros(0, dtype=np.int32)
        self._frequencies = np.zeros((_FIELD_COUNT, 0), dtype=np.float32)
        # Recent adds, per term: slots and their field frequencies, folded in by compaction.
        self._recent: dict[int, tuple[list[int], list[FloatArray]]] = {}
        self._recent_postings = 0
        self._norms_cache: tuple[int, BM25Params, FloatArray] | None = None
        self._generation = 0

    @classmethod
    def build(
        cls,
        documents: Iterable[tuple[FieldCounts | StoredDocument, int]],
        vocabulary: dict[str, int] | None = None,
    ) -> PostingStore:
        """A packed store holding the documents in slots 0..n-1, in the order given.

        A StoredDocument must come from a store whose vocabulary this one's copies. Documents
        are consumed one at a time, so a generator keeps only ids, not terms, alive.
        """
        store = cls(vocabulary)
        term_parts: list[IntArray] = []
        frequency_parts: list[FloatArray] = []
        doc_parts: list[IntArray] = []
        for slot, (document, group) in enumerate(documents):
            store._reserve(slot + 1)
            stored = store._stored(document)
            store._place(slot, stored, group)
            term_parts.append(stored.term_ids)
            frequency_parts.append(stored.frequencies)
            doc_parts.append(np.full(len(stored.term_ids), slot, dtype=np.int32))
            store.slot_count = slot + 1
        store._pack(term_parts, doc_parts, frequency_parts)
        return store

    def add(self, counts: FieldCounts, group: int) -> int:
        """Index one document and return its slot."""
        slot = self.slot_count
        self._reserve(slot + 1)
        stored = self._stored(counts)
        self._place(slot, stored, group)
        for position, term_id in enumerate(stored.term_ids.tolist()):
            docs, frequencies = self._recent.setdefault(term_id, ([], []))
            docs.append(slot)
            frequencies.append(stored.frequencies[:, position])
        self._recent_postings += len(stored.term_ids)
        self.slot_count = slot + 1
        return slot

    def remove(self, slot: int) -> None:
        """Forget the document in the slot; its postings stay, masked, until compaction."""
        stored = self._forward[slot] if 0 <= slot < self.slot_count else None
        if stored is None:
            raise KeyError(slot)
        self._live[slot] = False
        self._document_frequency[stored.term_ids] -= 1
        self._length_sums -= stored.lengths
        self._forward[slot] = None
        self.live_count -= 1
        self._generation += 1

    def document(self, slot: int) -> StoredDocument | None:
        """The document in the slot (to carry into a rebuild), or None if the slot is dead."""
        return self._forward[slot] if 0 <= slot < self.slot_count else None

    def needs_compaction(self) -> bool:
        """True once dead slots or unpacked postings are a large share of the store."""
        dead = self.slot_count - self.live_count
        packed = len(self._docs)
        return dead > max(1_000, self.live_count // 4) or self._recent_postings > max(
            50_000, packed // 4
        )

    def compacted(self) -> tuple[PostingStore, IntArray]:
        """A packed copy without dead slots, and old_slots such that new slot i was old_slots[i]."""
        n = self.slot_count
        old_slots = np.flatnonzero(self._live[:n]).astype(np.int32)
        new_slot = np.full(n, -1, dtype=np.int32)
        new_slot[old_slots] = np.arange(len(old_slots), dtype=np.int32)
        base_terms = np.repeat(
            np.arange(len(self._offsets) - 1, dtype=np.int32), np.diff(self._offsets)
        )
        keep = self._live[self._docs]
        term_parts = [base_terms[keep]]
        doc_parts = [new_slot[self._docs[keep]]]
        frequency_parts = [self._frequencies[:, keep]]
        if self._recent:
            terms: list[int] = []
            docs: list[int] = []
            frequencies: list[FloatArray] = []
            for term_id, (term_docs, term_frequencies) in self._recent.items():
                terms.extend([term_id] * len(term_docs))
                docs.extend(term_docs)
                frequencies.extend(term_frequencies)
            recent_docs = np.asarray(docs, dtype=np.int32)
            recent_keep = self._live[recent_docs]
            term_parts.append(np.asarray(terms, dtype=np.int32)[recent_keep])
            doc_parts.append(new_slot[recent_docs[recent_keep]])
            frequency_parts.append(np.stack(frequencies, axis=1)[:, recent_keep])

        store = PostingStore(self.vocabulary)
        store._reserve(len(old_slots))
        store.slot_count = store.live_count = len(old_slots)
        store._live[: len(old_slots)] = True
        store._groups[: len(old_slots)] = self._groups[old_slots]
        store._lengths[:, : len(old_slots)] = self._lengths[:, old_slots]
        store._length_sums = self._length_sums.copy()
        store._document_frequency = self._document_frequency.copy()
        store._forward = [self._forward[slot] for slot in old_slots.tolist()]
        store._pack(term_parts, doc_parts, frequency_parts)
        return store, old_slots

    def top(
        self, terms: Sequence[str], params: BM25Params, limit: int, group: int | None = None
    ) -> list[tuple[int, float]]:
        """The best (slot, score) pairs for the query terms, best first, ties by slot."""
        if self.live_count == 0 or limit <= 0:
            return []
        norms = self._norms(params)
        doc_parts: list[IntArray] = []
        score_parts: list[FloatArray] = []
        for term in terms:
            term_id = self.vocabulary.get(term)
            if term_id is None or term_id >= len(self._document_frequency):
                continue
            frequency = int(self._document_frequency[term_id])
            if frequency <= 0:
                continue
            docs, frequencies = self._postings(term_id)
            term_idf = idf(frequency, self.live_count)
            doc_parts.append(docs)
            score_parts.append(term_scores(frequencies, norms[:, docs], term_idf, params))
        if not doc_parts:
            return []
        n = self.slot_count
        totals = np.bincount(
            np.concatenate(doc_parts), weights=np.concatenate(score_parts), minlength=n
        )
        keep = self._live[:n] if group is None else self._live[:n] & (self._groups[:n] == group)
        candidates = np.flatnonzero(keep & (totals > 0))
        if len(candidates) > limit:
            # Keep everything above the limit-th score and, of the ties at it, the oldest slots,
            # so the cut is as deterministic as the final order.
            scores = totals[candidates]
            threshold = -np.partition(-scores, limit - 1)[limit - 1]
            above = candidates[scores > threshold]
            tied = candidates[scores == threshold][: limit - len(above)]
            candidates = np.concatenate([above, tied])
        order = np.lexsort((candidates, -totals[candidates]))
        return [(int(slot), float(totals[slot])) for slot in candidates[order]]

    def stats(self) -> StoreStats:
        """Counts, and the bytes held in arrays (not Python objects such as the vocabulary)."""
        forward_bytes = sum(
            d.term_ids.nbytes + d.frequencies.nbytes for d in self._forward if d is not None
        )
        arrays = (self._live, self._groups, self._lengths, self._document_frequency,
                  self._offsets, self._docs, self._frequencies)
        return StoreStats(
            documents=self.live_count,
            slots=self.slot_count,
            terms=len(self.vocabulary),
            packed_postings=len(self._docs),
            recent_postings=self._recent_postings,
            array_bytes=forward_bytes + sum(a.nbytes for a in arrays),
        )

    def _postings(self, term_id: int) -> tuple[IntArray, FloatArray]:
        """All postings of a term: the packed slice, then any recent ones."""
        if term_id + 1 < len(self._offsets):
            start, end = int(self._offsets[term_id]), int(self._offsets[term_id + 1])
            docs, frequencies = self._docs[start:end], self._frequencies[:, start:end]
        else:
            docs = np.zeros(0, dtype=np.int32)
            frequencies = np.zeros((_FIELD_COUNT, 0), dtype=np.float32)
        recent = self._recent.get(term_id)
        if recent is not None:
            docs = np.concatenate([docs, np.asarray(recent[0], dtype=np.int32)])
            frequencies = np.concatenate([frequencies, np.stack(recent[1], axis=1)], axis=1)
        return docs, frequencies

    def _norms(self, params: BM25Params) -> FloatArray:
        """Length norms for every slot, recomputed only after the collection changed."""
        cached = self._norms_cache
        if cached is not None and cached[0] == self._generation and cached[1] == params:
            return cached[2]
        averages = self._length_sums / max(self.live_count, 1)
        norms = length_norms(self._lengths[:, : self.slot_count], averages, params)
        self._norms_cache = (self._generation, params, norms)
        return norms

    def _stored(self, document: FieldCounts | StoredDocument) -> StoredDocument:
        """The document with its terms turned into this store's ids."""
        if isinstance(document, StoredDocument):
            self._term_ids(())  # makes room for any ids the copied vocabulary brought
            return document
        ids = self._term_ids(document.terms)
        return StoredDocument(ids, document.frequencies, document.lengths)

    def _term_ids(self, terms: Sequence[str]) -> IntArray:
        """Ids for the terms, new terms getting the next free ids."""
        vocabulary = self.vocabulary
        ids = np.fromiter(
            (vocabulary.setdefault(term, len(vocabulary)) for term in terms),
            dtype=np.int32,
            count=len(terms),
        )
        if len(vocabulary) > len(self._document_frequency):
            grown = np.zeros(max(len(vocabulary), 2 * len(self._document_frequency)), np.int32)
            grown[: len(self._document_frequency)] = self._document_frequency
            self._document_frequency = grown
        return ids

    def _place(self, slot: int, stored: StoredDocument, group: int) -> None:
        """Record a new document's slot data and statistics."""
        self._live[slot] = True
        self._groups[slot] = group
        self._lengths[:, slot] = stored.lengths
        self._length_sums += stored.lengths
        self._document_frequency[stored.term_ids] += 1
        self._forward.append(stored)
        self.live_count += 1
        self._generation += 1

    def _reserve(self, slots: int) -> None:
        """Grow the per-slot arrays to hold at least this many slots."""
        capacity = len(self._live)
        if slots <= capacity:
            return
        capacity = max(slots, 2 * capacity, 64)
        live = np.zeros(capacity, dtype=np.bool_)
        live[: len(self._live)] = self._live
        groups = np.zeros(capacity, dtype=np.int8)
        groups[: len(self._groups)] = self._groups
        lengths = np.zeros((_FIELD_COUNT, capacity), dtype=np.float32)
        lengths[:, : self._lengths.shape[1]] = self._lengths
        self._live, self._groups, self._lengths = live, groups, lengths

    def _pack(
        self,
        term_parts: list[IntArray],
        doc_parts: list[IntArray],
        frequency_parts: list[FloatArray],
    ) -> None:
        """Replace the base with the given postings grouped by term, and clear the recent ones."""
        terms = np.concatenate(term_parts) if term_parts else np.zeros(0, np.int32)
        docs = np.concatenate(doc_parts) if doc_parts else np.zeros(0, np.int32)
        frequencies = (
            np.concatenate(frequency_parts, axis=1)
            if frequency_parts
            else np.zeros((_FIELD_COUNT, 0), np.float32)
        )
        # Stable, so each term's postings stay in slot order.
        order = np.argsort(terms, kind="stable")
        counts = np.bincount(terms, minlength=len(self.vocabulary))
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._docs = docs[order]
        self._frequencies = np.ascontiguousarray(frequencies[:, order])
        self._recent = {}
        self._recent_postings = 0
        self._generation += 1
