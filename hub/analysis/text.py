"""Text clean-up shared by the analysers: width folding, email quote stripping, tokens."""
from __future__ import annotations

import re
import unicodedata

# Long emails are cut here: the grievance is nearly always in the first screen, and the cap
# bounds scoring time.
MAX_CHARS = 1000

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?|[.,;:!?。；…]")
_CLAUSE_END = frozenset(".,;:!?。；…")
_NEGATORS = frozenset(
    "not no never nothing nobody none cannot can't won't don't doesn't didn't isn't wasn't "
    "aren't weren't haven't hasn't hadn't shouldn't wouldn't couldn't without dont doesnt didnt "
    "isnt wasnt cant wont havent".split()
)
_NEGATION_SPAN = 3

# Lines that open a quoted earlier message in a reply; everything after them is history.
_QUOTE_HEADERS = re.compile(
    r"^\s*(?:on .{4,120} wrote:|-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message\s*-{2,}"
    r"|from:\s.+|发件人[:：].*|在.{2,80}写道[:：]|-{2,}\s*原始邮件\s*-{2,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE_START = re.compile(r"^\s*(?:--\s*|sent from my \w+.*|发自我的.*)$", re.IGNORECASE)


def fold(text: str) -> str:
    """Unicode-normalise (full-width to ASCII, compatibility forms) and lower-case."""
    return unicodedata.normalize("NFKC", text).lower()


def strip_email_history(text: str) -> str:
    """The customer's own words in an email: quoted replies and signature cut off."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADERS.match(line) or _SIGNATURE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    own = "\n".join(kept).strip()
    # A reply that is only a quote still deserves a look at the quote.
    return own or text.strip()


def prepare(text: str, channel: str) -> str:
    """The part of a message worth scoring, un-folded (case is itself a cue)."""
    if channel == "email":
        text = strip_email_history(text)
    return text[:MAX_CHARS]


def tokens(folded: str) -> list[str]:
    """Han runs, latin words and clause punctuation, in order."""
    return _TOKEN.findall(folded)


def is_han(token: str) -> bool:
    """True for a run of Chinese characters."""
    return "\u3400" <= token[0] <= "\ufaff"


def mark_negation(words: list[str]) -> list[str]:
    """English words within a few words after a negator get a `not_` prefix, up to the clause end."""
    marked: list[str] = []
    span = 0
    for word in words:
        if word in _CLAUSE_END or is_han(word):
            span = 0
            marked.append(word)
        elif word in _NEGATORS or word.endswith("n't"):
            span = _NEGATION_SPAN
            marked.append(word)
        elif span:
            span -= 1
            marked.append("not_" + word)
        else:
            marked.append(word)
    return marked
