"""Linear one-vs-rest SVM training and out-of-fold scores, with the model kept as plain arrays."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import scipy.sparse as sp

Matrix: TypeAlias = np.ndarray | sp.spmatrix | sp.sparray


@dataclass(frozen=True)
class LinearScorer:
    """scores = X @ coef + intercept, one column per intent."""

    coef: np.ndarray  # (n_features, n_classes), float32
    intercept: np.ndarray  # (n_classes,), float32

    def scores(self, x: Matrix) -> np.ndarray:
        """Raw decision scores for each row of x."""
        return np.asarray(x @ self.coef, dtype=np.float64) + self.intercept


def train_linear(x: Matrix, y: np.ndarray, n_classes: int, c: float = 1.0) -> LinearScorer:
    """Fit a one-vs-rest linear SVM; classes absent from y get a score that never wins."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    present = np.unique(y)
    n_features = x.shape[1]
    coef = np.zeros((n_features, n_classes), dtype=np.float32)
    # Absent classes: zero weights and a bias far below any real score (scores live near [-2, 2]).
    intercept = np.full(n_classes, -10.0, dtype=np.float32)
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return LinearScorer(coef, intercept)
    model = LinearSVC(C=c)
    with warnings.catch_warnings():
        # Near-separable text data stops at max_iter with a fine solution; the warning is noise.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    weights = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    if len(present) == 2:
        # Binary liblinear returns one hyperplane for the positive class; mirror it for the other.
        weights = np.vstack([-weights, weights])
        bias = np.concatenate([-bias, bias])
    coef[:, present] = weights.T
    intercept[present] = bias
    return LinearScorer(coef, intercept)


def train_logistic(x: np.ndarray, y: np.ndarray, n_classes: int, c: float) -> LinearScorer:
    """Fit a multinomial logistic regression on dense features; absent classes never win."""
    from sklearn.linear_model import LogisticRegression

    present = np.unique(y)
    coef = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    intercept = np.full(n_classes, -30.0, dtype=np.float32)
    if len(present) == 1:
        intercept[present[0]] = 0.0
        return LinearScorer(coef, intercept)
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(x, y)
    weights = np.asarray(model.coef_, dtype=np.float32)
    bias = np.asarray(model.intercept_, dtype=np.float32)
    if len(present) == 2:
        # Binary logistic regression gives one logit; split it symmetrically so softmax matches.
        weights = (np.vstack([-weights, weights]) / 2.0).astype(np.float32)
        bias = (np.concatenate([-bias, bias]) / 2.0).astype(np.float32)
    coef[:, present] = weights.T
    intercept[present] = bias
    return LinearScorer(coef, intercept)


def stratified_folds(y: np.ndarray, n_folds: int, seed: int = 0) -> np.ndarray:
    """Fold number per row, spreading each class evenly across folds."""
    rng = np.random.default_rng(seed)
    folds = np.empty(len(y), dtype=np.int64)
    offset = 0
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        # Rotate the starting fold so small classes do not all land in fold 0.
        folds[members] = (np.arange(len(members)) + offset) % n_folds
        offset += len(members)
    return folds


def out_of_fold(
    fit_and_score: Callable[[np.ndarray, np.ndarray], np.ndarray],
    folds: np.ndarray,
    trainable: np.ndarray | None = None,
    workers: int = 2,
    on_fold_done: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Held-out score rows for every row: fit_and_score(train_rows, heldout_rows) runs once per fold, in threads.

    Rows where `trainable` is False (out-of-scope examples) are scored by their fold's model but
    never appear in any training set.
    """
    can_train = np.ones(len(folds), dtype=bool) if trainable is None else trainable
    n_folds = int(folds.max()) + 1
    jobs = [(np.flatnonzero((folds != k) & can_train), np.flatnonzero(folds == k)) for k in range(n_folds)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # liblinear and BLAS release the GIL, so threads use both cores without copying data.
        results = []
        for scores in pool.map(lambda job: fit_and_score(*job), jobs):
            results.append(scores)
            if on_fold_done is not None:
                on_fold_done(len(results), len(jobs))
    first = results[0]
    stacked = np.empty((len(folds), first.shape[1]), dtype=first.dtype)
    for (_, held), scores in zip(jobs, results, strict=True):
        stacked[held] = scores
    return stacked
