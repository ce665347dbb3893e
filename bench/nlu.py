"""Intent classifier figures: test accuracy, training time and predict latency on BANKING77 and HWU64.

Run: python -m bench.nlu [--modes fast accurate] [--datasets banking77 hwu64 union] [--json]

Trains on each data set's train.csv, reports on its test.csv (the test split is never used to
choose anything). Training time is wall-clock and process CPU seconds; predict latency is one
predict() call per message, over --latency-samples test messages, after one warm-up call. The
'cross-domain out-of-scope' figure feeds the other data set's test messages to each model as
unknown questions (no out-of-scope rows are given at training time): a rough view of the
handoff decision, since a few intents overlap (e.g. HWU64 qa_currency vs BANKING77 exchange_rate).
The 'labelled out-of-scope' run (fast mode) then adds 1,000 HWU64 *train* messages labelled
'oos' to BANKING77's training rows, which only tune the threshold, and tests on BANKING77 test
plus all HWU64 *test* messages as out-of-scope rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bots.evaluate import StderrProgress, evaluate, load_csv, measure_latency, score
from bots.nlu import IntentClassifier, MissingExtraError, TrainingExample

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "bench-data"
if not DATA.exists():
    DATA = Path("/work/shared/bench-data")


def load_split(data: Path, dataset: str, split: str) -> list[TrainingExample]:
    """One split of a data set; 'union' is BANKING77 and HWU64 together (141 intents, near a big bot's 150)."""
    parts = ["banking77", "hwu64"] if dataset == "union" else [dataset]
    return [e for part in parts for e in load_csv(data / part / f"{split}.csv")]


def cap_per_intent(examples: list[TrainingExample], cap: int | None) -> list[TrainingExample]:
    """At most `cap` examples of each intent (first ones in file order), for quick latency runs."""
    if cap is None:
        return examples
    seen: dict[str, int] = {}
    kept = []
    for e in examples:
        seen[e.intent] = seen.get(e.intent, 0) + 1
        if seen[e.intent] <= cap:
            kept.append(e)
    return kept


def run_one(
    dataset: str, mode: str, other: str | None, latency_samples: int, data: Path, cap: int | None = None
) -> dict[str, Any]:
    """Train and measure one (data set, mode) pair."""
    train = cap_per_intent(load_split(data, dataset, "train"), cap)
    test = load_split(data, dataset, "test")
    print(f"== {dataset} / {mode}: {len(train)} train, {len(test)} test rows", file=sys.stderr)
    wall, cpu = time.perf_counter(), time.process_time()
    classifier = IntentClassifier.train(train, mode, StderrProgress())
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    predictions = classifier.predict_many([e.text for e in test])
    metrics = score([e.intent for e in test], predictions, classifier.intents, None)
    result: dict[str, Any] = {
        "dataset": dataset,
        "mode": mode,
        "intents": len(classifier.intents),
        "train_rows": len(train),
        "train_seconds_wall": round(train_wall, 1),
        "train_seconds_cpu": round(train_cpu, 1),
        "accuracy": round(metrics["accuracy"], 4),
        "macro_f1": round(metrics["macro_f1"], 4),
        "answered": round(metrics["answered"], 4),
        "answered_accuracy": round(metrics["answered_accuracy"], 4),
        "calibration_error": round(metrics["calibration_error"], 4),
        "threshold": round(classifier.threshold, 4),
        "held_out_accuracy": round(classifier.summary.held_out_accuracy, 4),
        "component_weights": classifier.summary.component_weights,
    }
    print("   measuring predict latency", file=sys.stderr)
    rng = np.random.default_rng(0)
    sample = [test[i].text for i in rng.permutation(len(test))[:latency_samples]]
    result["predict_ms"] = measure_latency(classifier, sample)
    if other:
        unknown = [e.text for e in load_csv(data / other / "test.csv")]
        flagged = np.mean([p.out_of_scope for p in classifier.predict_many(unknown)])
        result["cross_domain_oos_recall"] = {"questions_from": other, "recall": round(float(flagged), 4)}
    return result


def run_labelled_oos(mode: str, data: Path, n_oos: int = 1000) -> dict[str, Any]:
    """BANKING77 with HWU64 messages as labelled out-of-scope rows (train) and unknown questions (test)."""
    rng = np.random.default_rng(0)
    hwu_train = load_csv(data / "hwu64" / "train.csv")
    oos_train = [TrainingExample(hwu_train[i].text, "oos") for i in rng.permutation(len(hwu_train))[:n_oos]]
    oos_test = [TrainingExample(e.text, "oos") for e in load_csv(data / "hwu64" / "test.csv")]
    train = load_csv(data / "banking77" / "train.csv") + oos_train
    test = load_csv(data / "banking77" / "test.csv") + oos_test
    print(f"== banking77 + labelled out-of-scope / {mode}", file=sys.stderr)
    report = evaluate(train, test, mode, "oos", StderrProgress(), latency_samples=0)
    assert report.out_of_scope is not None
    return {
        "dataset": "banking77+oos(hwu64)",
        "mode": mode,
        "oos_train_rows": n_oos,
        "oos_test_rows": report.out_of_scope.rows,
        "accuracy": round(report.accuracy, 4),
        "threshold": round(report.threshold, 4),
        "oos_recall": round(report.out_of_scope.recall, 4),
        "in_scope_accuracy": round(report.out_of_scope.in_scope_accuracy, 4),
    }


def format_row(r: dict[str, Any]) -> str:
    """One line per run."""
    if "oos_recall" in r:
        return (
            f"{r['dataset']:<10} {r['mode']:<9} labelled out-of-scope ({r['oos_train_rows']} train rows): "
            f"out-of-scope recall {r['oos_recall']:.1%} on {r['oos_test_rows']} rows, "
            f"in-scope accuracy {r['in_scope_accuracy']:.2%} (top-1 {r['accuracy']:.2%}), "
            f"threshold {r['threshold']:.3f}"
        )
    oos = r.get("cross_domain_oos_recall")
    return (
        f"{r['dataset']:<10} {r['mode']:<9} acc {r['accuracy']:.2%}  macro-F1 {r['macro_f1']:.2%}  "
        f"train {r['train_seconds_wall']:.1f} s wall / {r['train_seconds_cpu']:.1f} s CPU  "
        f"predict p50 {r['predict_ms']['p50']:.2f} ms p99 {r['predict_ms']['p99']:.2f} ms  "
        f"answered {r['answered']:.1%} (acc {r['answered_accuracy']:.2%})  ECE {r['calibration_error']:.2%}"
        + (f"  OOS recall on {oos['questions_from']} {oos['recall']:.1%}" if oos else "")
    )


def main(argv: list[str] | None = None) -> int:
    """Run the requested pairs and print a table (or JSON)."""
    parser = argparse.ArgumentParser(prog="python -m bench.nlu", description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["fast", "accurate"], choices=["fast", "accurate"])
    parser.add_argument(
        "--datasets", nargs="+", default=["banking77", "hwu64"], choices=["banking77", "hwu64", "union"]
    )
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-oos-run", action="store_true", help="skip the labelled out-of-scope run")
    parser.add_argument("--max-per-intent", type=int, help="train on at most N examples per intent (latency runs)")
    args = parser.parse_args(argv)
    results = []
    for mode in args.modes:
        for dataset in args.datasets:
            other = {"banking77": "hwu64", "hwu64": "banking77"}.get(dataset)
            try:
                results.append(run_one(dataset, mode, other, args.latency_samples, args.data, args.max_per_intent))
            except MissingExtraError as exc:
                print(f"skipping {mode}: {exc}", file=sys.stderr)
                break
            print(format_row(results[-1]), file=sys.stderr)
    if "fast" in args.modes and not args.no_oos_run:
        results.append(run_labelled_oos("fast", args.data))
        print(format_row(results[-1]), file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for r in results:
            print(format_row(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
