"""How well a complaint detector does on labelled messages: precision, recall, category accuracy."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.analysis.complaints import ComplaintDetector
from hub.analysis.examples import Example


@dataclass(frozen=True, slots=True)
class Metrics:
    """Counts and rates; category accuracy is over complaints the detector caught."""

    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    categories_right: int

    @property
    def precision(self) -> float:
        """Share of flagged messages that are complaints."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        """Share of complaints that were flagged."""
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def category_accuracy(self) -> float:
        """Share of caught complaints given the right category."""
        return self.categories_right / self.true_positives if self.true_positives else 0.0


@dataclass(frozen=True, slots=True)
class Miss:
    """One message the detector got wrong, for error analysis."""

    example: Example
    probability: float
    predicted_category: str | None


def evaluate(detector: ComplaintDetector, examples: Iterable[Example]) -> tuple[Metrics, list[Miss]]:
    """Score every example with its channel; return the metrics and the misses."""
    tp = fp = fn = tn = right = 0
    misses: list[Miss] = []
    for ex in examples:
        verdict = detector.score(ex.text, ex.channel)
        if verdict.is_complaint and ex.is_complaint:
            tp += 1
            if verdict.category == ex.category:
                right += 1
            else:
                misses.append(Miss(ex, verdict.probability, verdict.category))
        elif verdict.is_complaint:
            fp += 1
            misses.append(Miss(ex, verdict.probability, verdict.category))
        elif ex.is_complaint:
            fn += 1
            misses.append(Miss(ex, verdict.probability, None))
        else:
            tn += 1
    return Metrics(tp, fp, fn, tn, right), misses
