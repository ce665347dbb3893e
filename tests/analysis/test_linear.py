"""The sparse linear model behind the detector."""
from __future__ import annotations

import numpy as np
import pytest

from hub.analysis.linear import fit


def test_a_binary_model_learns_which_features_point_to_the_second_label() -> None:
    rows = [{"w:broken": 1.0}, {"w:thanks": 1.0}, {"w:broken": 1.0, "w:again": 1.0}, {"w:thanks": 1.0}]
    model = fit(rows, ["yes", "no", "yes", "no"], [1.0] * 4, c=10.0)

    assert model.labels == ("no", "yes")
    assert model.probabilities({"w:broken": 1.0})[0] > 0.5 > model.probabilities({"w:thanks": 1.0})[0]
    assert model.contributions({"w:broken": 1.0, "w:unseen": 1.0})[0][0] == "w:broken"


def test_a_multiclass_model_scores_every_label_and_sums_to_one() -> None:
    rows = [{"t:a": 1.0}, {"t:b": 1.0}, {"t:c": 1.0}] * 3
    model = fit(rows, ["a", "b", "c"] * 3, [1.0] * 9, c=10.0)
    probs = model.probabilities({"t:b": 1.0})

    assert model.labels[int(np.argmax(probs))] == "b"
    assert probs.sum() == pytest.approx(1.0)


def test_unknown_features_leave_only_the_bias() -> None:
    model = fit([{"w:x": 1.0}, {"w:y": 1.0}], ["no", "yes"], [1.0, 1.0], c=1.0)

    assert model.decision({"w:never-seen": 1.0}) == pytest.approx(model.bias)


def test_sample_weight_lets_one_row_outvote_another() -> None:
    rows = [{"w:x": 1.0}, {"w:x": 1.0}, {"w:z": 1.0}, {"w:z": 1.0}]
    light = fit(rows, ["yes", "no", "no", "yes"], [1.0, 1.0, 1.0, 1.0], c=10.0)
    heavy = fit(rows, ["yes", "no", "no", "yes"], [1.0, 5.0, 1.0, 1.0], c=10.0)

    assert heavy.probabilities({"w:x": 1.0})[0] < light.probabilities({"w:x": 1.0})[0]


def test_one_label_cannot_be_trained() -> None:
    with pytest.raises(ValueError, match="at least two labels"):
        fit([{"w:x": 1.0}], ["yes"], [1.0], c=1.0)
