"""Which bot decisions go to the designer's review inbox, with which reason and which text (pure)."""
from __future__ import annotations

from bots import policy
from bots.policy import Decision, Memory, Outgoing
from bots.review_store import ReviewCause, review_cause


def decision(action: str, reason: str | None = None, **details: object) -> Decision:
    return Decision(action, (Outgoing("..."),), Memory(), reason, None, details)  # type: ignore[arg-type]


def test_answers_by_intent_are_not_reviewed() -> None:
    assert review_cause(decision("reply", answered_by="intent", intent="greet", confidence=0.9)) is None
    assert review_cause(decision("reply", answered_by="rasa")) is None


def test_unsure_turns_and_article_fallbacks_keep_the_message_and_the_guess() -> None:
    assert review_cause(decision("reply", answered_by="rephrase", intent="out_of_scope", confidence=0.4)) == \
        ReviewCause("unsure", False, "out_of_scope", 0.4)
    assert review_cause(decision("reply", answered_by="article", intent="invoice", confidence=0.3)) == \
        ReviewCause("kb_fallback", False, "invoice", 0.3)
    assert review_cause(decision("handoff", policy.UNSURE, intent="greet", confidence=0.2)) == \
        ReviewCause("unsure", False, "greet", 0.2)


def test_did_not_help_and_asking_for_a_person_review_the_question_before() -> None:
    assert review_cause(decision("handoff", policy.NOT_HELPFUL, last_intent="refund_policy")) == \
        ReviewCause("did_not_help", True, "refund_policy", None)
    assert review_cause(decision("handoff", policy.ASKED_FOR_HUMAN, words="转人工")) == \
        ReviewCause("handed_off", True, None, None)
    assert review_cause(decision("handoff", policy.COMPLAINT, intent="order_status", confidence=0.7)) == \
        ReviewCause("handed_off", False, "order_status", 0.7)


def test_hand_offs_content_cannot_fix_are_not_reviewed() -> None:
    for reason in (policy.KEY_ACCOUNT, policy.ENGINE_FAILED, policy.NOT_READY):
        assert review_cause(decision("handoff", reason)) is None
