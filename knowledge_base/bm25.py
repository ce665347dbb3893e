"""BM25 over several weighted fields (BM25F): the scoring arithmetic, with no index in it."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FIELDS: tuple[str, ...] = ("title", "tags", "body")

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class BM25Params:
    """k1 (how fast repeats stop counting), b (how much length matters) and per-field boosts."""

    k1: float = 1.2
    b: float = 0.75
    title_boost: float = 3.0
    tags_boost: float = 2.0
    body_boost: float = 1.0

    def __post_init__(self) -> None:
        if self.k1 <= 0:
            raise ValueError("k1 must be positive")
        if not 0.0 <= self.b <= 1.0:
            raise ValueError("b must lie between 0 and 1")
        if min(self.boosts) < 0:
            raise ValueError("field boosts must not be negative")

    @property
    def boosts(self) -> tuple[float, float, float]:
        """The boosts in FIELDS order."""
        return (self.title_boost, self.tags_boost, self.body_boost)


def idf(document_frequency: int, document_count: int) -> float:
    """Inverse document frequency, never negative (the '+1' form Lucene uses)."""
    return math.log(1.0 + (document_count - document_frequency + 0.5) / (document_frequency + 0.5))


def length_norms(
    field_lengths: FloatArray, average_lengths: npt.NDArray[np.float64], params: BM25Params
) -> FloatArray:
    """Per field (rows) and document: boost / (1 - b + b * length / average length)."""
    # A field no document uses (no tags anywhere) has no terms to weigh; avoid dividing by zero.
    averages = np.where(average_lengths > 0, average_lengths, 1.0)
    norms = (1.0 - params.b) + params.b * field_lengths / averages[:, None]
    boosts = np.asarray(params.boosts, dtype=np.float32)[:, None]
    norm_array: FloatArray = (boosts / norms).astype(np.float32)
    return norm_array


def term_scores(
    term_frequencies: FloatArray, norms: FloatArray, term_idf: float, params: BM25Params
) -> FloatArray:
    """BM25F score of one term for each posting: field frequencies (fields x n) times norms."""
    weighted = (term_frequencies * norms).sum(axis=0)
    scores: FloatArray = term_idf * weighted * (params.k1 + 1.0) / (weighted + params.k1)
    return scores
