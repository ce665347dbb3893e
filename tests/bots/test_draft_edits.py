"""Draft edits one intent or response at a time, and review examples landing in the draft (pure)."""
from __future__ import annotations

import pytest

from bots.content import BotContent, ContentError, Example, Intent, NluData, Response, ResponseVariation
from bots.draft import (
    MissingItem,
    add_example,
    delete_intent,
    delete_response,
    out_of_scope_name,
    replace_intent,
    replace_response,
)


def bot(*names: str) -> BotContent:
    return BotContent(NluData(intents=tuple(Intent(n, (Example(f"{n} example"),)) for n in names)),
                      responses=(Response("utter_a", (ResponseVariation("A"),)),))


def test_replace_keeps_the_place_renames_and_appends() -> None:
    edited = replace_intent(bot("a", "b", "c"), "b", Intent("b2", (Example("x"),)))
    assert [i.name for i in edited.intents] == ["a", "b2", "c"]
    assert edited.nlu.intent("b2") == Intent("b2", (Example("x"),))
    assert [i.name for i in replace_intent(bot("a"), "new", Intent("new")).intents] == ["a", "new"]
    with pytest.raises(ContentError, match="already exists"):
        replace_intent(bot("a", "b"), "a", Intent("b"))


def test_delete_needs_the_item() -> None:
    assert [i.name for i in delete_intent(bot("a", "b"), "a").intents] == ["b"]
    with pytest.raises(MissingItem):
        delete_intent(bot("a"), "zz")
    assert delete_response(bot("a"), "utter_a").responses == ()
    with pytest.raises(MissingItem):
        delete_response(bot("a"), "utter_zz")
    renamed = replace_response(bot("a"), "utter_a", Response("utter_b", (ResponseVariation("B"),)))
    assert [r.name for r in renamed.responses] == ["utter_b"]


def test_add_example_never_creates_silently_and_never_twice() -> None:
    grown = add_example(bot("a", "b"), "b", "where is my parcel")
    assert [e.text for e in grown.nlu.intent("b").examples] == ["b example", "where is my parcel"]  # type: ignore[union-attr]
    assert add_example(grown, "b", "Where is my parcel?") == grown  # the same text, normalised
    with pytest.raises(MissingItem, match="create"):
        add_example(bot("a"), "refund", "money back")
    created = add_example(bot("a"), "refund", "money back", create=True)
    assert created.nlu.intent("refund") == Intent("refund", (Example("money back"),))


def test_out_of_scope_examples_go_where_the_content_keeps_them() -> None:
    assert out_of_scope_name(bot("a")) == "out_of_scope"
    assert out_of_scope_name(bot("a", "nlu_fallback")) == "nlu_fallback"
    assert out_of_scope_name(bot("out_of_scope", "nlu_fallback")) == "out_of_scope"
