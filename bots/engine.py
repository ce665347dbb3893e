"""The embedded engine: train a bot version's intent model from its content, save it, load it, classify."""
from __future__ import annotations

import hashlib
import io
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from bots.content import BotContent
from bots.policy import EntityFound, IntentGuess, Understanding

Mode = Literal["fast", "accurate"]
Progress = Callable[[float, str], None]

MODEL_MAGIC = b"KEFU-BOT-MODEL/1\n"
DEFAULT_THRESHOLD = 0.45
RANKING_SIZE = 10


class ModelError(Exception):
    """A model file that cannot be read, or content that cannot be trained."""


@dataclass(frozen=True)
class EntityRules:
    """Regexes and lookup tables from the content, with synonyms mapping found text to values."""

    patterns: tuple[tuple[str, re.Pattern[str]], ...]
    synonyms: dict[str, str]

    @classmethod
    def from_content(cls, content: BotContent) -> EntityRules:
        """Rules named after entities: a regex or lookup table called `order_id` finds `order_id`."""
        patterns: list[tuple[str, re.Pattern[str]]] = []
        for feature in content.nlu.regex_features:
            for pattern in feature.patterns:
                try:
                    patterns.append((feature.name, re.compile(pattern)))
                except re.error as exc:
                    raise ModelError(f"regex {feature.name!r} does not compile: {exc}") from exc
        for table in content.nlu.lookup_tables:
            words = sorted((e for e in table.elements if e.strip()), key=len, reverse=True)
            if words:
                alternation = "|".join(re.escape(w) for w in words)
                patterns.append((table.name, re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)))
        return cls(tuple(patterns), content.nlu.synonym_map())

    def find(self, text: str) -> tuple[EntityFound, ...]:
        """Every match, in reading order; synonyms give the normalised value."""
        found = [
            EntityFound(name, self.synonyms.get(m.group(0), m.group(0)), m.start(), m.end())
            for name, pattern in self.patterns
            for m in pattern.finditer(text)
            if m.group(0)
        ]
        return tuple(sorted(found, key=lambda e: (e.start or 0, e.end or 0)))


class EmbeddedModel:
    """A trained intent classifier plus the bot's entity rules; `understand` is pure CPU work."""

    def __init__(self, intents: tuple[str, ...], vectorizer: object, coef: np.ndarray, intercept: np.ndarray,
                 scale: float, threshold: float, rules: EntityRules, content_sha: str, metrics: dict[str, float]):
        self.intents = intents
        self.vectorizer = vectorizer
        self.coef = coef
        self.intercept = intercept
        self.scale = scale
        self.threshold = threshold
        self.rules = rules
        self.content_sha = content_sha
        self.metrics = metrics

    def understand(self, text: str) -> Understanding:
        """Intents best first with calibrated confidences, and the entities found."""
        if not self.intents:
            return Understanding((), self.rules.find(text), self.threshold)
        x = self.vectorizer.transform([text])  # type: ignore[attr-defined]
        logits = (np.asarray(x @ self.coef, dtype=np.float64) + self.intercept)[0] * self.scale
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        order = np.argsort(-probs)[:RANKING_SIZE]
        ranking = tuple(IntentGuess(self.intents[i], float(probs[i])) for i in order)
        return Understanding(ranking, self.rules.find(text), self.threshold)


def content_sha(content_json: str) -> str:
    """A content fingerprint: same content, same model."""
    return hashlib.sha256(content_json.encode("utf-8")).hexdigest()


def train(content: BotContent, mode: Mode = "fast", progress: Progress | None = None, *, sha: str = "") -> EmbeddedModel:
    """Fit the classifier on the content's examples; out-of-fold scores calibrate it and set its bar."""
    from bots.nlu.calibration import choose_threshold, fit_pool_weights, softmax
    from bots.nlu.features import Vectorizer
    from bots.nlu.linear import stratified_folds, train_linear
    from bots.nlu.text import analyze

    report = progress or (lambda _f, _s: None)
    rules = EntityRules.from_content(content)
    pairs = content.nlu.training_pairs()
    intents = tuple(i.name for i in content.intents if i.examples)
    if not pairs or not intents:
        return EmbeddedModel((), None, np.zeros((0, 0)), np.zeros(0), 1.0, DEFAULT_THRESHOLD, rules, sha, {})
    index = {name: i for i, name in enumerate(intents)}
    y = np.array([index[label] for _, label in pairs], dtype=np.int64)
    report(0.05, "analysing examples")
    analyses = [analyze(text) for text, _ in pairs]
    min_df = 1 if len(pairs) < 2000 else 2
    c = 1.0 if mode == "fast" else 0.5
    n_folds = 3 if mode == "fast" else 5
    counts = np.bincount(y, minlength=len(intents))
    metrics: dict[str, float] = {"examples": float(len(pairs)), "intents": float(len(intents))}
    scale, threshold = 1.0, DEFAULT_THRESHOLD
    if len(intents) > 1 and counts.min() >= 2:
        folds = stratified_folds(y, min(n_folds, int(counts.min())))
        held_scores = np.zeros((len(y), len(intents)))
        n = int(folds.max()) + 1
        for k in range(n):
            train_rows, held_rows = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
            vec = Vectorizer.fit([analyses[i] for i in train_rows], min_df=min_df)
            scorer = train_linear(vec.transform_analyses([analyses[i] for i in train_rows]), y[train_rows],
                                  len(intents), c=c)
            held_scores[held_rows] = scorer.scores(vec.transform_analyses([analyses[i] for i in held_rows]))
            report(0.1 + 0.6 * (k + 1) / n, f"cross-validation fold {k + 1} of {n}")
        scale = float(fit_pool_weights([held_scores], y)[0]) or 1.0
        probs = softmax(held_scores * scale)
        predicted = probs.argmax(axis=1)
        correct = predicted == y
        threshold = choose_threshold(probs.max(axis=1), correct)
        metrics["cv_accuracy"] = float(correct.mean())
        accepted = probs.max(axis=1) >= threshold
        metrics["cv_answered"] = float(accepted.mean())
        metrics["cv_answered_accuracy"] = float(correct[accepted].mean()) if accepted.any() else 0.0
    report(0.75, "training the final model")
    vectorizer = Vectorizer.fit(analyses, min_df=min_df)
    scorer = train_linear(vectorizer.transform_analyses(analyses), y, len(intents), c=c)
    metrics["threshold"] = float(threshold)
    report(1.0, "trained")
    return EmbeddedModel(intents, vectorizer, scorer.coef, scorer.intercept, scale, float(threshold), rules, sha,
                         metrics)


def save(model: EmbeddedModel, path: Path) -> None:
    """Write the model file atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    buffer.write(MODEL_MAGIC)
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


def load(path: Path) -> EmbeddedModel:
    """Read a model file Kefu wrote; anything else raises ModelError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read: {exc}") from exc
    if not data.startswith(MODEL_MAGIC):
        raise ModelError(f"{path} is not a Kefu bot model")
    try:
        model = pickle.loads(data[len(MODEL_MAGIC):])  # noqa: S301 - only files Kefu itself wrote
    except Exception as exc:
        raise ModelError(f"model file {path} is damaged: {exc}") from exc
    if not isinstance(model, EmbeddedModel):
        raise ModelError(f"{path} does not hold a bot model")
    return model
