"""A bot designer measures the intent classifier with `kefu bot eval` before putting a bot live."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.cli import main
from bots.evaluate import load_examples, score
from bots.nlu import Prediction

ROOT = Path(__file__).resolve().parents[2]

TRAIN = {
    "card_arrival": ["where is my new card", "my card has not arrived", "when will my card come",
                     "card still not delivered", "how long until my card arrives", "track my card delivery"],
    "exchange_rate": ["what is the exchange rate", "how much is a dollar in euros", "currency conversion rate",
                      "what rate do you use for pounds", "exchange rate for yen", "euro to dollar rate today"],
    "pin_blocked": ["my pin is blocked", "I entered the wrong pin too many times", "unblock my pin",
                    "pin locked after three tries", "how to unlock my pin", "my pin does not work anymore"],
    "转账": ["我想转账", "怎么给别人转钱", "转账失败了", "转账要多久到账", "如何汇款给朋友", "转账手续费多少"],
}
TEST = [
    ("has my card been sent", "card_arrival"), ("card not here yet", "card_arrival"),
    ("rate for swiss francs", "exchange_rate"), ("how many euros for 100 dollars", "exchange_rate"),
    ("pin blocked what do I do", "pin_blocked"), ("wrong pin too many times", "pin_blocked"),
    ("转账多久能到", "转账"), ("给朋友转钱", "转账"),
    ("what's the weather tomorrow", "oos"), ("play a song by queen", "oos"),
]
TRAIN_OOS = ["tell me a joke", "who is the president", "recommend a restaurant", "how tall is a giraffe",
             "what movies are on tonight", "今天天气好吗"]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    train = [(t, intent) for intent, texts in TRAIN.items() for t in texts] + [(t, "oos") for t in TRAIN_OOS]
    return write_csv(tmp_path / "train.csv", train), write_csv(tmp_path / "test.csv", TEST)


def guess(intent: str | None, top: str, confidence: float = 0.9) -> Prediction:
    return Prediction(intent, confidence, [(top, confidence)], intent is None)


def test_metrics_count_hits_confusions_and_handoffs() -> None:
    truth = ["a", "a", "b", "b", "oos", "oos"]
    predictions = [guess("a", "a"), guess("b", "b"), guess("b", "b"), guess(None, "b", 0.3),
                   guess(None, "a", 0.2), guess("a", "a")]
    m = score(truth, predictions, ["a", "b"], "oos")
    assert m["accuracy"] == pytest.approx(3 / 4)  # top-1 on in-scope rows, the handoff's top guess was right
    assert m["per_intent"]["a"].precision == 1.0 and m["per_intent"]["a"].recall == 0.5
    assert m["per_intent"]["b"].precision == pytest.approx(2 / 3) and m["per_intent"]["b"].recall == 1.0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert m["confused"] == [("a", "b", 1)]
    assert m["answered"] == pytest.approx(3 / 4)
    oos = m["out_of_scope"]
    assert oos.rows == 2 and oos.recall == 0.5 and oos.in_scope_accuracy == pytest.approx(2 / 4)


def test_eval_prints_metrics_for_people(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    train, test = files
    assert main(["bot", "eval", "--train", str(train), "--test", str(test)]) == 0
    out, err = capsys.readouterr()
    for needle in ("accuracy", "macro-F1", "out-of-scope recall", "in-scope accuracy", "precision", "card_arrival",
                   "转账", "predict latency"):
        assert needle in out
    assert "done" in err  # progress goes to stderr, the report to stdout


def test_eval_json_is_machine_readable(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    train, test = files
    assert main(["bot", "eval", "--train", str(train), "--test", str(test), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intents"] == 4 and report["test_rows"] == len(TEST)
    assert report["accuracy"] >= 0.75
    assert report["out_of_scope"]["label"] == "oos" and report["out_of_scope"]["rows"] == 2
    assert set(report["per_intent"]) == set(TRAIN)
    assert {"p50", "p99"} <= set(report["predict_ms"])


def test_eval_reads_rasa_nlu_yaml_with_entity_markup(tmp_path: Path) -> None:
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n- intent: transfer\n  examples: |\n    - send [50](amount) dollars to [Bob](person)\n'
        "    - 给[张三](person)转账\n- intent: greet\n  examples: |\n    - hello\n",
        encoding="utf-8",
    )
    examples = load_examples(nlu)
    assert [(e.text, e.intent) for e in examples] == [
        ("send 50 dollars to Bob", "transfer"), ("给张三转账", "transfer"), ("hello", "greet"),
    ]


def test_eval_explains_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("question,answer\nhi,there\n", encoding="utf-8")
    assert main(["bot", "eval", "--train", str(bad), "--test", str(bad)]) == 1
    assert "text,category" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter importing scikit-learn takes a few seconds
def test_python_dash_m_runs_the_same_command(files: tuple[Path, Path]) -> None:
    train, test = files
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bots.cli", "bot", "eval", "--train", str(train), "--test", str(test), "--json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "fast"
