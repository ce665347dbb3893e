"""The training pipeline: held-out folds, component models, calibration and the out-of-scope threshold."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bots.nlu.calibration import choose_threshold, expected_calibration_error, fit_pool_weights, pool, softmax
from bots.nlu.components import Component
from bots.nlu.linear import stratified_folds
from bots.nlu.tfidf import fit_tfidf_svm
from bots.nlu.types import Progress, TrainingExample

if TYPE_CHECKING:
    from bots.nlu.classifier import IntentClassifier

MAX_FOLDS = 5
# Past this many examples three folds give a steady enough estimate and keep 'fast' within ~10 s.
LARGE_DATA = 3000


@dataclass(frozen=True)
class PreparedData:
    """Examples split into intents and out-of-scope rows, with integer labels (-1 = out of scope)."""

    texts: list[str]
    y: np.ndarray
    labels: list[str]

    @property
    def in_scope(self) -> np.ndarray:
        """Mask of rows that carry a real intent."""
        return self.y >= 0


def prepare(examples: list[TrainingExample], out_of_scope_label: str | None) -> PreparedData:
    """Drop blank texts, map intents to sorted integer ids and check there is something to learn."""
    kept = [e for e in examples if e.text.strip()]
    labels = sorted({e.intent for e in kept if e.intent != out_of_scope_label})
    if len(labels) < 2:
        raise ValueError(f"need examples of at least two intents, got {len(labels)}")
    index = {label: i for i, label in enumerate(labels)}
    y = np.array([index.get(e.intent, -1) if e.intent != out_of_scope_label else -1 for e in kept], dtype=np.int64)
    return PreparedData([e.text for e in kept], y, labels)


def fold_count(y: np.ndarray) -> int:
    """Five folds for small data, three for large, fewer when no intent has enough examples to spread."""
    counts = np.bincount(y[y >= 0])
    wanted = 3 if len(y) > LARGE_DATA else MAX_FOLDS
    return int(min(wanted, max(2, counts.max())))


def train_classifier(
    cls: type[IntentClassifier],
    examples: list[TrainingExample],
    mode: str,
    progress: Progress | None,
    out_of_scope_label: str | None,
    seed: int,
) -> IntentClassifier:
    """Fit every component for the mode, then calibrate their pooled scores on held-out folds."""
    from bots.nlu.classifier import MODES, HeldOut, TrainingSummary

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    if mode == "accurate":
        # Fail before any work when the optional extra (torch or the packaged model) is missing.
        from bots.nlu import encoder

        encoder.minilm.model_dir()
    data = prepare(examples, out_of_scope_label)
    n_classes = len(data.labels)
    folds = stratified_folds(data.y, fold_count(data.y), seed)
    n_folds = int(folds.max()) + 1
    tfidf_end = 0.9 if mode == "fast" else 0.1
    report("n-gram model", 0.02)
    components: list[Component] = []
    held_out: list[np.ndarray] = []
    tfidf, tfidf_scores = fit_tfidf_svm(
        data.texts,
        data.y,
        n_classes,
        folds,
        data.in_scope,
        on_fold_done=lambda done, total: report("n-gram model", 0.02 + (tfidf_end - 0.02) * done / (total + 1)),
    )
    components.append(tfidf)
    held_out.append(tfidf_scores)
    report("n-gram model", tfidf_end)
    if mode == "accurate":
        heads, head_scores = encoder.fit_minilm_heads(
            data.texts, data.y, n_classes, folds, data.in_scope, report, (tfidf_end, 0.97)
        )
        components.extend(heads)
        held_out.extend(head_scores)
    report("calibration", 0.97)
    inside = data.in_scope
    y_in = data.y[inside]
    weights = fit_pool_weights([s[inside] for s in held_out], y_in)
    probs = softmax(pool(held_out, weights))
    confidence = probs.max(axis=1)
    correct = probs[inside].argmax(axis=1) == y_in
    oos_conf = confidence[~inside]
    threshold = choose_threshold(confidence[inside], correct, oos_conf if len(oos_conf) else None)
    accepted = confidence[inside] >= threshold
    summary = TrainingSummary(
        mode=mode,
        n_examples=int(inside.sum()),
        n_out_of_scope_examples=int((~inside).sum()),
        n_intents=n_classes,
        n_folds=n_folds,
        seconds=round(time.perf_counter() - started, 3),
        held_out_accuracy=float(correct.mean()),
        held_out_calibration_error=expected_calibration_error(confidence[inside], correct),
        held_out_rejected=float(1.0 - accepted.mean()),
        held_out_out_of_scope_recall=float((oos_conf < threshold).mean()) if len(oos_conf) else None,
        component_weights={f"{i}:{c.kind}": float(w) for i, (c, w) in enumerate(zip(components, weights, strict=True))},
    )
    top = probs.argmax(axis=1)
    held = HeldOut(
        texts=tuple(data.texts),
        truth=tuple(data.labels[i] if i >= 0 else None for i in data.y.tolist()),
        predicted=tuple(data.labels[i] for i in top.tolist()),
        confidence=tuple(float(c) for c in confidence),
        threshold=float(threshold),
        folds=n_folds,
    )
    report("done", 1.0)
    return cls(data.labels, components, weights, threshold, summary, held)
