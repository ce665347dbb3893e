"""SMS encoding, segment counting and splitting long text into messages that fit (pure)."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# GSM 03.38 default alphabet (one septet each); ESC (0x1B) is left out on purpose.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs ESC + char, two septets, and the pair must stay in one segment.
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

SINGLE_LIMIT: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
# Concatenated segments lose room to the user data header.
MULTI_LIMIT: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}

# Where a cut reads naturally: after whitespace, or after sentence/clause punctuation (CJK has no spaces).
_BREAK_AFTER = frozenset(" \t\n\r\u3000。！？；，、：.!?;,:)）」』】》")
_ZWJ = "\u200d"


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character is in the GSM alphabet, else UCS-2 (what the handset receives)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        return "GSM-7"
    return "UCS-2"


def _unit_cost(encoding: Encoding) -> Callable[[str], int]:
    if encoding == "GSM-7":
        return lambda ch: 2 if ch in _GSM_EXTENDED else 1
    # UTF-16 code units: characters outside the BMP are a surrogate pair.
    return lambda ch: 2 if ord(ch) > 0xFFFF else 1


def segment_count(text: str, encoding: Encoding | None = None) -> int:
    """How many SMS segments the text costs (0 for empty text)."""
    if not text:
        return 0
    enc = encoding or encoding_of(text)
    cost = _unit_cost(enc)
    costs = [cost(ch) for ch in text]
    if sum(costs) <= SINGLE_LIMIT[enc]:
        return 1
    room = MULTI_LIMIT[enc]
    segments, used = 1, 0
    for c in costs:
        # An escape pair or surrogate pair never straddles two segments.
        if used + c > room:
            segments += 1
            used = 0
        used += c
    return segments


def _glued(text: str, i: int) -> bool:
    """True when cutting before index i would break a visible character (combining mark, ZWJ, modifiers)."""
    if i <= 0 or i >= len(text):
        return False
    nxt, prev = text[i], text[i - 1]
    if prev == _ZWJ or nxt == _ZWJ:
        return True
    if unicodedata.combining(nxt) or unicodedata.category(nxt) == "Me":
        return True
    code = ord(nxt)
    # Variation selectors and emoji skin-tone modifiers belong to the character before them.
    return 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0100 <= code <= 0xE01EF


def _longest_fitting(text: str, fits: Callable[[str], bool]) -> int:
    """The largest k with fits(text[:k]); fits is monotone in k."""
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid]):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _cut_point(text: str, k: int) -> int:
    """Where to cut within text[:k]: the last natural break in its second half, else the last safe spot."""
    for i in range(k, k // 2, -1):
        if text[i - 1] in _BREAK_AFTER and not _glued(text, i):
            return i
    for i in range(k, 0, -1):
        if not _glued(text, i):
            return i
    return k


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Split text into parts that each satisfy `fits`, cutting at spaces or punctuation where possible."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if fits(rest):
            parts.append(rest)
            break
        k = _longest_fitting(rest, fits)
        cut = _cut_point(rest, k)
        head = rest[:cut].rstrip()
        if not head:
            head, cut = rest[:k], k
        parts.append(head)
        rest = rest[cut:].lstrip()
    return parts


def split_sms(text: str, max_segments: int = 10, max_chars: int = 1600) -> list[str]:
    """Split text into SMS bodies of at most `max_segments` segments each (1 gives classic 160/70 texts)."""
    if max_segments < 1:
        raise ValueError("max_segments must be at least 1")
    enc = encoding_of(text)
    # The whole text's encoding is used for every part: a GSM-only part counted as UCS-2 still fits.
    # max_chars is Twilio's cap on one Body, whatever the segment count.
    return split_text(
        text, lambda part: len(part) <= max_chars and segment_count(part, enc) <= max_segments
    )


def split_chars(text: str, max_chars: int) -> list[str]:
    """Split text into parts of at most `max_chars` characters (WhatsApp bodies have no segments)."""
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    return split_text(text, lambda part: len(part) <= max_chars)
