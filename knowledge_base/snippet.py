"""A short excerpt of an article around its best matches, with those matches marked."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from knowledge_base.analysis import Match

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Snippet:
    """Excerpt text and the [start, end) spans in it that matched the query."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()

    def marked(self, before: str = "[", after: str = "]") -> str:
        """The text with each highlight wrapped in the given markers."""
        return self._wrap(self.text, before, after, lambda part: part)

    def html(self) -> str:
        """HTML-escaped text with each highlight in <mark>."""
        return self._wrap(self.text, "<mark>", "</mark>", html.escape)

    def _wrap(self, text: str, before: str, after: str, escape: Callable[[str], str]) -> str:
        """Join escaped plain parts and wrapped highlighted parts."""
        parts: list[str] = []
        position = 0
        for start, end in self.highlights:
            parts.append(escape(text[position:start]))
            parts.append(before + escape(text[start:end]) + after)
            position = end
        parts.append(escape(text[position:]))
        return "".join(parts)


def make_snippet(text: str, matches: Sequence[Match], width: int = 160) -> Snippet:
    """About `width` characters of the text around the window holding the most distinct terms."""
    flat = text.replace("\n", " ")  # one-for-one, so match offsets still hold
    if len(flat) <= width:
        return Snippet(flat, _joined((m.start, m.end) for m in matches))
    if not matches:
        end = _word_end(flat, width)
        return Snippet(flat[:end].rstrip() + ELLIPSIS)
    first, last = _best_window(matches, width)
    covered_start, covered_end = matches[first].start, matches[last].end
    # Centre what was found, leaning towards showing what comes after it.
    slack = max(width - (covered_end - covered_start), 0)
    start = max(0, covered_start - min(slack // 3, 60))
    end = min(len(flat), max(covered_end, start + width))
    start = max(0, min(start, end - width))
    start, end = _word_start(flat, start), _word_end(flat, end)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(flat) else ""
    body = flat[start:end]
    lead = len(body) - len(body.lstrip())
    body = body.strip()
    shift = len(prefix) - start - lead
    highlights = _joined(
        (max(m.start + shift, len(prefix)), min(m.end + shift, len(prefix) + len(body)))
        for m in matches
        if m.start >= start and m.end <= end
    )
    return Snippet(prefix + body + suffix, highlights)


def _joined(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Spans with touching neighbours joined, so 原路 + 退回 is marked as one 原路退回."""
    joined: list[tuple[int, int]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
        else:
            joined.append((start, end))
    return tuple(joined)


def _best_window(matches: Sequence[Match], width: int) -> tuple[int, int]:
    """First and last match index of the window with most distinct terms, then most matches."""
    best, best_key = (0, 0), (0, 0)
    in_window: dict[str, int] = {}
    last = -1
    for first, opening in enumerate(matches):
        # Slide the window's end forward; a single match wider than the window stands alone.
        while last < first or (
            last + 1 < len(matches) and matches[last + 1].end - opening.start <= width
        ):
            last += 1
            term = matches[last].term
            in_window[term] = in_window.get(term, 0) + 1
        key = (len(in_window), last - first + 1)
        if key > best_key:
            best_key, best = key, (first, last)
        term = opening.term
        in_window[term] -= 1
        if not in_window[term]:
            del in_window[term]
    return best


def _word_start(text: str, position: int) -> int:
    """Move a cut point left to the start of a Latin word it would split (at most 15 chars)."""
    floor = max(0, position - 15)
    while position > floor and _is_latin(text[position - 1]) and _is_latin(text[position]):
        position -= 1
    return position


def _word_end(text: str, position: int) -> int:
    """Move a cut point right to the end of a Latin word it would split (at most 15 chars)."""
    ceiling = min(len(text), position + 15)
    while 0 < position < ceiling and _is_latin(text[position - 1]) and _is_latin(text[position]):
        position += 1
    return position


def _is_latin(char: str) -> bool:
    """A letter or digit that is not a CJK character, so cutting next to it splits a word."""
    return char.isalnum() and ord(char) < 0x2E80
