"""A sparse linear model over named features: trained with scikit-learn, scored with a dict lookup."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from hub.analysis.features import Features


@dataclass(frozen=True, slots=True)
class LinearModel:
    """Weights per feature name: one column per class (binary models have one column)."""

    vocab: dict[str, int]
    weights: npt.NDArray[np.float64]  # shape (n_features, n_outputs)
    bias: npt.NDArray[np.float64]  # shape (n_outputs,)
    labels: tuple[str, ...]

    def _known(self, feats: Features) -> tuple[list[int], list[float], list[str]]:
        idx: list[int] = []
        vals: list[float] = []
        names: list[str] = []
        vocab = self.vocab
        for name, value in feats.items():
            i = vocab.get(name)
            if i is not None:
                idx.append(i)
                vals.append(value)
                names.append(name)
        return idx, vals, names

    def decision(self, feats: Features) -> npt.NDArray[np.float64]:
        """Raw scores (log-odds for binary, logits per class otherwise)."""
        idx, vals, _ = self._known(feats)
        if not idx:
            return self.bias.copy()
        z: npt.NDArray[np.float64] = np.asarray(vals) @ self.weights[idx] + self.bias
        return z

    def probabilities(self, feats: Features) -> npt.NDArray[np.float64]:
        """P(labels[1]) for a binary model, else the probability of each label."""
        z = self.decision(feats)
        if len(self.labels) == 2:
            p: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
            return p
        e = np.exp(z - z.max())
        shares: npt.NDArray[np.float64] = e / e.sum()
        return shares

    def contributions(self, feats: Features, column: int = 0) -> list[tuple[str, float]]:
        """Each known feature's share of one output's score, largest first."""
        idx, vals, names = self._known(feats)
        if not idx:
            return []
        parts = np.asarray(vals) * self.weights[idx, column]
        order = np.argsort(-parts)
        return [(names[i], float(parts[i])) for i in order]


def _matrix(rows: Sequence[Features]) -> tuple[csr_matrix, dict[str, int]]:
    vocab: dict[str, int] = {}
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for feats in rows:
        for name, value in feats.items():
            indices.append(vocab.setdefault(name, len(vocab)))
            data.append(value)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), len(vocab))), vocab


def _binary(
    x: csr_matrix, y: npt.NDArray[np.int_], w: npt.NDArray[np.float64], c: float, balanced: bool
) -> tuple[npt.NDArray[np.float64], float]:
    weighting = "balanced" if balanced else None
    clf = LogisticRegression(C=c, class_weight=weighting, solver="liblinear", max_iter=1000)
    clf.fit(x, y, sample_weight=w)
    return clf.coef_[0], float(clf.intercept_[0])


def fit(
    rows: Sequence[Features],
    labels: Sequence[str],
    sample_weight: Sequence[float],
    *,
    c: float,
    balanced: bool = True,
) -> LinearModel:
    """L2-regularised logistic regression: binary for two labels, one-vs-rest for more."""
    x, vocab = _matrix(rows)
    y = np.asarray(labels)
    w = np.asarray(sample_weight, dtype=float)
    classes = tuple(sorted(set(labels)))
    if len(classes) < 2:
        raise ValueError(f"need at least two labels to train, got {classes}")
    # liblinear one-vs-rest trains in well under a second here; multinomial lbfgs took ~8 s.
    targets = classes[1:] if len(classes) == 2 else classes
    columns = [_binary(x, (y == label).astype(int), w, c, balanced) for label in targets]
    weights = np.ascontiguousarray(np.stack([col for col, _ in columns], axis=1))
    bias = np.asarray([b for _, b in columns])
    return LinearModel(vocab, weights, bias, classes)
