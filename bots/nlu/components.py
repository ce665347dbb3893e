"""The shape every scoring component shares, and where to find each kind."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np


class Component(Protocol):
    """Something that gives each intent a raw score for a message and can be stored as arrays."""

    kind: ClassVar[str]

    def scores(self, texts: Sequence[str]) -> np.ndarray: ...

    def to_saved(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]: ...


def load_component(kind: str, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Component:
    """Rebuild a stored component; heavy ones are imported only when a model needs them."""
    if kind == "tfidf-svm":
        from bots.nlu.tfidf import TfidfSvm

        return TfidfSvm.from_saved(params, arrays)
    if kind == "minilm-head":
        from bots.nlu.encoder import MiniLmHead

        return MiniLmHead.from_saved(params, arrays)
    raise ValueError(f"unknown component kind {kind!r}")
