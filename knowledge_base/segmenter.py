"""One shared, lazily loaded jieba segmenter whose cache lives in Kefu's cache folder."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import jieba

_lock = threading.Lock()
_ready = False


def kefu_cache_dir() -> Path:
    """The folder for Kefu's caches: $KEFU_CACHE_DIR, else ~/.cache/kefu."""
    configured = os.environ.get("KEFU_CACHE_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "kefu"


def segmenter() -> jieba.Tokenizer:
    """The process-wide jieba tokenizer, loaded on first use (about a second) from any thread."""
    global _ready
    if not _ready:
        with _lock:
            if not _ready:
                # jieba's own default writes a 9 MB cache into /tmp; keep it with Kefu's caches.
                cache = kefu_cache_dir()
                cache.mkdir(parents=True, exist_ok=True)
                jieba.dt.tmp_dir = str(cache)
                jieba.dt.initialize()
                _ready = True
    return jieba.dt
