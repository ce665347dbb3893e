"""Confidence that means what it says, and a handoff bar chosen from training folds alone (pure numpy)."""

from __future__ import annotations

import numpy as np

from bots.nlu.calibration import choose_threshold, expected_calibration_error, fit_pool_weights, pool, softmax
from bots.nlu.linear import stratified_folds


def test_an_overconfident_scorer_is_cooled_down_to_the_true_temperature() -> None:
    rng = np.random.default_rng(1)
    true_logits = rng.normal(0, 2.0, size=(4000, 5))
    cumulative = softmax(true_logits).cumsum(axis=1)
    y = (cumulative > rng.random((4000, 1))).argmax(axis=1)  # one draw per row from its softmax
    # The scorer reports logits 3x too sharp; calibration should learn weight ~1/3.
    weights = fit_pool_weights([true_logits * 3.0], y)
    assert abs(weights[0] - 1 / 3) < 0.03
    calibrated = softmax(pool([true_logits * 3.0], weights))
    correct = calibrated.argmax(axis=1) == y
    raw = softmax(true_logits * 3.0)
    assert expected_calibration_error(calibrated.max(axis=1), correct) < 0.03
    assert expected_calibration_error(raw.max(axis=1), correct) > 0.1


def test_pooling_trusts_the_informative_model_and_ignores_noise() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, size=2000)
    good = np.eye(4)[y] * 2.0 + rng.normal(0, 1.0, size=(2000, 4))
    noise = rng.normal(0, 1.0, size=(2000, 4))
    weights = fit_pool_weights([good, noise], y)
    assert weights[0] > 0.5 and weights[1] < 0.1 * weights[0]


def test_without_out_of_scope_rows_the_bar_rejects_mostly_wrong_answers() -> None:
    # Below 0.5 confidence the held-out answers were wrong, above it right.
    confidence = np.array([0.2, 0.3, 0.4, 0.45, 0.6, 0.7, 0.8, 0.9])
    correct = np.array([False, False, False, False, True, True, True, True])
    threshold = choose_threshold(confidence, correct)
    assert 0.45 < threshold <= 0.6
    assert choose_threshold(confidence, np.ones(8, dtype=bool)) == 0.0  # nothing worth rejecting


def test_out_of_scope_examples_raise_the_bar_above_their_confidences() -> None:
    confidence = np.array([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])
    correct = np.ones(6, dtype=bool)
    oos = np.array([0.3, 0.4, 0.55, 0.58])
    threshold = choose_threshold(confidence, correct, oos)
    assert 0.58 < threshold <= 0.6  # rejecting all out-of-scope rows costs one in-scope answer: worth it
    # Equal confidences cannot be split, so the bar never lands between identical values.
    assert choose_threshold(np.array([0.5, 0.5]), np.array([True, False])) in (0.0, np.nextafter(0.5, 1))


def test_folds_spread_every_intent_and_keep_small_intents_whole() -> None:
    y = np.array([0] * 10 + [1] * 4 + [2] * 1)
    folds = stratified_folds(y, 3, seed=0)
    for label in (0, 1):
        counts = np.bincount(folds[y == label], minlength=3)
        assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(folds, stratified_folds(y, 3, seed=0))
