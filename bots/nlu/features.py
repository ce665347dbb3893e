"""TF-IDF vectors over a fitted vocabulary of word and character n-grams."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bots.nlu.text import analyze

Analysis = tuple[list[str], list[str]]

# Character n-grams outnumber words ~10:1; weighting the blocks keeps words from drowning.
DEFAULT_BLOCK_WEIGHTS = (1.0, 1.0)


@dataclass(frozen=True)
class Block:
    """One feature family: its terms, their column offset and idf weights."""

    terms: dict[str, int]
    idf: np.ndarray
    weight: float


@dataclass(frozen=True)
class Vectorizer:
    """Maps messages to l2-normalised sublinear TF-IDF rows, one normalised block per feature family."""

    blocks: tuple[Block, ...]

    @property
    def n_features(self) -> int:
        """Width of the produced matrix."""
        return sum(len(b.terms) for b in self.blocks)

    @classmethod
    def fit(
        cls,
        analyses: Sequence[Analysis],
        min_df: int = 2,
        block_weights: tuple[float, float] = DEFAULT_BLOCK_WEIGHTS,
    ) -> Vectorizer:
        """Keep n-grams seen in at least `min_df` messages; rarer ones only memorise single rows."""
        n_docs = len(analyses)
        blocks = []
        for part, weight in enumerate(block_weights):
            df: Counter[str] = Counter()
            for analysis in analyses:
                df.update(set(analysis[part]))
            kept = sorted(t for t, c in df.items() if c >= min_df)
            counts = np.array([df[t] for t in kept], dtype=np.float64)
            idf = np.log((1.0 + n_docs) / (1.0 + counts)) + 1.0
            blocks.append(Block({t: i for i, t in enumerate(kept)}, idf, weight))
        return cls(tuple(blocks))

    def row(self, analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and values of one analysed message (the sparse row, without scipy overhead)."""
        columns: list[np.ndarray] = []
        values: list[np.ndarray] = []
        offset = 0
        for block, grams in zip(self.blocks, analysis, strict=True):
            lookup = block.terms.get
            ids = [j for j in map(lookup, grams) if j is not None]
            if ids:
                unique, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
                weights = (1.0 + np.log(counts)) * block.idf[unique]
                weights *= block.weight / np.sqrt(weights @ weights)
                columns.append(unique + offset)
                values.append(weights)
            offset += len(block.terms)
        if not columns:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def transform_analyses(self, analyses: Sequence[Analysis]) -> sp.csr_matrix:
        """Vectorize already-analysed messages."""
        rows = [self.row(a) for a in analyses]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(c) for c, _ in rows], out=indptr[1:])
        columns = np.concatenate([c for c, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        values = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        return sp.csr_matrix((values, columns, indptr), shape=(len(rows), self.n_features))

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Vectorize raw messages."""
        return self.transform_analyses([analyze(t) for t in texts])
