"""Stories about scoring inbound messages for complaints."""

from __future__ import annotations

import pytest

from hub.analysis.complaints import score_message


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("how do I reset my password", "webchat"),
        ("我的快递什么时候到", "sms"),
        ("Can I pay for my order with Apple Pay?", "whatsapp"),
        ("请问这件衣服有没有M码？", "telegram"),
        ("Not a complaint, just asking: do you deliver on Sundays?", "email"),
        ("refund?", "sms"),
        ("转人工服务", "webchat"),
        ("王经理您好，附件是报价单，请查收。", "email"),
    ],
)
def test_routine_questions_are_not_complaints(text: str, channel: str) -> None:
    verdict = score_message(text, channel)

    assert not verdict.is_complaint
    assert verdict.probability < 0.5
    assert verdict.category is None and verdict.severity is None


def test_a_customer_asking_for_the_third_time_about_a_parcel_is_a_delivery_complaint() -> None:
    verdict = score_message("third time asking, where is my parcel?!", "whatsapp")

    assert verdict.is_complaint
    assert verdict.category == "delivery"
    assert verdict.severity == "medium"
    assert "repeat_contact: third time" in verdict.cues


def test_a_customer_calling_the_service_rude_is_a_service_attitude_complaint() -> None:
    verdict = score_message("你们的客服态度太差了", "webchat")

    assert verdict.is_complaint
    assert verdict.category == "service_attitude"
    assert verdict.probability > 0.8
    assert "negative_emotion: 太差" in verdict.cues


def test_a_threat_to_go_to_the_regulator_makes_a_billing_complaint_high_severity() -> None:
    verdict = score_message("乱扣费，一个月扣了我两次月费，我要投诉到12315", "sms")

    assert verdict.is_complaint
    assert verdict.category == "billing"
    assert verdict.severity == "high"
    assert "regulator: 12315" in verdict.cues


def test_a_threat_to_cancel_with_profanity_is_high_severity() -> None:
    verdict = score_message("This is the worst damn service. I'm cancelling my account today!", "telegram")

    assert verdict.is_complaint
    assert verdict.severity == "high"
    assert {"threat_leave: i'm cancelling", "profanity: damn"} <= set(verdict.cues)


def test_a_plain_polite_complaint_is_low_severity() -> None:
    verdict = score_message("The zip on the bag I bought last week broke the first time I used it.", "email")

    assert verdict.is_complaint
    assert verdict.category == "product_quality"
    assert verdict.severity == "low"


def test_shouting_in_capitals_counts_towards_severity() -> None:
    calm = score_message("Where is my order? I paid two weeks ago and it still has not arrived.", "sms")
    shouted = score_message("WHERE IS MY ORDER? I PAID TWO WEEKS AGO AND IT STILL HAS NOT ARRIVED", "sms")

    assert calm.is_complaint and shouted.is_complaint
    assert any(c.startswith("all_caps:") for c in shouted.cues)
    assert not any(c.startswith("all_caps:") for c in calm.cues)
    assert ["low", "medium", "high"].index(shouted.severity or "low") > ["low", "medium", "high"].index(
        calm.severity or "low"
    )


def test_the_hub_can_say_how_often_the_customer_already_wrote() -> None:
    first = score_message("My refund still has not arrived.", "webchat")
    fourth = score_message("My refund still has not arrived.", "webchat", prior_contacts=3)

    assert first.is_complaint and fourth.is_complaint
    assert "repeat_contact: 3 earlier contacts" in fourth.cues
    assert fourth.severity == "medium"


def test_a_polite_email_reply_is_judged_on_its_own_words_not_on_the_quoted_history() -> None:
    reply = (
        "Thanks Anna, that's all sorted now. Could you send me the invoice as a PDF?\n"
        "\n"
        "On Tue, 4 Mar 2025 at 10:12, Kefu Support <support@example.com> wrote:\n"
        "> Dear Mr Lee, we are sorry to hear about your experience.\n"
        "> > This is the THIRD time you have charged me twice. Unacceptable. I am calling my lawyer!\n"
    )

    verdict = score_message(reply, "email")

    assert not verdict.is_complaint
    assert not any(c.startswith("legal:") for c in verdict.cues)


@pytest.mark.parametrize(
    ("text", "category"),
    [("I would like to make a complaint please", "other"), ("我要投诉你们的快递员", "delivery")],
)
def test_saying_you_want_to_complain_is_a_complaint_and_the_topic_still_decides_the_category(
    text: str, category: str
) -> None:
    verdict = score_message(text, "webchat")

    assert verdict.is_complaint
    assert verdict.category == category
    assert any(cue.startswith("complaint_intent:") for cue in verdict.cues)


def test_mixed_chinese_and_english_is_understood() -> None:
    verdict = score_message("my parcel 十天了还没到，tracking 也不更新，什么情况？", "webchat")

    assert verdict.is_complaint
    assert verdict.category == "delivery"


def test_a_sarcastic_thank_you_is_still_a_complaint() -> None:
    text = "Oh great, another 'delivered' parcel that isn't actually here. Thanks for nothing."

    verdict = score_message(text, "sms")

    assert verdict.is_complaint
    assert any(cue.startswith("sarcasm:") for cue in verdict.cues)
