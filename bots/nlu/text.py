"""Turn a message into word and character n-gram strings (English and Chinese alike)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# CJK ideographs, kana and hangul are written without spaces, so each one is its own token.
_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+(?:'[^\W_{_CJK}]+)*")
_CJK_RUN = re.compile(rf"[{_CJK}]+")

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (2, 5)


def normalize(text: str) -> str:
    """Fold width and case so 'ＣＡＲＤ' and 'card', '，' and ',' look the same."""
    return unicodedata.normalize("NFKC", text).casefold()


def word_tokens(text: str) -> list[str]:
    """Latin/digit words plus one token per CJK character, from normalized text."""
    return _TOKEN.findall(text)


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(token: str) -> str:
    """English Snowball stem ('cards', 'carding' -> 'card'); other scripts pass through unchanged."""
    return _STEMMER.stemWord(token) if token.isascii() else token


def word_ngrams(tokens: list[str], low: int = WORD_NGRAMS[0], high: int = WORD_NGRAMS[1]) -> list[str]:
    """Contiguous token n-grams joined by a space."""
    grams: list[str] = []
    for n in range(low, high + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def char_ngrams(text: str, low: int = CHAR_NGRAMS[0], high: int = CHAR_NGRAMS[1]) -> list[str]:
    """Character n-grams inside each space-padded chunk; a CJK run is one chunk, so it yields all its n-grams."""
    grams: list[str] = []
    for chunk in _chunks(text):
        padded = f" {chunk} "
        size = len(padded)
        for n in range(low, high + 1):
            if n > size:
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def _chunks(text: str) -> list[str]:
    """Whitespace chunks with punctuation dropped, keeping the shape of words and CJK runs."""
    cleaned = "".join(ch if ch.isalnum() or ch == "'" or _CJK_RUN.match(ch) else " " for ch in text)
    return cleaned.split()


def analyze(text: str) -> tuple[list[str], list[str]]:
    """Word n-grams and character n-grams of a raw message."""
    norm = normalize(text)
    return word_ngrams([stem(t) for t in word_tokens(norm)]), char_ngrams(norm)
