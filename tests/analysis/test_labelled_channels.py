"""Every channel the hub serves holds the precision and recall floor on the labelled set on its own."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.analysis.complaints import default_detector
from hub.analysis.evaluation import evaluate
from hub.analysis.examples import CHANNELS, Example

LABELLED = Path(__file__).parents[1] / "fixtures" / "complaints" / "labelled.csv"


@pytest.fixture(scope="module")
def labelled() -> list[Example]:
    with LABELLED.open(encoding="utf-8", newline="") as fh:
        return [
            Example(row["text"], row["is_complaint"] == "1", row["category"] or None, row["channel"])
            for row in csv.DictReader(fh)
        ]


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_channel_holds_the_floor(labelled: list[Example], channel: str) -> None:
    subset = [ex for ex in labelled if ex.channel == channel]
    assert sum(ex.is_complaint for ex in subset) >= 25

    metrics, _ = evaluate(default_detector(), subset)

    assert metrics.precision >= 0.90
    assert metrics.recall >= 0.90
    assert metrics.category_accuracy >= 0.75
