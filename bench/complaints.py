"""Complaint detection and churn risk: scoring time per message, training time, accuracy, churn throughput.

Run: python -m bench.complaints [--rounds 5] [--customers 10000] [--seed 7]
  scoring   every message of the labelled set (tests/fixtures/complaints), each scored `rounds` times;
            per-message median, then p50/p99/max over messages, wall and CPU, by length;
            plus worst cases: emails at the 1,000-character cap in English and Chinese
  training  seed corpus alone, and seed + 300 agent corrections (median of `rounds`)
  accuracy  precision / recall / category accuracy on the labelled set, overall and per language
  churn     churn_risk for `customers` synthetic profiles; complaint_lift + handling_comparison over them
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from hub.analysis.churn import STAGES, TIERS, ComplaintRecord, CsatRating, CustomerProfile, churn_risk
from hub.analysis.churn_report import complaint_lift, handling_comparison
from hub.analysis.complaints import ComplaintDetector
from hub.analysis.evaluation import evaluate
from hub.analysis.examples import CATEGORIES, Example, correction, load_seed

LABELLED = Path(__file__).parents[1] / "tests" / "fixtures" / "complaints" / "labelled.csv"
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


def load_labelled() -> list[Example]:
    """The labelled evaluation set (never trained on)."""
    with LABELLED.open(encoding="utf-8", newline="") as fh:
        return [
            Example(r["text"], r["is_complaint"] == "1", r["category"] or None, r["channel"])
            for r in csv.DictReader(fh)
        ]


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """Median wall and CPU seconds over `rounds` runs."""
    walls, cpus = [], []
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


def per_message(
    detector: ComplaintDetector, messages: list[Example], rounds: int
) -> list[tuple[int, float, float]]:
    """(length, median wall s, median CPU s) per message."""
    out = []
    for ex in messages:
        wall, cpu = timed(partial(detector.score, ex.text, ex.channel), rounds)
        out.append((len(ex.text), wall, cpu))
    return out


def report_times(label: str, rows: list[tuple[int, float, float]]) -> None:
    """One line of p50/p99/max in milliseconds."""
    if not rows:
        return
    walls = [w * 1000 for _, w, _ in rows]
    cpus = [c * 1000 for _, _, c in rows]
    print(
        f"  {label:<28} n={len(rows):>4}  wall p50 {pct(walls, 0.5):6.3f}  p99 {pct(walls, 0.99):6.3f}"
        f"  max {max(walls):6.3f} ms | CPU p50 {pct(cpus, 0.5):6.3f}  p99 {pct(cpus, 0.99):6.3f} ms"
    )


def synthetic_corrections(rng: random.Random, labelled: list[Example], n: int) -> list[Example]:
    """Agent corrections shaped like real ones: labelled-set texts with a word changed."""
    picks = rng.sample(labelled, min(n, len(labelled)))
    return [
        correction(ex.text + " (ref " + str(rng.randint(1000, 9999)) + ")", ex.is_complaint, ex.category)
        for ex in picks
    ]


def synthetic_profiles(rng: random.Random, n: int) -> list[CustomerProfile]:
    """Customers with 0-6 complaints, CSAT, contacts; about a fifth have left."""
    profiles = []
    for i in range(n):
        complaints = []
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3, 6])):
            at = NOW - timedelta(days=rng.uniform(0, 365))
            resolved = None if rng.random() < 0.15 else at + timedelta(hours=rng.expovariate(1 / 30))
            complaints.append(
                ComplaintRecord(at, rng.choice(CATEGORIES), rng.choice(["low", "medium", "high"]), resolved)
            )
        left = rng.random() < 0.2
        profiles.append(
            CustomerProfile(
                customer_id=f"c{i}",
                tier=rng.choice(TIERS),
                lifecycle_stage=rng.choice(STAGES),
                complaints=tuple(complaints),
                csat=tuple(
                    CsatRating(NOW - timedelta(days=rng.uniform(0, 200)), rng.randint(1, 5))
                    for _ in range(rng.randint(0, 4))
                ),
                contacts=tuple(NOW - timedelta(days=rng.uniform(0, 60)) for _ in range(rng.randint(0, 8))),
                last_active_at=NOW - timedelta(days=rng.uniform(0, 200)),
                churned_at=NOW - timedelta(days=rng.uniform(0, 120)) if left else None,
            )
        )
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    seed = load_seed()
    labelled = load_labelled()
    print(
        f"complaints bench: {len(seed)} seed examples, {len(labelled)} labelled messages, "
        f"median of {args.rounds}, load average {os.getloadavg()[0]:.2f}"
    )

    print("training")
    wall, cpu = timed(lambda: ComplaintDetector.train(seed), args.rounds)
    print(f"  seed only                    {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU")
    corrections = synthetic_corrections(rng, labelled, 300)
    wall, cpu = timed(lambda: ComplaintDetector.train(seed + corrections), args.rounds)
    print(
        f"  seed + {len(corrections)} corrections      {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU"
    )

    detector = ComplaintDetector.train(seed)
    print("scoring per message (each message's median of rounds; then percentiles over messages)")
    rows = per_message(detector, labelled, args.rounds)
    report_times("all labelled", rows)
    report_times("short (<= 80 chars)", [r for r in rows if r[0] <= 80])
    report_times("medium (81-250 chars)", [r for r in rows if 80 < r[0] <= 250])
    report_times("long (> 250 chars)", [r for r in rows if r[0] > 250])
    capped = [
        Example(
            "Dear team,\n" + "My washing machine never arrived and nobody answers my emails. " * 20,
            True,
            None,
            "email",
        ),
        Example(
            "您好，\n" + "我买的洗衣机一直没有送到，打电话也没人接，太让人失望了。" * 40, True, None, "email"
        ),
    ]
    report_times("at the 1,000-char cap", per_message(detector, capped, args.rounds * 4))
    total_wall, total_cpu = timed(
        lambda: [detector.score(ex.text, ex.channel) for ex in labelled], args.rounds
    )
    print(
        f"  throughput: {len(labelled) / total_cpu:,.0f} messages per CPU second"
        f" ({len(labelled) / total_wall:,.0f} wall)"
    )

    print("accuracy on the labelled set")
    for name, subset in (
        ("all", labelled),
        ("en", [ex for ex in labelled if not any("\u4e00" <= ch <= "\u9fff" for ch in ex.text)]),
        ("zh / mixed", [ex for ex in labelled if any("\u4e00" <= ch <= "\u9fff" for ch in ex.text)]),
    ):
        m, _ = evaluate(detector, subset)
        print(
            f"  {name:<11} n={len(subset):>3}  precision {m.precision:.3f}  recall {m.recall:.3f}"
            f"  F1 {m.f1:.3f}  category accuracy {m.category_accuracy:.3f}"
            f"  (tp {m.true_positives}, fp {m.false_positives},"
            f" fn {m.false_negatives}, tn {m.true_negatives})"
        )

    print("churn")
    profiles = synthetic_profiles(rng, args.customers)
    wall, cpu = timed(lambda: [churn_risk(p, NOW) for p in profiles], args.rounds)
    print(
        f"  churn_risk x {len(profiles):,}: {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU"
        f" = {len(profiles) / cpu:,.0f} per CPU s"
    )
    wall, cpu = timed(
        lambda: (complaint_lift(profiles, NOW), handling_comparison(profiles, NOW)), args.rounds
    )
    print(
        f"  complaint_lift + handling_comparison over {len(profiles):,}:"
        f" {wall * 1000:8.1f} ms wall, {cpu * 1000:8.1f} ms CPU"
    )


if __name__ == "__main__":
    main()
