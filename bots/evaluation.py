"""A trained version's evaluation, from the held-out folds its classifier was calibrated on (pure, no I/O)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from bots.evaluate import score
from bots.nlu import HeldOut, Prediction

CONFUSED_PAIRS = 10
CONFUSED_EXAMPLES = 3
OUT_OF_SCOPE = "\x00out_of_scope"  # a label no intent can have, for rows that carry no intent


def evaluation_from_held_out(held: HeldOut, mode: str) -> dict[str, Any]:
    """Per-intent precision/recall/F1/support, accuracy, macro-F1 and the most confused pairs with examples.

    Every row is scored by the fold model that was not trained on it, so these are honest held-out
    figures at no extra training cost (docs/bot-designer-api.md says what they do and do not measure).
    """
    truth = [t if t is not None else OUT_OF_SCOPE for t in held.truth]
    predictions = [
        Prediction(None if c < held.threshold else p, c, [(p, c)], c < held.threshold)
        for p, c in zip(held.predicted, held.confidence, strict=True)
    ]
    known = sorted({t for t in held.truth if t is not None})
    metrics = score(truth, predictions, known, OUT_OF_SCOPE, top_confusions=CONFUSED_PAIRS)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for text, t, p in zip(held.texts, truth, held.predicted, strict=True):
        if t != OUT_OF_SCOPE and t != p and len(examples[(t, p)]) < CONFUSED_EXAMPLES:
            examples[(t, p)].append(text)
    oos = metrics["out_of_scope"]
    return {
        "method": f"stratified {held.folds}-fold cross-validation on the version's own examples",
        "mode": mode,
        "folds": held.folds,
        "examples": sum(1 for t in truth if t != OUT_OF_SCOPE),
        "out_of_scope_examples": sum(1 for t in truth if t == OUT_OF_SCOPE),
        "accuracy": _r(metrics["accuracy"]),
        "macro_f1": _r(metrics["macro_f1"]),
        "answered": _r(metrics["answered"]),
        "answered_accuracy": _r(metrics["answered_accuracy"]),
        "threshold": _r(held.threshold),
        "per_intent": {
            name: {"precision": _r(s.precision), "recall": _r(s.recall), "f1": _r(s.f1), "support": s.support}
            for name, s in metrics["per_intent"].items()
        },
        "confused": [
            {"intent": t, "predicted": p, "count": n, "examples": examples[(t, p)]}
            for t, p, n in metrics["confused"]
        ],
        "out_of_scope": None if oos is None else {"rows": oos.rows, "recall": _r(oos.recall)},
    }


def _r(value: float) -> float:
    return round(float(value), 4)
