"""Edits of the designer's draft content, one intent or response at a time (pure: content in, content out)."""
from __future__ import annotations

from dataclasses import replace

from bots.content import BotContent, ContentError, Example, Intent, Response
from bots.lint import normalize

OUT_OF_SCOPE_NAMES = ("out_of_scope", "nlu_fallback")


class MissingItem(LookupError):
    """An edit names an intent or response the draft does not have."""


def replace_intent(content: BotContent, name: str, intent: Intent) -> BotContent:
    """Put `intent` where `name` is (a new name renames it), or append it when there is no `name`."""
    intents = list(content.intents)
    index = next((i for i, it in enumerate(intents) if it.name == name), None)
    if intent.name != name and content.nlu.intent(intent.name) is not None:
        raise ContentError(f"$.name: an intent called {intent.name!r} already exists")
    if index is None:
        intents.append(intent)
    else:
        intents[index] = intent
    return replace(content, nlu=replace(content.nlu, intents=tuple(intents)))


def delete_intent(content: BotContent, name: str) -> BotContent:
    """The content without the intent called `name`."""
    if content.nlu.intent(name) is None:
        raise MissingItem(f"the draft has no intent {name!r}")
    intents = tuple(i for i in content.intents if i.name != name)
    return replace(content, nlu=replace(content.nlu, intents=intents))


def replace_response(content: BotContent, name: str, response: Response) -> BotContent:
    """Put `response` where `name` is (a new name renames it), or append it."""
    responses = list(content.responses)
    index = next((i for i, r in enumerate(responses) if r.name == name), None)
    if response.name != name and content.response(response.name) is not None:
        raise ContentError(f"$.name: a response called {response.name!r} already exists")
    if index is None:
        responses.append(response)
    else:
        responses[index] = response
    return replace(content, responses=tuple(responses))


def delete_response(content: BotContent, name: str) -> BotContent:
    """The content without the response called `name`."""
    if content.response(name) is None:
        raise MissingItem(f"the draft has no response {name!r}")
    return replace(content, responses=tuple(r for r in content.responses if r.name != name))


def add_example(content: BotContent, intent_name: str, text: str, *, create: bool = False) -> BotContent:
    """The content with `text` as an example of `intent_name` (not twice); a new intent only with `create`."""
    intent = content.nlu.intent(intent_name)
    if intent is None:
        if not create:
            raise MissingItem(f"the draft has no intent {intent_name!r} (send \"create\": true to add it)")
        intent = Intent(intent_name)
    if any(normalize(e.text) == normalize(text) for e in intent.examples):
        return content
    grown = replace(intent, examples=(*intent.examples, Example(text)))
    return replace_intent(content, intent_name, grown)


def out_of_scope_name(content: BotContent) -> str:
    """The intent that holds out-of-scope examples: the one the content has, else `out_of_scope` (Rasa's)."""
    return next((n for n in OUT_OF_SCOPE_NAMES if content.nlu.intent(n) is not None), OUT_OF_SCOPE_NAMES[0])
