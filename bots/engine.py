"""The embedded engine: a bot version's bots.nlu classifier trained from its content, plus entity rules."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bots.content import BotContent
from bots.evaluation import evaluation_from_held_out
from bots.nlu import IntentClassifier, ModelFormatError, TrainingExample
from bots.policy import EntityFound, IntentGuess, Understanding

Mode = Literal["fast", "accurate"]
Progress = Callable[[float, str], None]

DEFAULT_THRESHOLD = 0.45
RANKING_SIZE = 10


class ModelError(Exception):
    """A model file that cannot be read, or content that cannot be trained."""


# A letter or digit of a script that puts spaces between words. A lookup value must not run on into
# one ("sun" is not in "sunday"), but Chinese, Japanese and Korean write words together, so a
# neighbouring ideograph, kana or hangul is no boundary: 周日 is found in 周日你们几点营业, and
# iPhone in 我的iPhone坏了.
SPACED_WORD_CHAR = r"[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"


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
                patterns.append((table.name, re.compile(
                    rf"(?<!{SPACED_WORD_CHAR})(?:{alternation})(?!{SPACED_WORD_CHAR})", re.IGNORECASE
                )))
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


OUT_OF_SCOPE_LABELS = frozenset({"out_of_scope", "nlu_fallback"})
OUT_OF_SCOPE = "out_of_scope"


class EmbeddedModel:
    """A trained bots.nlu classifier plus the bot's entity rules; `understand` is pure CPU work."""

    def __init__(self, classifier: IntentClassifier | None, rules: EntityRules,
                 evaluation: dict[str, Any] | None = None) -> None:
        self.classifier = classifier
        self.rules = rules
        # computed at training from the held-out folds; a model read back from a file has none
        self.evaluation = evaluation

    @property
    def intents(self) -> tuple[str, ...]:
        """The intents the classifier can answer with (out-of-scope examples are not one)."""
        return tuple(self.classifier.intents) if self.classifier is not None else ()

    @property
    def threshold(self) -> float:
        """The calibrated confidence below which a message is out of scope."""
        return float(self.classifier.threshold) if self.classifier is not None else DEFAULT_THRESHOLD

    @property
    def metrics(self) -> dict[str, float | str]:
        """What training measured on held-out folds, as stored with the version."""
        if self.classifier is None:
            return {}
        summary = self.classifier.summary
        metrics: dict[str, float | str] = {
            "mode": summary.mode, "examples": summary.n_examples,
            "out_of_scope_examples": summary.n_out_of_scope_examples,
            "intents": summary.n_intents, "folds": summary.n_folds, "seconds": round(summary.seconds, 2),
            "held_out_accuracy": summary.held_out_accuracy,
            "held_out_calibration_error": summary.held_out_calibration_error,
            "held_out_rejected": summary.held_out_rejected, "threshold": self.threshold,
        }
        if summary.held_out_out_of_scope_recall is not None:
            metrics["held_out_out_of_scope_recall"] = summary.held_out_out_of_scope_recall
        return metrics

    def understand(self, text: str) -> Understanding:
        """Intents best first with calibrated confidences, and the entities found."""
        entities = self.rules.find(text)
        if self.classifier is None or not text.strip():
            return Understanding((), entities, self.threshold)
        prediction = self.classifier.predict(text)
        ranking = tuple(IntentGuess(name, float(p)) for name, p in prediction.ranking[:RANKING_SIZE])
        return Understanding(ranking, entities, self.threshold)


def content_sha(content_json: str) -> str:
    """A content fingerprint: same content, same model."""
    return hashlib.sha256(content_json.encode("utf-8")).hexdigest()


def train(content: BotContent, mode: Mode = "fast", progress: Progress | None = None) -> EmbeddedModel:
    """Train bots.nlu's classifier on the content's examples (nlu_fallback examples count as out_of_scope)."""
    report = progress or (lambda _f, _s: None)
    rules = EntityRules.from_content(content)
    examples = [
        TrainingExample(text, OUT_OF_SCOPE if intent in OUT_OF_SCOPE_LABELS else intent)
        for text, intent in content.nlu.training_pairs()
    ]
    if len({e.intent for e in examples if e.intent != OUT_OF_SCOPE}) < 2:
        raise ModelError("a bot needs at least two intents with examples to train a classifier")
    # out-of-scope examples are a class of their own (Rasa's habit), not only a threshold tuner: an
    # off-topic question that shares words with an intent ("我的手机坏了" vs "我的订单") then lands there
    # instead of on the intent, and the policy treats that class as "not understood"
    # the classifier's own steps fill 0..0.95 of the bar; the evaluation and the end share the rest
    classifier = IntentClassifier.train(examples, mode, lambda stage, done: report(0.95 * done, stage))
    evaluation = None
    if classifier.held_out is not None:
        report(0.96, f"evaluating: scoring {len(classifier.held_out.texts)} examples held out in "
                     f"{classifier.held_out.folds} folds")
        evaluation = evaluation_from_held_out(classifier.held_out, mode)
        report(0.99, f"evaluated: accuracy {evaluation['accuracy']:.1%}, macro-F1 {evaluation['macro_f1']:.1%}")
    report(1.0, "trained")
    return EmbeddedModel(classifier, rules, evaluation)


def save(model: EmbeddedModel, path: Path) -> None:
    """Write the classifier file (bots.nlu's zip format: numbers and strings, never code)."""
    if model.classifier is None:
        raise ModelError("an untrained model cannot be saved")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.classifier.save(path)


def load(path: Path, content: BotContent) -> EmbeddedModel:
    """Read a classifier file and rebuild the entity rules from the version's content."""
    try:
        classifier = IntentClassifier.load(path)
    except (OSError, ModelFormatError) as exc:
        raise ModelError(f"model file {path} cannot be used: {exc}") from exc
    return EmbeddedModel(classifier, EntityRules.from_content(content))
