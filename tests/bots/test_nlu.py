"""A support team trains the bot's intent classifier on English and Chinese examples and relies on its answers."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bots.nlu import IntentClassifier, MissingExtraError, ModelFormatError, TrainingExample
from bots.nlu.text import analyze, normalize

INTENTS: dict[str, list[str]] = {
    "track_order": [
        "where is my order", "track my package", "my parcel has not arrived yet", "when will my order be delivered",
        "has my order shipped", "I want to know where my delivery is", "order status please", "my package is late",
    ],
    "refund": [
        "I want my money back", "how do I get a refund", "refund my purchase please",
        "can I return this for a refund", "the product is broken, refund me", "I was charged twice, please refund",
        "request a refund", "money back please",
    ],
    "reset_password": [
        "I forgot my password", "reset my password", "can't log in to my account", "how do I change my password",
        "password not working", "locked out of my account", "help me recover my login", "new password please",
    ],
    "查询订单": [
        "我的订单到哪里了", "帮我查一下快递", "包裹还没到", "订单什么时候发货", "查询物流信息", "我的快递到了吗",
        "订单状态是什么", "快递怎么还没送到",
    ],
    "退款": [
        "我要退款", "怎么申请退款", "钱什么时候退回来", "商品坏了我要退钱", "重复扣款了请退款", "退款进度查询",
        "我想退货退款", "请把钱退给我",
    ],
    "修改密码": [
        "忘记密码了", "怎么重置密码", "登录不了账户", "我想改密码", "密码错误无法登录", "账户被锁定了",
        "找回登录密码", "设置新密码",
    ],
}

OUT_OF_SCOPE = [
    "what is the weather like today", "tell me a joke", "who won the football match", "play some music",
    "what is the capital of france", "recommend a good movie", "how tall is mount everest", "sing me a song",
    "今天天气怎么样", "讲个笑话", "推荐一部电影", "现在几点了",
]


def examples() -> list[TrainingExample]:
    return [TrainingExample(text, intent) for intent, texts in INTENTS.items() for text in texts]


@pytest.fixture(scope="module")
def classifier() -> IntentClassifier:
    oos = [TrainingExample(text, "oos") for text in OUT_OF_SCOPE]
    return IntentClassifier.train(examples() + oos, out_of_scope_label="oos")


def test_chinese_text_becomes_character_ngrams_without_any_spaces() -> None:
    words, chars = analyze("我的订单到哪里了")
    assert "订单" in chars and "我的订单" in chars
    assert "订" in words  # each CJK character is a word token of its own
    assert normalize("ＲＥＦＵＮＤ，") == "refund,"


def test_english_and_chinese_customers_get_the_right_intent(classifier: IntentClassifier) -> None:
    asks = {
        "where is my parcel": "track_order",
        "please give me a refund": "refund",
        "I cannot log in, forgot password": "reset_password",
        "我的包裹到哪了": "查询订单",
        "申请退款": "退款",
        "密码忘了怎么办": "修改密码",
    }
    for text, intent in asks.items():
        prediction = classifier.predict(text)
        assert prediction.ranking[0][0] == intent, (text, prediction)
        assert 0.0 < prediction.confidence <= 1.0
        assert prediction.ranking == sorted(prediction.ranking, key=lambda r: -r[1])


def test_out_of_scope_rows_tune_the_threshold_but_are_never_an_intent(classifier: IntentClassifier) -> None:
    assert "oos" not in classifier.intents
    assert sorted(classifier.intents) == sorted(INTENTS)
    assert classifier.summary.n_out_of_scope_examples == len(OUT_OF_SCOPE)
    assert classifier.summary.n_examples == sum(len(v) for v in INTENTS.values())
    predictions = classifier.predict_many(OUT_OF_SCOPE + ["where is my order"])
    assert all(p.intent != "oos" and all(name != "oos" for name, _ in p.ranking) for p in predictions)


def test_unknown_questions_are_handed_off_instead_of_answered_confidently(classifier: IntentClassifier) -> None:
    unknown = ["what time does the football game start", "how do I bake bread", "明天会下雨吗", "给我讲个故事"]
    handed_off = [p for p in classifier.predict_many(unknown) if p.out_of_scope]
    assert len(handed_off) >= 3
    for p in handed_off:
        assert p.intent is None and p.confidence < classifier.threshold and p.ranking
    known = classifier.predict("I want a refund for my order")
    assert known.intent == "refund" and not known.out_of_scope


def test_probabilities_are_a_distribution_over_intents(classifier: IntentClassifier) -> None:
    probs = classifier.probabilities(["track my order", "退款"])
    assert probs.shape == (2, len(INTENTS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_saved_model_loads_back_with_identical_predictions(classifier: IntentClassifier, tmp_path: Path) -> None:
    path = tmp_path / "bot.kefu-nlu"
    classifier.save(path)
    again = IntentClassifier.load(path)
    texts = ["where is my order", "我要退款", "tell me a joke", "password"]
    np.testing.assert_array_equal(again.probabilities(texts), classifier.probabilities(texts))
    assert again.predict_many(texts) == classifier.predict_many(texts)
    assert again.threshold == classifier.threshold and again.intents == classifier.intents
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["format"] == "kefu-intent-classifier" and manifest["version"] == 1
    assert all(n == "manifest.json" or (n.startswith("arrays/") and n.endswith(".npy")) for n in names)


def test_files_kefu_did_not_write_are_refused(classifier: IntentClassifier, tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x80\x04not a model")
    with pytest.raises(ModelFormatError):
        IntentClassifier.load(junk)
    future = tmp_path / "future.zip"
    with zipfile.ZipFile(future, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "kefu-intent-classifier", "version": 99}))
    with pytest.raises(ModelFormatError, match="version 99"):
        IntentClassifier.load(future)
    # A pickled object array smuggled into a real model file is not loaded.
    good = tmp_path / "good.zip"
    classifier.save(good)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            if item == "arrays/c0.intercept.npy":
                import io

                buffer = io.BytesIO()
                np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
                data = buffer.getvalue()
            dst.writestr(item, data)
    with pytest.raises(ModelFormatError):
        IntentClassifier.load(tampered)


def test_training_reports_progress_and_rejects_bad_input() -> None:
    seen: list[tuple[str, float]] = []
    IntentClassifier.train(examples(), progress=lambda stage, fraction: seen.append((stage, fraction)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    with pytest.raises(ValueError, match="two intents"):
        IntentClassifier.train([TrainingExample("hi", "greet"), TrainingExample("hello", "greet")])
    with pytest.raises(ValueError, match="mode"):
        IntentClassifier.train(examples(), mode="turbo")


def test_accurate_mode_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import bots.nlu

    for name in ("minilm", "encoder"):
        # Forget any earlier import so the next one really looks for torch.
        monkeypatch.delitem(sys.modules, f"bots.nlu.{name}", raising=False)
        monkeypatch.delattr(bots.nlu, name, raising=False)
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail as if not installed
    with pytest.raises(MissingExtraError, match=r"torch==2\.13\.0"):
        IntentClassifier.train(examples(), mode="accurate")
