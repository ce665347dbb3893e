"""The BM25 arithmetic behaves the way ranking relies on."""
from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.bm25 import BM25Params, idf, length_norms, term_scores


def test_rare_terms_weigh_more_and_no_term_weighs_less_than_nothing() -> None:
    assert idf(1, 1000) > idf(10, 1000) > idf(900, 1000) > 0
    assert idf(1000, 1000) > 0


def test_repeats_count_less_and_less() -> None:
    norms = np.ones((3, 4), dtype=np.float32)
    frequencies = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [1, 2, 4, 100]], dtype=np.float32)
    scores = term_scores(frequencies, norms, 1.0, BM25Params())
    gains = np.diff(scores)
    assert (gains > 0).all() and gains[0] > gains[1]
    assert scores[-1] < BM25Params().k1 + 1


def test_boosts_and_lengths_shape_the_norms() -> None:
    lengths = np.array([[5, 5], [0, 0], [10, 30]], dtype=np.float32)
    norms = length_norms(lengths, np.array([5.0, 0.0, 20.0]), BM25Params())
    assert norms[0, 0] == pytest.approx(3.0)  # title at average length: just its boost
    assert norms[2, 0] > norms[2, 1]  # shorter body, larger weight per occurrence
    assert np.isfinite(norms).all()  # no tags anywhere must not divide by zero


@pytest.mark.parametrize("bad", [{"k1": 0}, {"b": 1.5}, {"title_boost": -1}])
def test_nonsense_parameters_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        BM25Params(**bad)
