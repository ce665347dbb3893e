"""CSAT, pure: reading a 1-5 rating out of a reply, choosing the language, wording the question and thanks."""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import Button

SCORES = (1, 2, 3, 4, 5)
LANGUAGES = ("en", "zh")
LABELS = {
    "en": ("Very poor", "Poor", "Okay", "Good", "Excellent"),
    "zh": ("非常不满意", "不满意", "一般", "满意", "非常满意"),
}
DEFAULT_QUESTIONS = {
    "en": "How would you rate the help you got?",
    "zh": "您对本次服务满意吗？请为我们打分。",
}
_REPLY_HINT = {
    "en": 'Reply with a number; you can add a comment after it, like "4: quick answer".',
    "zh": "请回复数字，也可在数字后附上意见，例如“4：回复很快”。",
}
_LINK_HINT = {
    "en": "Rate us here: {link}\nOr reply to this email with a number from 1 (very poor) to 5 (excellent).",
    "zh": "点此评分：{link}\n也可直接回复本邮件，写下 1（非常不满意）到 5（非常满意）之间的数字。",
}
_THANKS = {"en": "Thank you for your rating!", "zh": "感谢您的评价！"}
_COMMENT_INVITE = {"en": "Want to add a comment? {link}", "zh": "如需补充意见：{link}"}
MAX_COMMENT = 2000

_PAYLOAD = re.compile(r"^csat:([1-5])$")
_NUMBER = re.compile(
    r"^\s*[#(\[]?\s*([1-5])\s*(?:[)\]]|分|颗星|星|stars?|/\s*5)?\s*"
    r"(?:[:,.\-–—。、;!]+\s*(?P<comment>.*?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CHINESE_DIGITS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5"}
_CHINESE_SCORE = re.compile(r"^([一二两三四五])(分|颗星|星)?(?=$|[:,.\-–—。、;!])")
_STARS = frozenset("⭐★")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True, slots=True)
class Rating:
    """A customer's answer: a score from 1 to 5 and perhaps a comment."""

    score: int
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """What the customer is sent: text, and buttons or an HTML version with links."""

    text: str
    buttons: tuple[Button, ...] = ()
    html: str | None = None


def payload(score: int) -> str:
    """What a rating button sends back."""
    return f"csat:{score}"


def parse_rating(text: str, metadata: Mapping[str, Any] | None = None) -> Rating | None:
    """The rating in a reply ("4", "5: thanks!", "csat:3", "⭐⭐⭐⭐", "5分", "五星"), or None if it is not one."""
    button = (metadata or {}).get("button_payload")
    for candidate in (button, text):
        if isinstance(candidate, str):
            found = _PAYLOAD.match(candidate.strip())
            if found:
                return Rating(int(found.group(1)))
    folded = unicodedata.normalize("NFKC", text).replace("\ufe0f", "").strip()
    if folded and len(folded) <= 5 and set(folded) <= _STARS:
        return Rating(len(folded))
    folded = _CHINESE_SCORE.sub(lambda m: _CHINESE_DIGITS[m.group(1)] + (m.group(2) or ""), folded, count=1)
    found = _NUMBER.match(folded)
    if found is None:
        return None
    comment = (found.group("comment") or "").strip()[:MAX_COMMENT]
    return Rating(int(found.group(1)), comment or None)


def pick_language(*preferences: str | None, sample: str | None = None) -> str:
    """zh or en: the first preference that names one (zh-CN counts as zh), else what the sample is written in."""
    for preference in preferences:
        if preference:
            head = preference.split("-")[0].split("_")[0].lower()
            if head in LANGUAGES:
                return head
    if sample and _CJK.search(sample):
        return "zh"
    return "en"


def rating_buttons(language: str) -> tuple[Button, ...]:
    """Five buttons, 1 to 5 in order, so "2" typed on a text-only channel picks the second."""
    return tuple(Button(label, payload(score)) for score, label in zip(SCORES, LABELS[language], strict=True))


def question(
    language: str, text: str, *, buttons: bool, html_links: bool, link: str
) -> Question:
    """The question for a channel: buttons where it has them, a link (and HTML) for email, numbers otherwise."""
    if buttons:
        return Question(text, rating_buttons(language))
    if html_links:
        plain = f"{text}\n\n{_LINK_HINT[language].format(link=link)}"
        links = " ".join(
            f'<a href="{html.escape(link)}?score={score}">{score} · {html.escape(label)}</a>'
            for score, label in zip(SCORES, LABELS[language], strict=True)
        )
        hint = html.escape(_LINK_HINT[language].split("\n")[1])
        body = f"<p>{html.escape(text)}</p><p>{links}</p><p>{hint}</p>"
        return Question(plain, html=body)
    # channels.render turns the buttons into numbered lines, 1 to 5.
    return Question(f"{text}\n{_REPLY_HINT[language]}", rating_buttons(language))


def thanks(language: str, *, comment_link: str | None) -> str:
    """The thank-you after a rating by reply; invites a comment through the rating page when none was given."""
    text = _THANKS[language]
    if comment_link:
        text = f"{text} {_COMMENT_INVITE[language].format(link=comment_link)}"
    return text
