"""What the bot says next, or whether it steps aside: pure decisions over one customer turn."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote

from bots.content import BotContent, Response, ResponseVariation
from channels.base import Button
from channels.render import resolve_numbered_reply

Language = Literal["zh", "en"]
Action = Literal["reply", "handoff"]

# Handoff reason codes: stable words for filters and tests; the explanation is for people.
ASKED_FOR_HUMAN = "asked_for_human"
KEY_ACCOUNT = "key_account"
COMPLAINT = "complaint"
NOT_HELPFUL = "not_helpful"
UNSURE = "unsure"
ENGINE_FAILED = "engine_failed"
NOT_READY = "bot_not_ready"

HANDOFF_INTENTS = frozenset({"ask_human", "human_handoff", "handoff", "talk_to_human"})
FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-zA-Z]+")

# Asking for a person, in the words customers use. English "agent"/"human" alone count: in a
# support chat they almost always mean "let me talk to one".
_ASK_HUMAN = re.compile(
    "|".join((
        r"人工(?!智能)", r"真人", r"活人", r"转接客服", r"接通客服", r"找客服", r"客服人员", r"客服小姐姐", r"找个人",
        r"\bhumans?\b", r"\bagents?\b", r"\brepresentatives?\b", r"\boperators?\b", r"\breal (?:person|people)\b",
        r"\blive (?:person|chat|support)\b",
        r"\b(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a |an |the |some |your )?(?:person|someone|somebody|staff|"
        r"people|support|team|manager|supervisor)\b",
    )),
    re.IGNORECASE,
)
# The customer says the last answer did not solve it.
_NOT_HELPFUL = re.compile(
    "|".join((
        r"没用", r"没有用", r"没帮助", r"没有帮助", r"没帮上", r"不管用", r"没解决", r"没有解决", r"答非所问",
        r"不是我要的", r"不是我想要的", r"不是我问的",
        r"\b(?:did ?n[o']?t|does ?n[o']?t|doesnt|didnt|does not|did not) (?:help|work|answer)",
        r"\bnot (?:helpful|useful|what i (?:asked|meant|need|wanted))\b", r"\bunhelpful\b", r"\buseless\b",
        r"\bno help\b", r"\bthat'?s (?:wrong|not it)\b", r"\bnot my question\b",
    )),
    re.IGNORECASE,
)
_FORCED_INTENT = re.compile(r"^/([^\s{/]+)")
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")


@dataclass(frozen=True, slots=True)
class IntentGuess:
    """One intent and how sure the classifier is of it (0..1)."""

    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class EntityFound:
    """An entity the engine found in the message."""

    entity: str
    value: Any
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class Understanding:
    """What the engine made of a message: intents best first, entities, and its confidence bar."""

    ranking: tuple[IntentGuess, ...] = ()
    entities: tuple[EntityFound, ...] = ()
    threshold: float = 0.5

    @property
    def top(self) -> IntentGuess | None:
        """The best intent, if any."""
        return self.ranking[0] if self.ranking else None

    @property
    def confident(self) -> bool:
        """True when the best intent clears the bar and is not a fallback."""
        top = self.top
        return top is not None and top.name not in FALLBACK_INTENTS and top.confidence >= self.threshold


@dataclass(frozen=True, slots=True)
class ArticleHint:
    """A knowledge-base article the bot could answer with."""

    slug: str
    title: str
    score: float
    snippet: str = ""


@dataclass(frozen=True, slots=True)
class Mood:
    """The complaint detector's verdict on the message."""

    is_complaint: bool
    probability: float = 0.0
    category: str | None = None
    severity: str | None = None
    cues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Memory:
    """What the bot remembers of a conversation between turns (stored in the database)."""

    unsure_streak: int = 0
    offered: tuple[Button, ...] = ()
    last_kind: str | None = None  # "intent", "article", "rephrase", "rasa" or "handoff"
    last_intent: str | None = None
    last_articles: tuple[str, ...] = ()
    language: Language | None = None
    turns: int = 0

    def to_json(self) -> dict[str, Any]:
        """The memory as stored."""
        return {
            "unsure_streak": self.unsure_streak,
            "offered": [{"title": b.title, "payload": b.payload} for b in self.offered],
            "last_kind": self.last_kind,
            "last_intent": self.last_intent,
            "last_articles": list(self.last_articles),
            "language": self.language,
            "turns": self.turns,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Memory:
        """Read stored memory back; anything missing takes its default."""
        if not data:
            return cls()
        language = data.get("language")
        return cls(
            unsure_streak=int(data.get("unsure_streak") or 0),
            offered=tuple(Button(str(b["title"]), str(b["payload"])) for b in data.get("offered") or ()),
            last_kind=data.get("last_kind"),
            last_intent=data.get("last_intent"),
            last_articles=tuple(data.get("last_articles") or ()),
            language=language if language in ("zh", "en") else None,
            turns=int(data.get("turns") or 0),
        )


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Knobs of the policy; defaults suit the starter bot."""

    unsure_limit: int = 2
    kb_min_score: float = 1.5
    intent_threshold: float | None = None  # None: the engine's own calibrated bar
    link_base: str = ""
    handoff_on_complaint: bool = True
    # a likely complaint, or any with medium/high severity; a mild "it broke" question the bot may still answer
    complaint_min_probability: float = 0.75


@dataclass(frozen=True, slots=True)
class Turn:
    """One customer message with what the policy needs to know around it."""

    text: str
    channel: str
    memory: Memory = field(default_factory=Memory)
    tier: str = "standard"
    seed: int = 0  # picks among response variations; the message id keeps it stable

    @property
    def language(self) -> Language:
        """The language of this message, or the conversation's when the message has none (a "2")."""
        return detect_language(self.text, self.memory.language)


@dataclass(frozen=True, slots=True)
class Reading:
    """The message as the engine should read it: a picked button becomes its payload."""

    text: str
    forced_intent: str | None = None
    picked: Button | None = None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message the bot sends."""

    text: str
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a turn: reply with messages, or hand off (after an optional notice)."""

    action: Action
    messages: tuple[Outgoing, ...]
    memory: Memory
    reason: str | None = None
    explanation: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def handoff_reason(self) -> str | None:
        """The line agents see on the conversation: code, then why in words."""
        if self.reason is None:
            return None
        return f"{self.reason}: {self.explanation}" if self.explanation else self.reason


# ----------------------------------------------------------------------------------------------- reading


def detect_language(text: str, fallback: Language | None = None) -> Language:
    """zh when Chinese characters are at least as many as Latin words; no letters at all: the fallback."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN_WORD.findall(text))
    if cjk == 0 and latin == 0:
        return fallback or "zh"
    return "zh" if cjk >= latin else "en"


def read_message(text: str, memory: Memory, intents: Sequence[str] = ()) -> Reading:
    """Resolve a numbered reply ("2") or a button title to its payload; "/intent" payloads force that intent."""
    picked: Button | None = None
    payload = resolve_numbered_reply(text, memory.offered)
    if payload is not None:
        picked = next(b for b in memory.offered if b.payload == payload)
    else:
        folded = _fold(text)
        picked = next((b for b in memory.offered if _fold(b.title) == folded), None)
    effective = picked.payload if picked is not None else text.strip()
    match = _FORCED_INTENT.match(effective)
    forced = match.group(1) if match and (not intents or match.group(1) in intents) else None
    return Reading(effective, forced, picked)


def asks_for_human(text: str) -> str | None:
    """The words with which the customer asks for a person, or None."""
    match = _ASK_HUMAN.search(_fold(text))
    return match.group(0) if match else None


def is_handoff_intent(name: str) -> bool:
    """Intents that mean "a person, please" (ask_human, human_handoff, 转人工, ...)."""
    return name in HANDOFF_INTENTS or asks_for_human(name.replace("_", " ")) is not None


def says_not_helpful(text: str) -> str | None:
    """The words with which the customer says the answer did not help, or None."""
    match = _NOT_HELPFUL.search(_fold(text))
    return match.group(0) if match else None


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().replace("’", "'").split())


# ----------------------------------------------------------------------------------------------- deciding


def screen(turn: Turn, reading: Reading, mood: Mood | None, content: BotContent | None = None,
           config: PolicyConfig = PolicyConfig()) -> Decision | None:
    """Hand-offs that need no understanding of the question: key account, a person asked for, no help, anger."""
    if turn.tier == "key":
        return handoff(turn, KEY_ACCOUNT, "key account: a person answers them from the first message",
                       {}, content)
    if reading.forced_intent is not None and is_handoff_intent(reading.forced_intent):
        return handoff(turn, ASKED_FOR_HUMAN, "the customer picked “talk to a person”",
                       {"button": reading.picked.title if reading.picked else reading.text}, content)
    words = asks_for_human(reading.text) if reading.forced_intent is None else None
    if words is not None:
        return handoff(turn, ASKED_FOR_HUMAN, f"the customer asked for a person (“{words}”)", {"words": words},
                       content)
    words = says_not_helpful(reading.text)
    if words is not None:
        details: dict[str, Any] = {"words": words, "after": turn.memory.last_kind,
                                   "last_intent": turn.memory.last_intent,
                                   "last_articles": list(turn.memory.last_articles)}
        return handoff(turn, NOT_HELPFUL, f"the customer said the answer did not help (“{words}”)", details, content)
    if config.handoff_on_complaint and mood is not None and _strong_complaint(mood, config):
        what = f"{mood.category or 'complaint'}, severity {mood.severity or 'unknown'}"
        details = {"complaint": {"probability": round(mood.probability, 3), "category": mood.category,
                                 "severity": mood.severity, "cues": list(mood.cues)}}
        return handoff(turn, COMPLAINT, f"the message reads as a complaint ({what})", details, content)
    return None


def decide(turn: Turn, reading: Reading, understanding: Understanding, articles: Sequence[ArticleHint],
           content: BotContent, config: PolicyConfig = PolicyConfig()) -> Decision:
    """Answer by intent, else by the best article, else ask to rephrase; unsure too often: hand off."""
    understanding = _with_threshold(understanding, config)
    tried = [{"slug": a.slug, "title": a.title, "score": round(a.score, 3)} for a in articles]
    seen = _seen(understanding, tried)
    top = understanding.top
    if reading.forced_intent is not None:
        top = IntentGuess(reading.forced_intent, 1.0)
        understanding = replace(understanding, ranking=(top, *understanding.ranking))
        seen = _seen(understanding, tried)
    confident = reading.forced_intent is not None or understanding.confident
    if confident and top is not None:
        if is_handoff_intent(top.name):
            return handoff(turn, ASKED_FOR_HUMAN, f"the customer asked for a person (intent {top.name})", seen,
                           content)
        response = content.response(f"utter_{top.name}")
        if response is not None:
            slots = {e.entity: e.value for e in understanding.entities}
            said = render_response(response, turn.channel, turn.language, turn.seed, slots)
            if said is not None:
                memory = _remember(turn, "intent", said.buttons, intent=top.name)
                return Decision("reply", (said,), memory, details={**seen, "answered_by": "intent"})
    best = _best_article(articles, config)
    if best is not None:
        said = article_answer(best, turn.language, config.link_base)
        memory = _remember(turn, "article", said.buttons, intent=top.name if top else None,
                           articles=(best.slug,))
        return Decision("reply", (said,), memory, details={**seen, "answered_by": "article", "article": best.slug})
    return unsure(turn, content, seen, config)


def unsure(turn: Turn, content: BotContent | None, details: Mapping[str, Any],
           config: PolicyConfig = PolicyConfig()) -> Decision:
    """Ask to rephrase, or hand off when this is the `unsure_limit`-th unsure turn in a row."""
    streak = turn.memory.unsure_streak + 1
    if streak >= config.unsure_limit:
        return handoff(turn, UNSURE, f"the bot did not understand {streak} messages in a row", details, content)
    said = _say(content, "utter_default", turn) or Outgoing(REPHRASE[turn.language])
    memory = replace(_remember(turn, "rephrase", said.buttons), unsure_streak=streak)
    return Decision("reply", (said,), memory, details={**details, "answered_by": "rephrase"})


def handoff(turn: Turn, reason: str, explanation: str, details: Mapping[str, Any],
            content: BotContent | None = None) -> Decision:
    """Step aside: tell the customer a person is coming, and tell the agent why."""
    said = _say(content, "utter_handoff", turn) or Outgoing(HANDOFF_NOTICE[turn.language])
    memory = replace(_remember(turn, "handoff", ()), unsure_streak=0)
    return Decision("handoff", (said,), memory, reason, explanation, {"code": reason, **details})


def from_remote_replies(turn: Turn, replies: Sequence[Outgoing], content: BotContent | None,
                        details: Mapping[str, Any], config: PolicyConfig = PolicyConfig()) -> Decision:
    """A remote dialogue engine (Rasa's REST channel) answered: send what it said; silence counts as unsure."""
    said = tuple(r for r in replies if r.text.strip())
    if not said:
        return unsure(turn, content, details, config)
    memory = _remember(turn, "rasa", said[-1].buttons)
    return Decision("reply", said, memory, details={**details, "answered_by": "rasa"})


def engine_failed(turn: Turn, error: str, content: BotContent | None = None) -> Decision:
    """The engine could not be asked (remote down, model missing): a person takes over."""
    return handoff(turn, ENGINE_FAILED, f"the bot's engine failed: {error}", {"error": error}, content)


# ----------------------------------------------------------------------------------------------- saying


REPHRASE: dict[Language, str] = {
    "zh": "抱歉，我没太明白您的意思，能换个说法再说一遍吗？",
    "en": "Sorry, I didn't quite get that. Could you put it another way?",
}
HANDOFF_NOTICE: dict[Language, str] = {
    "zh": "好的，正在为您转接人工客服，请稍候。",
    "en": "Let me connect you with a member of our team. One moment, please.",
}
ARTICLE_INTRO: dict[Language, str] = {
    "zh": "这篇帮助文章或许能解答您的问题：",
    "en": "This help article may answer your question:",
}
ARTICLE_BUTTONS: dict[Language, tuple[Button, ...]] = {
    "zh": (Button("解决了，谢谢", "/thanks"), Button("没有帮助", "没有帮助")),
    "en": (Button("That solved it", "/thanks"), Button("That didn't help", "that didn't help")),
}


def render_response(response: Response, channel: str, language: Language, seed: int = 0,
                    slots: Mapping[str, Any] | None = None) -> Outgoing | None:
    """One variation of a response for this channel and language (language is the `language` slot).

    `{name}` placeholders take the entity found under that name; one nothing was found for is
    dropped rather than shown to the customer as "{order_id}".
    """
    variation = pick_variation(response, channel, language, seed)
    if variation is None or not (variation.text or "").strip():
        return None
    filled = slots or {}
    text = _PLACEHOLDER.sub(lambda m: str(filled.get(m.group(1), "")), variation.text or "")
    return Outgoing(re.sub(r"[ \t]{2,}", " ", text).strip(), tuple(variation.buttons))


def pick_variation(response: Response, channel: str, language: Language, seed: int = 0) -> ResponseVariation | None:
    """Rasa's choice (conditions, then channel), with the other language as a last resort."""
    for slots in ({"language": language}, {"language": "en" if language == "zh" else "zh"}):
        candidates = response.candidates(channel, slots)
        if candidates:
            return candidates[seed % len(candidates)]
    channel_only = [v for v in response.variations if v.channel in (None, channel)]
    return channel_only[seed % len(channel_only)] if channel_only else None


def article_answer(article: ArticleHint, language: Language, link_base: str = "") -> Outgoing:
    """An answer pointing at a help article: title, the snippet that matched, and the link."""
    link = f"{link_base.rstrip('/')}/help/articles/{quote(article.slug)}"
    parts = [ARTICLE_INTRO[language], article.title]
    if article.snippet.strip():
        parts.append(article.snippet.strip())
    parts.append(link)
    return Outgoing("\n".join(parts), ARTICLE_BUTTONS[language])


def _say(content: BotContent | None, name: str, turn: Turn) -> Outgoing | None:
    response = content.response(name) if content is not None else None
    return render_response(response, turn.channel, turn.language, turn.seed) if response is not None else None


def _remember(turn: Turn, kind: str, buttons: tuple[Button, ...], *, intent: str | None = None,
              articles: tuple[str, ...] = ()) -> Memory:
    # a confident answer ends an unsure streak; the buttons just offered replace older ones
    return Memory(unsure_streak=0, offered=buttons, last_kind=kind, last_intent=intent, last_articles=articles,
                  language=turn.language, turns=turn.memory.turns + 1)


def _strong_complaint(mood: Mood, config: PolicyConfig) -> bool:
    return mood.is_complaint and (
        mood.severity in ("medium", "high") or mood.probability >= config.complaint_min_probability
    )


def _with_threshold(understanding: Understanding, config: PolicyConfig) -> Understanding:
    if config.intent_threshold is None:
        return understanding
    return replace(understanding, threshold=config.intent_threshold)


def _best_article(articles: Sequence[ArticleHint], config: PolicyConfig) -> ArticleHint | None:
    best = max(articles, key=lambda a: a.score, default=None)
    return best if best is not None and best.score >= config.kb_min_score else None


def _seen(understanding: Understanding, tried: list[dict[str, Any]]) -> dict[str, Any]:
    """What the agent is shown of the bot's reading: best intents, entities, articles tried."""
    top = understanding.top
    return {
        "intent": top.name if top else None,
        "confidence": round(top.confidence, 3) if top else None,
        "ranking": [{"name": g.name, "confidence": round(g.confidence, 3)} for g in understanding.ranking[:3]],
        "entities": [{"entity": e.entity, "value": e.value} for e in understanding.entities],
        "articles": tried,
    }
