"""The detector measured on a labelled set written apart from its training data."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hub.analysis.complaints import default_detector
from hub.analysis.evaluation import evaluate
from hub.analysis.examples import CATEGORIES, CHANNELS, Example, load_seed
from hub.analysis.text import fold

LABELLED = Path(__file__).parents[1] / "fixtures" / "complaints" / "labelled.csv"


@pytest.fixture(scope="module")
def labelled() -> list[Example]:
    with LABELLED.open(encoding="utf-8", newline="") as fh:
        return [
            Example(row["text"], row["is_complaint"] == "1", row["category"] or None, row["channel"])
            for row in csv.DictReader(fh)
        ]


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def test_the_set_covers_both_languages_every_channel_and_every_category(labelled: list[Example]) -> None:
    assert len(labelled) >= 400
    assert {ex.channel for ex in labelled} == set(CHANNELS)
    assert {ex.category for ex in labelled if ex.is_complaint} == set(CATEGORIES)
    chinese = sum(_has_han(ex.text) for ex in labelled)
    assert 0.35 < chinese / len(labelled) < 0.65
    assert sum(ex.is_complaint for ex in labelled) / len(labelled) == pytest.approx(0.5, abs=0.1)


def test_no_labelled_message_is_also_a_training_message(labelled: list[Example]) -> None:
    seed = {" ".join(fold(ex.text).split()) for ex in load_seed()}

    assert not [ex.text for ex in labelled if " ".join(fold(ex.text).split()) in seed]


def test_precision_and_recall_stay_above_the_floor(labelled: list[Example]) -> None:
    metrics, _ = evaluate(default_detector(), labelled)

    assert metrics.precision >= 0.90
    assert metrics.recall >= 0.90
    assert metrics.category_accuracy >= 0.75


@pytest.mark.parametrize("language", ["en", "zh"])
def test_each_language_holds_the_floor_on_its_own(labelled: list[Example], language: str) -> None:
    subset = [ex for ex in labelled if _has_han(ex.text) == (language == "zh")]

    metrics, _ = evaluate(default_detector(), subset)

    assert metrics.precision >= 0.85
    assert metrics.recall >= 0.85
