"""A version's evaluation from the held-out folds of its own training: honest figures at no extra cost."""
from __future__ import annotations

import time

from bots import engine
from bots.content import BotContent, Example, Intent, NluData
from bots.evaluation import evaluation_from_held_out
from bots.nlu import HeldOut
from bots.starter import load_starter


def test_scores_and_confusions_from_held_out_rows() -> None:
    held = HeldOut(
        texts=("a1", "a2", "a3", "b1", "b2", "c1", "weather"),
        truth=("a", "a", "a", "b", "b", "c", None),
        predicted=("a", "a", "b", "b", "b", "a", "c"),
        confidence=(0.9, 0.8, 0.6, 0.9, 0.3, 0.7, 0.2),
        threshold=0.5,
        folds=3,
    )
    result = evaluation_from_held_out(held, "fast")
    assert result["examples"] == 6 and result["out_of_scope_examples"] == 1
    assert result["accuracy"] == round(4 / 6, 4)
    assert result["per_intent"]["a"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3}
    assert result["per_intent"]["b"] == {"precision": 0.6667, "recall": 1.0, "f1": 0.8, "support": 2}
    assert result["per_intent"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert result["macro_f1"] == round((2 / 3 + 0.8 + 0.0) / 3, 4)
    assert {(c["intent"], c["predicted"]): c["examples"] for c in result["confused"]} == {
        ("a", "b"): ["a3"], ("c", "a"): ["c1"]}
    assert result["out_of_scope"] == {"rows": 1, "recall": 1.0}  # 0.2 < 0.5: rejected, as it should be
    assert result["answered"] == round(5 / 6, 4)


def test_training_reports_the_evaluation_while_it_runs() -> None:
    notes: list[tuple[float, str]] = []
    model = engine.train(load_starter(), "fast", lambda fraction, note: notes.append((fraction, note)))
    assert model.evaluation is not None
    assert model.evaluation["folds"] == 5 and model.evaluation["examples"] == sum(
        len(i.examples) for i in load_starter().intents)
    assert 0.5 < model.evaluation["accuracy"] <= 1.0
    assert set(model.evaluation["per_intent"]) == {i.name for i in load_starter().intents}
    evaluating = [n for _f, n in notes if n.startswith("evaluating")]
    assert evaluating == ["evaluating: scoring 230 examples held out in 5 folds"]
    fractions = [f for f, _n in notes]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_a_thousand_examples_train_and_evaluate_within_seconds() -> None:
    # 40 intents of 30 generated examples; evaluation reuses the calibration folds, so it adds little
    words = [f"w{i}" for i in range(400)]
    intents = tuple(
        Intent(f"intent_{n}", tuple(Example(f"{words[n]} {words[(n * 7 + k) % 400]} {words[(n + k * 3) % 400]} {k}")
                                    for k in range(30)))
        for n in range(40)
    )
    started = time.perf_counter()
    model = engine.train(BotContent(NluData(intents)), "fast")
    seconds = time.perf_counter() - started
    assert model.evaluation is not None and model.evaluation["examples"] == 1200
    assert seconds < 30, f"training with evaluation took {seconds:.1f} s"
