"""Content lint for the designer: conflicting, duplicate and too few examples, missing responses (pure)."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from typing import Any

from bots.content import BotContent
from bots.policy import FALLBACK_INTENTS, HANDOFF_INTENTS

# Fewer examples than this and the held-out folds barely see the intent; five also matches the
# classifier's fold count, so every fold can hold one example of each intent.
MIN_EXAMPLES = 5

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_BUTTON_INTENT = re.compile(r"^/([^\s{/]+)")


def normalize(text: str) -> str:
    """What makes two examples "the same text": NFKC, casefold, one space, no punctuation at the ends."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _EDGE_PUNCT.sub("", _SPACE.sub(" ", folded).strip())


def lint(content: BotContent, min_examples: int = MIN_EXAMPLES) -> dict[str, Any]:
    """Every finding, grouped by kind; an empty list means nothing to fix of that kind."""
    where: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for intent in content.intents:
        for example in intent.examples:
            where[normalize(example.text)][intent.name].append(example.text)
    conflicts = [
        {"text": next(iter(by_intent.values()))[0], "intents": sorted(by_intent)}
        for by_intent in where.values() if len(by_intent) > 1
    ]
    duplicates = [
        {"intent": name, "text": texts[0], "count": len(texts)}
        for by_intent in where.values() for name, texts in by_intent.items() if len(texts) > 1
    ]
    few = [
        {"intent": i.name, "examples": len(i.examples), "minimum": min_examples}
        for i in content.intents if len(i.examples) < min_examples
    ]
    return {
        "min_examples": min_examples,
        "conflicting_examples": conflicts,
        "duplicate_examples": duplicates,
        "too_few_examples": few,
        "missing_responses": _missing_responses(content),
        "unknown_button_intents": _unknown_button_intents(content),
    }


def _missing_responses(content: BotContent) -> list[dict[str, str]]:
    """Intents the policy would answer with `utter_<intent>` that has no such response."""
    # fallback intents are never answered and hand-off intents hand off, so they need no response
    silent = FALLBACK_INTENTS | HANDOFF_INTENTS
    return [
        {"intent": i.name, "response": f"utter_{i.name}"}
        for i in content.intents
        if i.name not in silent and content.response(f"utter_{i.name}") is None
    ]


def _unknown_button_intents(content: BotContent) -> list[dict[str, str]]:
    """Buttons whose `/intent` payload names an intent the content does not have."""
    known = {i.name for i in content.intents} | HANDOFF_INTENTS
    found = []
    for response in content.responses:
        for variation in response.variations:
            for button in variation.buttons:
                match = _BUTTON_INTENT.match(button.payload)
                if match and match.group(1) not in known:
                    found.append({"response": response.name, "button": button.title, "intent": match.group(1)})
    return found
