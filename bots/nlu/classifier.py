"""IntentClassifier: calibrated intent probabilities with an out-of-scope decision, saved without pickle."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bots.nlu.calibration import pool, softmax
from bots.nlu.components import Component, load_component
from bots.nlu.errors import ModelFormatError
from bots.nlu.storage import read_archive, write_archive
from bots.nlu.types import Prediction, Progress, TrainingExample

MODES = ("fast", "accurate")
RANKING_SIZE = 10


@dataclass(frozen=True)
class TrainingSummary:
    """What training measured on held-out folds of the training data (never on test data)."""

    mode: str
    n_examples: int
    n_out_of_scope_examples: int
    n_intents: int
    n_folds: int
    seconds: float
    held_out_accuracy: float
    held_out_calibration_error: float
    held_out_rejected: float
    held_out_out_of_scope_recall: float | None = None
    component_weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class HeldOut:
    """Each training row scored by the fold model that never saw it (kept in memory only, never saved)."""

    texts: tuple[str, ...]
    truth: tuple[str | None, ...]  # None: an out-of-scope row
    predicted: tuple[str, ...]  # top-1 intent
    confidence: tuple[float, ...]
    threshold: float
    folds: int


class IntentClassifier:
    """Predicts an intent (or 'out of scope') with a calibrated confidence."""

    def __init__(
        self,
        labels: Sequence[str],
        components: Sequence[Component],
        weights: np.ndarray,
        threshold: float,
        summary: TrainingSummary,
        held_out: HeldOut | None = None,
    ) -> None:
        self._labels = tuple(labels)
        self._components = tuple(components)
        self._weights = np.asarray(weights, dtype=np.float64)
        self._threshold = float(threshold)
        self.summary = summary
        # only a freshly trained classifier has these; a loaded one does not
        self.held_out = held_out

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents this model can answer with, sorted."""
        return self._labels

    @property
    def mode(self) -> str:
        """'fast' or 'accurate'."""
        return self.summary.mode

    @property
    def threshold(self) -> float:
        """Confidences below this are answered as out of scope."""
        return self._threshold

    @classmethod
    def train(
        cls,
        examples: Iterable[TrainingExample],
        mode: str = "fast",
        progress: Progress | None = None,
        *,
        out_of_scope_label: str | None = None,
        seed: int = 0,
    ) -> IntentClassifier:
        """Train on labelled examples; rows labelled `out_of_scope_label` only tune the out-of-scope threshold."""
        from bots.nlu.training import train_classifier

        return train_classifier(cls, list(examples), mode, progress, out_of_scope_label, seed)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probability of each intent (columns in `intents` order) for each text."""
        if not texts:
            return np.zeros((0, len(self._labels)))
        scores = [component.scores(texts) for component in self._components]
        return softmax(pool(scores, self._weights))

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Predict a batch of messages (faster per message than calling predict in a loop)."""
        texts = list(texts)
        probs = self.probabilities(texts)
        return [self._prediction(row) for row in probs]

    def predict(self, text: str) -> Prediction:
        """Predict one message."""
        return self.predict_many([text])[0]

    def _prediction(self, probs: np.ndarray) -> Prediction:
        size = min(RANKING_SIZE, len(probs))
        top = np.argpartition(-probs, size - 1)[:size]
        top = top[np.argsort(-probs[top], kind="stable")]
        ranking = [(self._labels[i], float(probs[i])) for i in top]
        confidence = ranking[0][1]
        out_of_scope = confidence < self._threshold
        return Prediction(None if out_of_scope else ranking[0][0], confidence, ranking, out_of_scope)

    def save(self, path: str | Path) -> None:
        """Write the model as a versioned zip of JSON and .npy arrays (see docs/nlu.md)."""
        arrays: dict[str, np.ndarray] = {}
        described = []
        for index, component in enumerate(self._components):
            params, parts = component.to_saved()
            described.append({"kind": component.kind, "params": params})
            arrays.update({f"c{index}.{name}": value for name, value in parts.items()})
        manifest: dict[str, Any] = {
            "labels": list(self._labels),
            "threshold": self._threshold,
            "weights": self._weights.tolist(),
            "components": described,
            "summary": asdict(self.summary),
        }
        write_archive(path, manifest, arrays)

    @classmethod
    def load(cls, path: str | Path) -> IntentClassifier:
        """Read a file written by save(); raises ModelFormatError for anything else."""
        manifest, arrays = read_archive(path)
        try:
            components = []
            for index, spec in enumerate(manifest["components"]):
                prefix = f"c{index}."
                parts = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                components.append(load_component(spec["kind"], spec["params"], parts))
            labels = [str(x) for x in manifest["labels"]]
            weights = np.asarray(manifest["weights"], dtype=np.float64)
            if len(weights) != len(components) or not labels:
                raise ValueError("weights, components and labels disagree")
            summary = TrainingSummary(**manifest["summary"])
            return cls(labels, components, weights, float(manifest["threshold"]), summary)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{path}: damaged Kefu intent model ({exc})") from exc
