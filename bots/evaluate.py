"""Evaluate the intent classifier: train on one file, report metrics on another (`kefu bot eval`)."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from bots.nlu import IntentClassifier, Prediction, TrainingExample
from bots.nlu.calibration import expected_calibration_error
from bots.nlu.types import Progress

TEXT_COLUMNS = ("text", "utterance", "sentence")
LABEL_COLUMNS = ("category", "intent", "label")


def load_csv(path: str | Path) -> list[TrainingExample]:
    """Rows of a 'text,category' CSV with a header (BANKING77 / HWU64 layout); 'intent' or 'label' also work."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        text_col = next((c for c in TEXT_COLUMNS if c in header), None)
        label_col = next((c for c in LABEL_COLUMNS if c in header), None)
        if text_col is None or label_col is None:
            raise ValueError(f"{path}: expected a header with columns text,category (got {reader.fieldnames})")
        names = {h.strip().lower(): h for h in reader.fieldnames or []}
        return [
            TrainingExample(row[names[text_col]], row[names[label_col]].strip())
            for row in reader
            if row.get(names[text_col]) and row.get(names[label_col])
        ]


def load_rasa(path: str | Path) -> list[TrainingExample]:
    """Examples of a Rasa nlu.yml (or legacy JSON), entity markup stripped by bots.rasa_format."""
    from bots.rasa_format import read_nlu_file

    return [TrainingExample(text, intent) for text, intent in read_nlu_file(path).training_pairs()]


def load_examples(path: str | Path) -> list[TrainingExample]:
    """CSV by extension, otherwise Rasa NLU data."""
    return load_csv(path) if Path(path).suffix.lower() == ".csv" else load_rasa(path)


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent on the test rows."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class OutOfScopeScore:
    """How the out-of-scope decision fared on a test file with out-of-scope rows."""

    label: str
    rows: int
    recall: float  # out-of-scope rows answered 'out of scope'
    in_scope_accuracy: float  # in-scope rows answered with the right intent (a rejection counts as wrong)


