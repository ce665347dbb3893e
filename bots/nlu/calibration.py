"""Turn raw scores into calibrated probabilities and pick the out-of-scope threshold (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    expd = np.exp(shifted)
    return expd / expd.sum(axis=1, keepdims=True)


def pool(components: Sequence[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Weighted sum of score matrices: the logits of the pooled model."""
    total = np.zeros_like(components[0], dtype=np.float64)
    for scores, w in zip(components, weights, strict=True):
        total += w * scores
    return total


def fit_pool_weights(components: Sequence[np.ndarray], y: np.ndarray, max_weight: float = 1e3) -> np.ndarray:
    """Non-negative weights w minimising the log loss of softmax(sum w_i * S_i) on held-out scores.

    With one component this is temperature scaling (w = 1/T); with several it also learns how much
    to trust each model, so the pooled probabilities stay calibrated.
    """
    rows = np.arange(len(y))

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        probs = softmax(pool(components, w))
        nll = -np.log(np.clip(probs[rows, y], 1e-300, None)).mean()
        # d(nll)/dw_i = mean over rows of (E_p[S_i] - S_i[y])
        grad = np.array([((probs * s).sum(axis=1) - s[rows, y]).mean() for s in components])
        return float(nll), grad

    start = np.ones(len(components))
    result = minimize(loss_and_grad, start, jac=True, method="L-BFGS-B", bounds=[(0.0, max_weight)] * len(start))
    return np.asarray(result.x, dtype=np.float64)


def choose_threshold(
    confidence: np.ndarray,
    correct: np.ndarray,
    oos_confidence: np.ndarray | None = None,
) -> float:
    """Confidence below which the classifier should say 'out of scope', from held-out predictions.

    A held-out prediction is handled well when it is accepted and right, or rejected and would have
    been wrong (a handoff beats a confident wrong answer). Out-of-scope rows are handled well only
    when rejected. When both kinds are present each counts for half, so the choice does not depend
    on how many out-of-scope rows the caller happened to label.
    """
    conf = np.asarray(confidence, dtype=np.float64)
    good_if_accepted = np.asarray(correct, dtype=np.float64)
    n_in = len(conf)
    weights = np.full(n_in, 1.0 / max(n_in, 1))
    if oos_confidence is not None and len(oos_confidence):
        oos = np.asarray(oos_confidence, dtype=np.float64)
        conf = np.concatenate([conf, oos])
        good_if_accepted = np.concatenate([good_if_accepted, np.zeros(len(oos))])
        weights = np.concatenate([weights, np.full(len(oos), 1.0 / len(oos))])
    if not len(conf):
        return 0.0
    order = np.argsort(conf, kind="stable")
    conf, good_if_accepted, weights = conf[order], good_if_accepted[order], weights[order]
    # Threshold t rejects every row with conf < t. Candidate cut k rejects the k lowest rows.
    reject_gain = np.concatenate([[0.0], np.cumsum(weights * (1.0 - good_if_accepted))])
    accept_gain = np.concatenate([np.cumsum((weights * good_if_accepted)[::-1])[::-1], [0.0]])
    total = reject_gain + accept_gain
    # Between equal confidences no threshold can separate rows, so only cut where the value changes.
    valid = np.concatenate([[True], conf[1:] != conf[:-1], [True]])
    total[~valid] = -np.inf
    best = int(np.argmax(total))
    if best == 0:
        return 0.0
    if best == len(conf):
        return float(np.nextafter(conf[-1], np.inf))
    return float((conf[best - 1] + conf[best]) / 2.0)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Mean gap between stated confidence and observed accuracy, over equal-width confidence bins."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    if not len(conf):
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        in_bin = which == b
        if in_bin.any():
            error += in_bin.mean() * abs(conf[in_bin].mean() - hit[in_bin].mean())
    return float(error)
