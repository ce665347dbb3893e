"""Complaint detection for inbound messages in Chinese and English: probability, category, severity, cues."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from hub.analysis.cues import Severity, find_cues, severity
from hub.analysis.examples import CATEGORIES, Example, load_seed
from hub.analysis.features import Features, extract
from hub.analysis.linear import LinearModel, fit
from hub.analysis.text import fold, prepare

# An agent's correction is a deliberate, checked label about this business's own customers; it
# counts as several seed lines so one correction can move its near neighbours.
CORRECTION_WEIGHT = 5.0
COMPLAINT_C = 10.0
CATEGORY_C = 8.0
THRESHOLD = 0.5
# Cue, channel and length indicators say how upset or how long a message is, not what it is about.
_TONE_PREFIXES = ("cue:", "ch:", "len:")

@dataclass(frozen=True, slots=True)
class ComplaintScore:
    """The verdict on one message; category and severity are None unless it is a complaint."""

    is_complaint: bool
    probability: float
    category: str | None
    severity: Severity | None
    cues: list[str] = field(default_factory=list)


def _topical(feats: Features) -> Features:
    """The features that say what a message is about; tone cues must not pull the category."""
    return {k: v for k, v in feats.items() if not k.startswith(_TONE_PREFIXES)}


class ComplaintDetector:
    """A trained complaint/no-complaint model plus a category model over complaints."""

    def __init__(self, complaint: LinearModel, category: LinearModel, threshold: float = THRESHOLD) -> None:
        self.complaint = complaint
        self.category = category
        self.threshold = threshold

    @classmethod
    def train(cls, examples: Iterable[Example], *, threshold: float = THRESHOLD) -> ComplaintDetector:
        """Fit both models; a correction replaces any example with the same text and weighs more."""
        latest: dict[str, Example] = {}
        for ex in examples:
            key = " ".join(fold(ex.text).split())
            held = latest.get(key)
            if held is None or ex.correction or not held.correction:
                latest[key] = ex
        rows = list(latest.values())
        feats = [extract(prepare(ex.text, ex.channel), ex.channel, find_cues(ex.text)) for ex in rows]
        weights = [CORRECTION_WEIGHT if ex.correction else 1.0 for ex in rows]
        complaint = fit(feats, ["yes" if ex.is_complaint else "no" for ex in rows], weights, c=COMPLAINT_C)
        labelled = [i for i, ex in enumerate(rows) if ex.is_complaint and ex.category is not None]
        category = fit(
            [_topical(feats[i]) for i in labelled],
            [rows[i].category or "other" for i in labelled],
            [weights[i] for i in labelled],
            c=CATEGORY_C,
        )
        return cls(complaint, category, threshold)

    def score(self, text: str, channel: str, *, prior_contacts: int = 0) -> ComplaintScore:
        """Score one inbound message; `prior_contacts` is how many recent conversations came before it."""
        body = prepare(text, channel)
        cues = find_cues(body, prior_contacts=prior_contacts)
        feats = extract(body, channel, cues)
        probability = float(self.complaint.probabilities(feats)[0])
        if probability < self.threshold:
            return ComplaintScore(False, probability, None, None, [str(c) for c in cues])
        class_probs = self.category.probabilities(_topical(feats))
        category = self.category.labels[int(class_probs.argmax())]
        return ComplaintScore(True, probability, category, severity(cues), [str(c) for c in cues])


@lru_cache(maxsize=1)
def default_detector() -> ComplaintDetector:
    """The detector trained on the shipped seed corpus (trained once per process, on first use)."""
    return ComplaintDetector.train(load_seed())


def score_message(text: str, channel: str, *, prior_contacts: int = 0) -> ComplaintScore:
    """Score one inbound message with the seed-trained detector."""
    return default_detector().score(text, channel, prior_contacts=prior_contacts)


__all__ = ["CATEGORIES", "ComplaintDetector", "ComplaintScore", "score_message", "default_detector"]