@dataclass(frozen=True)
class EvalReport:
    """Everything `kefu bot eval` prints."""

    mode: str
    train_rows: int
    test_rows: int
    intents: int
    train_seconds: float
    accuracy: float  # top-1 intent on in-scope test rows, ignoring the out-of-scope decision
    macro_f1: float
    answered: float  # share of in-scope test rows the bot answers (confidence above the threshold)
    answered_accuracy: float  # accuracy on the answered ones
    calibration_error: float
    threshold: float
    per_intent: dict[str, IntentScore]
    confused: list[tuple[str, str, int]]
    out_of_scope: OutOfScopeScore | None = None
    predict_ms: dict[str, float] = field(default_factory=dict)
    unknown_test_intents: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as indented JSON."""
        data: dict[str, Any] = asdict(self)
        data["confused"] = [{"true": t, "predicted": p, "count": n} for t, p, n in self.confused]
        return json.dumps(data, ensure_ascii=False, indent=2)


def score(
    truth: Sequence[str],
    predictions: Sequence[Prediction],
    known_intents: Sequence[str],
    oos_label: str | None,
    top_confusions: int = 10,
) -> dict[str, Any]:
    """Metrics from true labels and predictions (pure: no training, no I/O)."""
    in_scope = [i for i, t in enumerate(truth) if t != oos_label]
    top1 = [predictions[i].ranking[0][0] if predictions[i].ranking else None for i in range(len(truth))]
    hits = np.array([top1[i] == truth[i] for i in in_scope], dtype=bool)
    answered = np.array([not predictions[i].out_of_scope for i in in_scope], dtype=bool)
    confidence = np.array([predictions[i].confidence for i in in_scope])
    per_intent: dict[str, IntentScore] = {}
    true_counts = Counter(truth[i] for i in in_scope)
    pred_counts = Counter(top1[i] for i in in_scope)
    hit_counts = Counter(truth[i] for i in in_scope if top1[i] == truth[i])
    for intent in sorted(set(true_counts) | set(known_intents)):
        tp, support, predicted = hit_counts[intent], true_counts[intent], pred_counts[intent]
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[intent] = IntentScore(precision, recall, f1, support)
    scored = [s.f1 for name, s in per_intent.items() if s.support > 0]
    confused = Counter((truth[i], top1[i] or "-") for i in in_scope if top1[i] != truth[i])
    metrics: dict[str, Any] = {
        "accuracy": float(hits.mean()) if len(hits) else 0.0,
        "macro_f1": float(np.mean(scored)) if scored else 0.0,
        "answered": float(answered.mean()) if len(answered) else 0.0,
        "answered_accuracy": float(hits[answered].mean()) if answered.any() else 0.0,
        "calibration_error": expected_calibration_error(confidence, hits),
        "per_intent": per_intent,
        "confused": [(t, p, n) for (t, p), n in confused.most_common(top_confusions)],
        "out_of_scope": None,
    }
    oos_rows = [i for i, t in enumerate(truth) if t == oos_label]
    if oos_rows:
        recall = float(np.mean([predictions[i].out_of_scope for i in oos_rows]))
        in_scope_acc = float((hits & answered).mean()) if len(hits) else 0.0
        metrics["out_of_scope"] = OutOfScopeScore(str(oos_label), len(oos_rows), recall, in_scope_acc)
    return metrics


def evaluate(
    train: Sequence[TrainingExample],
    test: Sequence[TrainingExample],
    mode: str = "fast",
    oos_label: str | None = "oos",
    progress: Progress | None = None,
    latency_samples: int = 200,
) -> EvalReport:
    """Train on `train`, predict `test`, and measure; blocking CPU work, run it in an executor from async code."""
    report = progress or (lambda stage, fraction: None)
    started = time.perf_counter()
    classifier = IntentClassifier.train(train, mode, report, out_of_scope_label=oos_label)
    train_seconds = time.perf_counter() - started
    texts = [e.text for e in test]
    truth = [e.intent for e in test]
    predictions: list[Prediction] = []
    step = 256
    for start in range(0, len(texts), step):
        predictions.extend(classifier.predict_many(texts[start : start + step]))
        report("predicting test rows", min(1.0, (start + step) / max(len(texts), 1)))
    metrics = score(truth, predictions, classifier.intents, oos_label)
    known = set(classifier.intents)
    unknown = sorted({t for t in truth if t != oos_label and t not in known})
    return EvalReport(
        mode=mode,
        train_rows=len(train),
        test_rows=len(test),
        intents=len(classifier.intents),
        train_seconds=round(train_seconds, 2),
        threshold=classifier.threshold,
        predict_ms=measure_latency(classifier, texts[:latency_samples]),
        unknown_test_intents=unknown,
        **metrics,
    )


def measure_latency(classifier: IntentClassifier, texts: Sequence[str]) -> dict[str, float]:
    """p50 / p99 milliseconds of one predict() call, over the given texts."""
    if not texts:
        return {}
    classifier.predict(texts[0])  # first call warms caches
    timings = []
    for text in texts:
        begin = time.perf_counter()
        classifier.predict(text)
        timings.append((time.perf_counter() - begin) * 1000.0)
    return {"p50": round(float(np.percentile(timings, 50)), 3), "p99": round(float(np.percentile(timings, 99)), 3)}


def format_report(report: EvalReport, per_intent_rows: int | None = None) -> str:
    """A plain-text report for a terminal."""
    lines = [
        f"mode {report.mode}: trained on {report.train_rows} rows ({report.intents} intents)"
        f" in {report.train_seconds:.1f} s, tested on {report.test_rows} rows",
        f"accuracy          {report.accuracy:7.2%}   (top-1 intent, in-scope rows)",
        f"macro-F1          {report.macro_f1:7.2%}",
        f"answered          {report.answered:7.2%}   (confidence >= threshold {report.threshold:.3f})",
        f"answered accuracy {report.answered_accuracy:7.2%}",
        f"calibration error {report.calibration_error:7.2%}   (ECE, 15 bins)",
    ]
    if report.out_of_scope is not None:
        o = report.out_of_scope
        lines.append(f"out-of-scope recall {o.recall:7.2%} on {o.rows} '{o.label}' rows;"
                     f" in-scope accuracy {o.in_scope_accuracy:7.2%}")
    if report.predict_ms:
        lines.append(f"predict latency   p50 {report.predict_ms['p50']:.2f} ms, p99 {report.predict_ms['p99']:.2f} ms")
    if report.unknown_test_intents:
        lines.append(f"test intents never seen in training: {', '.join(report.unknown_test_intents)}")
    if report.confused:
        lines.append("")
        lines.append("most confused (true -> predicted: count)")
        lines.extend(f"  {t} -> {p}: {n}" for t, p, n in report.confused)
    lines.append("")
    lines.append(f"{'intent':<40} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>7}")
    ranked = sorted(report.per_intent.items(), key=lambda kv: (kv[1].f1, kv[0]))
    for name, s in ranked[:per_intent_rows] if per_intent_rows else ranked:
        lines.append(f"{name:<40} {s.precision:9.2%} {s.recall:7.2%} {s.f1:7.2%} {s.support:7d}")
    return "\n".join(lines)


class StderrProgress:
    """Progress lines on a stream, at most one per 5% step per stage."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._last: tuple[str, int] | None = None
        self._start = time.perf_counter()

    def __call__(self, stage: str, fraction: float) -> None:
        step = int(fraction * 20)
        if self._last == (stage, step):
            return
        self._last = (stage, step)
        print(f"[{time.perf_counter() - self._start:6.1f}s] {stage}: {fraction:4.0%}", file=self.stream, flush=True)
