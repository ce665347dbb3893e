"""Turn one message into sparse features: text n-grams, plus cue, channel and length indicators."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from hub.analysis.cues import Cue
from hub.analysis.text import fold, is_han, mark_negation, tokens
from hub.analysis.topics import topic_hits

Features = dict[str, float]

_HAN_ORDERS = (1, 2)
_CHAR_ORDERS = (4, 5)
_TOPIC_CAP = 4
_PUNCT = frozenset(".,;:!?。；…")


def _text_counts(folded: str) -> Counter[str]:
    """Raw counts of Han n-grams, English words (negation-marked), word bigrams and char n-grams."""
    grams: list[str] = []
    add = grams.append
    toks = tokens(folded)
    previous: str | None = None
    for raw, word in zip(toks, mark_negation(toks), strict=True):
        if raw in _PUNCT:
            add("p:" + raw)
            previous = None
        elif is_han(raw):
            n = len(raw)
            for order in _HAN_ORDERS:
                grams.extend(["z:" + raw[i : i + order] for i in range(n - order + 1)])
            previous = None
        else:
            add("w:" + word)
            if previous is not None:
                add("b:" + previous + " " + raw)
            previous = raw
            padded = f" {raw} "
            n = len(padded)
            for order in _CHAR_ORDERS:
                grams.extend(["c:" + padded[i : i + order] for i in range(n - order + 1)])
    # One Counter over a list is several times faster than many small Counter.update calls.
    return Counter(grams)


def _length_bucket(text: str) -> str:
    """A coarse length class: SMS-short, chat-sized or email-long."""
    n = len(text)
    return "short" if n < 25 else "long" if n > 300 else "medium"


def extract(text: str, channel: str, cues: Iterable[Cue]) -> Features:
    """Features for one prepared message: l2-normalised text n-grams plus unit indicators."""
    counts = _text_counts(fold(text))
    # Sublinear tf, normalised over all n-grams (known to a model or not), so an unfamiliar
    # message carries less weight than a familiar one.
    tf = {k: 1.0 + math.log(v) for k, v in counts.items()}
    norm = math.sqrt(sum(v * v for v in tf.values())) or 1.0
    feats: Features = {k: v / norm for k, v in tf.items()}
    # Indicators stay at 1.0 outside the normalisation so a long email does not dilute its cues.
    for cue in cues:
        feats["cue:" + cue.kind] = 1.0
    for topic, hits in topic_hits(text).items():
        feats["t:" + topic] = math.sqrt(min(hits, _TOPIC_CAP))
    if channel:
        feats["ch:" + channel] = 1.0
    feats["len:" + _length_bucket(text)] = 1.0
    return feats

