"""The values that go in and out of the intent classifier."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[str, float], None]
"""progress(stage, fraction_done) – fraction_done goes from 0.0 to 1.0 over a whole training run."""


@dataclass(frozen=True)
class TrainingExample:
    """One labelled message."""

    text: str
    intent: str


@dataclass(frozen=True)
class Prediction:
    """The classifier's answer for one message.

    `confidence` is the calibrated probability of the top intent. When it falls below the
    threshold learned at training time, `out_of_scope` is True and `intent` is None, while
    `ranking` still lists the best candidates (useful for "did you mean ...?").
    """

    intent: str | None
    confidence: float
    ranking: list[tuple[str, float]] = field(default_factory=list)
    out_of_scope: bool = False
