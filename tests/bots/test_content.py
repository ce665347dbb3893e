"""A bot designer's content: annotated examples, responses picked per channel, Kefu's JSON export."""
from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.content import (
    BotContent,
    ContentError,
    EntitySpan,
    EntityType,
    Example,
    Intent,
    LookupTable,
    NluData,
    RegexFeature,
    Response,
    ResponseVariation,
    Synonym,
    content_from_json,
    content_to_json,
    dumps_content,
    loads_content,
)
from channels.base import Button

# --- generators shared with the Rasa format tests ----------------------------------------------------

# words people type in English and Chinese, without the characters Rasa's markup gives meaning to
WORD_CHARS = string.ascii_letters + string.digits + ",.?!'-_/&%$#@" + "你好订单退款查询人工客服上海北京耳机，。？！"
ANY_TEXT = st.characters(exclude_categories=("Cs",))

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(WORD_CHARS, max_size=6)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(string.ascii_lowercase, min_size=1,
                                                                        max_size=4), inner, max_size=2),
    max_leaves=4,
)


def names(alphabet: str = string.ascii_lowercase + "_中文") -> st.SearchStrategy[str]:
    """Non-empty identifiers."""
    return st.text(alphabet, min_size=1, max_size=8)


def sentences(separators: str = " ") -> st.SearchStrategy[str]:
    """Words joined by single separators: trimmed, non-empty, everyday text."""
    words = st.lists(st.text(WORD_CHARS, min_size=1, max_size=6), min_size=1, max_size=4)
    return st.tuples(words, st.sampled_from(separators)).map(lambda ws: ws[1].join(ws[0]))


