"""The policy's decisions on hand-made turns: no engine, no database, no network."""
from __future__ import annotations

from bots.content import BotContent, Response, ResponseVariation
from bots.policy import (
    ArticleHint,
    IntentGuess,
    Memory,
    Mood,
    PolicyConfig,
    Turn,
    Understanding,
    asks_for_human,
    decide,
    detect_language,
    read_message,
    says_not_helpful,
    screen,
)
from channels.base import Button

ZH = {"type": "slot", "name": "language", "value": "zh"}
EN = {"type": "slot", "name": "language", "value": "en"}
CONTENT = BotContent(responses=(
    Response("utter_opening_hours", (
        ResponseVariation("每天 9:00-21:00", conditions=(ZH,)),
        ResponseVariation("Daily 9:00-21:00", conditions=(EN,)),
        ResponseVariation("9-21", channel="sms", conditions=(ZH,)),
    )),
    Response("utter_greet", (ResponseVariation("您好", buttons=(Button("订单", "/order_status"),
                                                                 Button("退款", "/refund_policy"))),)),
    Response("utter_order_status", (ResponseVariation("订单 {order_id} 已发货"),)),
))


def sure(name: str, confidence: float = 0.9) -> Understanding:
    return Understanding((IntentGuess(name, confidence), IntentGuess("greet", 0.05)), threshold=0.5)


def test_words_for_a_person_in_both_languages() -> None:
    for text in ("转人工", "我要人工客服", "找真人客服", "I want a human", "can I talk to a person?", "AGENT please",
                 "speak with someone"):
        assert asks_for_human(text), text
    for text in ("你们是人工智能吗", "my order has not arrived", "where is the agenda"):
        assert asks_for_human(text) is None, text


def test_words_for_no_help() -> None:
    for text in ("没用", "这个没有帮助", "That didn't help", "that did not help at all", "not helpful", "useless"):
        assert says_not_helpful(text), text
    assert says_not_helpful("谢谢，很有帮助") is None and says_not_helpful("that helps, thanks") is None


def test_language_follows_the_message_or_the_conversation() -> None:
    assert detect_language("你们几点营业？") == "zh" and detect_language("when are you open?") == "en"
    assert detect_language("2", "en") == "en" and detect_language("iPhone15怎么退款") == "zh"


def test_a_number_or_a_title_picks_the_offered_button() -> None:
    memory = Memory(offered=(Button("订单", "/order_status"), Button("退款", "/refund_policy")))
    assert read_message("2", memory, ["refund_policy"]).forced_intent == "refund_policy"
    assert read_message("（1）", memory, ["order_status"]).forced_intent == "order_status"
    assert read_message("退款", memory, ["refund_policy"]).forced_intent == "refund_policy"
    assert read_message("3", memory).forced_intent is None and read_message("3", memory).text == "3"


def test_the_answer_uses_the_channel_and_language_variant_and_remembers_buttons() -> None:
    turn = Turn("你们几点营业", "sms")
    decision = decide(turn, read_message(turn.text, turn.memory), sure("opening_hours"), (), CONTENT)
    assert decision.action == "reply" and decision.messages[0].text == "9-21"
    turn = Turn("when are you open", "webchat")
    assert decide(turn, read_message(turn.text, turn.memory), sure("opening_hours"), (), CONTENT).messages[0].text \
        == "Daily 9:00-21:00"
    greeted = decide(Turn("你好", "webchat"), read_message("你好", Memory()), sure("greet"), (), CONTENT)
    assert greeted.memory.offered == (Button("订单", "/order_status"), Button("退款", "/refund_policy"))


def test_placeholders_take_entities_and_missing_ones_vanish() -> None:
    from bots.policy import EntityFound

    found = Understanding((IntentGuess("order_status", 0.9),), (EntityFound("order_id", "A1234567"),), 0.5)
    turn = Turn("订单A1234567到哪了", "webchat")
    assert decide(turn, read_message(turn.text, turn.memory), found, (), CONTENT).messages[0].text == \
        "订单 A1234567 已发货"
    assert decide(turn, read_message(turn.text, turn.memory), sure("order_status"), (), CONTENT).messages[0].text == \
        "订单 已发货"


def test_unsure_asks_to_rephrase_then_hands_off_with_articles_tried() -> None:
    vague = Understanding((IntentGuess("greet", 0.2),), threshold=0.5)
    weak = [ArticleHint("gift-cards", "Gift cards", 0.4)]
    first = decide(Turn("hmm", "webchat"), read_message("hmm", Memory()), vague, weak, CONTENT)
    assert first.action == "reply" and first.memory.unsure_streak == 1
    second = decide(Turn("hmm?", "webchat", first.memory), read_message("hmm?", first.memory), vague, weak, CONTENT)
    assert second.action == "handoff" and second.reason == "unsure"
    assert second.details["articles"] == [{"slug": "gift-cards", "title": "Gift cards", "score": 0.4}]
    # a confident answer in between ends the streak
    answered = decide(Turn("hi", "webchat", first.memory), read_message("hi", first.memory), sure("greet"), (),
                      CONTENT)
    assert answered.memory.unsure_streak == 0


def test_an_article_answers_when_no_intent_is_sure() -> None:
    vague = Understanding((IntentGuess("greet", 0.2),), threshold=0.5)
    article = ArticleHint("退款政策", "Refunds", 6.0, "Refunds take 5 days.")
    decision = decide(Turn("refund for broken tv?", "webchat"), read_message("x", Memory()), vague, [article], CONTENT,
                      PolicyConfig(link_base="https://help.example.com/"))
    assert decision.messages[0].text.splitlines()[-1] == \
        "https://help.example.com/help/articles/%E9%80%80%E6%AC%BE%E6%94%BF%E7%AD%96"
    assert decision.memory.last_articles == ("退款政策",)


def test_screening_order_key_account_first_then_person_then_no_help_then_complaint() -> None:
    angry = Mood(True, 0.95, "delivery", "high", ("profanity: 垃圾",))
    mild = Mood(True, 0.55, "product_quality", "low")
    reading = read_message("转人工", Memory())
    assert screen(Turn("转人工", "webchat", tier="key"), reading, angry).reason == "key_account"  # type: ignore[union-attr]
    assert screen(Turn("转人工", "webchat"), reading, angry).reason == "asked_for_human"  # type: ignore[union-attr]
    assert screen(Turn("没用", "webchat"), read_message("没用", Memory()), angry).reason == "not_helpful"  # type: ignore[union-attr]
    text = "垃圾服务"
    assert screen(Turn(text, "webchat"), read_message(text, Memory()), angry).reason == "complaint"  # type: ignore[union-attr]
    assert screen(Turn("手机坏了", "webchat"), read_message("手机坏了", Memory()), mild) is None
    assert screen(Turn(text, "webchat"), read_message(text, Memory()), angry,
                  config=PolicyConfig(handoff_on_complaint=False)) is None


def test_a_handoff_intent_from_any_engine_hands_off() -> None:
    turn = Turn("帮我接通", "webchat")
    decision = decide(turn, read_message(turn.text, turn.memory), sure("转人工"), (), CONTENT)
    assert decision.action == "handoff" and decision.reason == "asked_for_human"
    assert decision.handoff_reason == "asked_for_human: the customer asked for a person (intent 转人工)"
