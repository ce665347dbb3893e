"""Content lint: the same text under two intents, repeated examples, thin intents, missing responses."""
from __future__ import annotations

from bots.content import BotContent, Example, Intent, NluData, Response, ResponseVariation
from bots.lint import MIN_EXAMPLES, lint, normalize
from bots.starter import load_starter
from channels.base import Button


def content(intents: dict[str, list[str]], responses: tuple[Response, ...] = ()) -> BotContent:
    return BotContent(NluData(intents=tuple(Intent(n, tuple(Example(t) for t in ts)) for n, ts in intents.items())),
                      responses=responses)


def say(name: str, text: str = "ok", buttons: tuple[Button, ...] = ()) -> Response:
    return Response(name, (ResponseVariation(text, buttons),))


def test_normalize_folds_width_case_spaces_and_edge_punctuation() -> None:
    assert normalize("  Where is  my ORDER?! ") == normalize("where is my order") == "where is my order"
    assert normalize("我的订单在哪？") == normalize("我的订单在哪") and normalize("ＡＢＣ") == "abc"
    assert normalize("a.b") == "a.b"  # only the ends lose punctuation


def test_the_starter_bot_is_clean() -> None:
    found = lint(load_starter())
    assert found["conflicting_examples"] == [] and found["duplicate_examples"] == []
    assert found["too_few_examples"] == [] and found["missing_responses"] == []
    assert found["unknown_button_intents"] == []


def test_findings_name_the_intents_and_texts() -> None:
    bot = content(
        {
            "order_status": ["Where is my order?", "where is my order", "track my parcel", "order status", "物流",
                             "包裹到哪了"],
            "refund": ["where is my order", "refund please"],
            "ask_human": ["human"],
            "out_of_scope": ["weather"],
        },
        (say("utter_order_status", buttons=(Button("Refund", "/refund"), Button("Gift", "/gift_card"))),),
    )
    found = lint(bot)
    assert found["conflicting_examples"] == [{"text": "Where is my order?", "intents": ["order_status", "refund"]}]
    assert found["duplicate_examples"] == [{"intent": "order_status", "text": "Where is my order?", "count": 2}]
    assert [f["intent"] for f in found["too_few_examples"]] == ["refund", "ask_human", "out_of_scope"]
    assert found["too_few_examples"][0] == {"intent": "refund", "examples": 2, "minimum": MIN_EXAMPLES}
    # hand-off and fallback intents are never answered with utter_<intent>
    assert found["missing_responses"] == [{"intent": "refund", "response": "utter_refund"}]
    assert found["unknown_button_intents"] == [
        {"response": "utter_order_status", "button": "Gift", "intent": "gift_card"}]
    assert lint(bot, min_examples=1)["too_few_examples"] == []