@st.composite
def examples(draw: st.DrawFn, everyday: bool = True) -> Example:
    """An annotated example: non-overlapping spans, sometimes two entities on one span, sometimes metadata."""
    if everyday:
        text = draw(sentences(" " * 5 + "\n"))
        value = sentences()
    else:
        text = draw(st.text(ANY_TEXT, min_size=1, max_size=20).filter(str.strip))
        value = st.text(ANY_TEXT, min_size=1, max_size=8)
    count = draw(st.integers(0, min(2, (len(text) + 1) // 2)))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), min_size=2 * count, max_size=2 * count, unique=True)))
    spans = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        for _ in range(draw(st.sampled_from([1, 1, 1, 2]))):
            spans.append(EntitySpan(
                start, end, draw(names()), draw(st.none() | value), draw(st.none() | names()),
                draw(st.none() | names()),
            ))
    return Example(text, tuple(spans), draw(st.none() | json_values))


@st.composite
def nlu_data(draw: st.DrawFn, everyday: bool = True) -> NluData:
    """Intents, synonyms, regexes and lookup tables with unique names."""
    intents = tuple(
        Intent(name, tuple(draw(st.lists(examples(everyday), max_size=3))), draw(st.none() | json_values))
        for name in draw(st.lists(names(), max_size=3, unique=True))
    )

    def named(cls: Any) -> tuple[Any, ...]:
        return tuple(cls(name, tuple(draw(st.lists(sentences(), max_size=2))))
                     for name in draw(st.lists(names(), max_size=2, unique=True)))

    return NluData(intents, named(Synonym), named(RegexFeature), named(LookupTable))


conditions = st.lists(
    st.fixed_dictionaries({"type": st.just("slot"), "name": names(), "value": json_scalars}), max_size=2
)


@st.composite
def variations(draw: st.DrawFn, text: Any = st.text(ANY_TEXT, max_size=20)) -> ResponseVariation:
    """A response variation with any mix of text, buttons, image, custom payload, channel and conditions."""
    custom = draw(st.none() | st.dictionaries(names(), json_values, min_size=1, max_size=2))
    body = draw(text | st.none()) if custom else draw(text)
    return ResponseVariation(
        text=body,
        buttons=tuple(draw(st.lists(st.builds(Button, sentences(), st.text(ANY_TEXT, max_size=10)), max_size=2))),
        image=draw(st.none() | st.just("https://example.com/a.png")),
        custom=custom,
        channel=draw(st.none() | st.sampled_from(["telegram", "webchat", "sms"])),
        conditions=tuple(draw(conditions)),
        extra=draw(st.dictionaries(st.sampled_from(["id", "metadata", "button_type"]), json_values, max_size=2)),
    )


responses = st.lists(names(), max_size=3, unique=True).flatmap(
    lambda ns: st.tuples(*[st.builds(Response, st.just(n), st.lists(variations(), min_size=1, max_size=2).map(tuple))
                           for n in ns])
)
entity_types = st.lists(names(), max_size=3, unique=True).flatmap(
    lambda ns: st.tuples(*[st.builds(EntityType, st.just(n), st.lists(names(), max_size=2).map(tuple),
                                     st.lists(names(), max_size=2).map(tuple)) for n in ns])
)
bot_contents = st.builds(BotContent, nlu_data(), entity_types, responses)


# --- the model --------------------------------------------------------------------------------------


def test_an_annotated_entity_means_the_words_it_covers_unless_told_otherwise() -> None:
    example = Example("fly from LA to Paris", (EntitySpan(15, 20, "city"), EntitySpan(9, 11, "city", "Los Angeles",
                                                                                        role="from")))
    # reading order, whatever order the designer clicked in
    assert [example.covered(s) for s in example.entities] == ["LA", "Paris"]
    assert [s.value for s in example.entities] == ["Los Angeles", "Paris"]
    assert example.entities[0].role == "from"


def test_two_entities_on_the_same_words_keep_the_order_they_were_annotated_in() -> None:
    example = Example("Rasa rocks", (EntitySpan(0, 4, "product"), EntitySpan(0, 4, "org")))
    assert [s.entity for s in example.entities] == ["product", "org"]


@pytest.mark.parametrize(
    ("text", "span", "complaint"),
    [
        ("hello", EntitySpan(3, 9, "x"), "outside"),
        ("hello", EntitySpan(2, 2, "x"), "outside"),
        ("hello", EntitySpan(0, 2, " "), "entity name"),
        ("   ", None, "non-empty"),
    ],
)
def test_examples_that_make_no_sense_are_refused(text: str, span: EntitySpan | None, complaint: str) -> None:
    with pytest.raises(ContentError, match=complaint):
        Example(text, (span,) if span else ())


def test_training_pairs_are_plain_text_with_their_intent() -> None:
    nlu = NluData((
        Intent("greet", (Example("hi"), Example("你好"))),
        Intent("refund", (Example("refund my toaster", (EntitySpan(10, 17, "product"),)),)),
    ))
    assert nlu.training_pairs() == [("hi", "greet"), ("你好", "greet"), ("refund my toaster", "refund")]
    assert nlu.entity_names() == ("product",)


def test_synonyms_come_from_lists_and_from_annotated_values() -> None:
    nlu = NluData(
        intents=(Intent("balance", (Example("my credit card account", (EntitySpan(3, 22, "account", "credit"),)),)),),
        synonyms=(Synonym("蓝牙耳机", ("无线耳机", "耳麦")),),
    )
    assert nlu.synonym_map() == {"credit card account": "credit", "无线耳机": "蓝牙耳机", "耳麦": "蓝牙耳机"}


def test_two_files_for_one_bot_merge_by_name() -> None:
    first = NluData((Intent("greet", (Example("hi"),)),), regex_features=(RegexFeature("zip", ("[0-9]{5}",)),))
    second = NluData((Intent("greet", (Example("hello"),)), Intent("bye", (Example("bye"),))),
                     regex_features=(RegexFeature("zip", ("[0-9]{5}-[0-9]{4}",)),))
    merged = first.merged(second)
    assert merged.training_pairs() == [("hi", "greet"), ("hello", "greet"), ("bye", "bye")]
    assert merged.regex_features == (RegexFeature("zip", ("[0-9]{5}", "[0-9]{5}-[0-9]{4}")),)
    with pytest.raises(ContentError, match="different metadata"):
        NluData((Intent("greet", metadata={"a": 1}),)).merged(NluData((Intent("greet", metadata={"a": 2}),)))


def test_response_variations_are_picked_by_condition_then_channel_then_default() -> None:
    logged_in = {"type": "slot", "name": "logged_in", "value": True}
    welcome_back = ResponseVariation("Welcome back!", conditions=(logged_in,))
    on_telegram = ResponseVariation("Hi from Telegram", channel="telegram")
    anywhere = ResponseVariation("Hi!")
    greet = Response("utter_greet", (welcome_back, on_telegram, anywhere))

    assert greet.candidates("telegram", {"logged_in": True}) == (welcome_back,)
    assert greet.candidates("telegram", {"logged_in": False}) == (on_telegram,)
    assert greet.candidates("webchat") == (anywhere,)
    assert greet.candidates(None) == (anywhere,)


def test_a_response_needs_something_to_say() -> None:
    with pytest.raises(ContentError, match="text or a custom"):
        ResponseVariation(buttons=(Button("Yes", "/affirm"),))
    with pytest.raises(ContentError, match="no variations"):
        Response("utter_nothing", ())


def test_a_bot_cannot_have_two_intents_with_one_name() -> None:
    with pytest.raises(ContentError, match="repeated: greet"):
        BotContent(NluData((Intent("greet"), Intent("greet"))))


# --- Kefu's JSON form -------------------------------------------------------------------------------


def _shop_bot() -> BotContent:
    return BotContent(
        nlu=NluData(
            intents=(
                Intent("查询订单", (Example("我的订单A1234567到哪了", (EntitySpan(4, 12, "订单号"),)),)),
                Intent("refund", (Example("refund the ear buds",
                                          (EntitySpan(11, 19, "product", "wireless headphones"),),
                                          metadata={"sentiment": "negative"}),), metadata={"priority": "high"}),
            ),
            synonyms=(Synonym("wireless headphones", ("airpods",)),),
            regex_features=(RegexFeature("订单号", (r"[A-Z]\d{7}",)),),
            lookup_tables=(LookupTable("city", ("Berlin", "上海")),),
        ),
        entities=(EntityType("订单号"), EntityType("city", roles=("from", "to"))),
        responses=(Response("utter_refund", (
            ResponseVariation("退款将在 5-7 个工作日内原路返回。", buttons=(Button("转人工", "/转人工"),),
                              image="https://example.com/r.png"),
            ResponseVariation(custom={"blocks": [{"type": "section"}]}, channel="slack", extra={"id": "r2"}),
        )),),
    )


def test_the_json_export_reads_back_as_the_same_bot() -> None:
    bot = _shop_bot()
    text = dumps_content(bot)
    assert '"format": "kefu-bot"' in text and "查询订单" in text  # Chinese stays readable in the file
    assert loads_content(text) == bot


@settings(max_examples=40, deadline=None)
@given(bot_contents)
def test_any_bot_survives_the_json_export(bot: BotContent) -> None:
    assert content_from_json(json.loads(json.dumps(content_to_json(bot)))) == bot


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda d: d.update(format="rasa"), r"\$\.format: expected 'kefu-bot'"),
        (lambda d: d.update(version=2), r"\$\.version: this Kefu reads version 1"),
        (lambda d: d["intents"][0]["examples"][0]["entities"][0].update(end=99),
         r"\$\.intents\[0\]\.examples\[0\]: entity span 4\.\.99 lies outside"),
        (lambda d: d["intents"][1].update(name=""), r"\$\.intents\[1\]: intent name must be a non-empty string"),
        (lambda d: d["responses"][0]["variations"][0]["buttons"][0].pop("payload"),
         r"\$\.responses\[0\]\.variations\[0\]\.buttons\[0\]: missing key\(s\) 'payload'"),
        (lambda d: d["entities"].append({"name": "city"}), r"entity names must be unique, repeated: city"),
        (lambda d: d.update(intent=[]), r"\$: unknown key\(s\) 'intent'"),
    ],
)
def test_a_broken_json_export_says_where_it_is_broken(change: Any, complaint: str) -> None:
    data = content_to_json(_shop_bot())
    change(data)
    with pytest.raises(ContentError, match=complaint):
        content_from_json(data)


def test_text_that_is_not_json_is_reported_with_its_position() -> None:
    with pytest.raises(ContentError, match="line 1, column 2"):
        loads_content("{oops}")
