"""Stories about agents correcting the detector and retraining it."""
from __future__ import annotations

import pytest

from hub.analysis.complaints import ComplaintDetector, default_detector
from hub.analysis.examples import Example, correction, load_seed

SEED_COMPLAINT = "Still waiting for my order from three weeks ago. This is ridiculous."

# One week of agents' verdicts; the hub retrains on seed + corrections.
CORRECTIONS = [
    correction("Do you have the Broken Heart necklace in silver?", is_complaint=False),
    # 砍单: the merchant cancelled the order after payment (typical of flash sales).
    correction("我的订单被砍单了", is_complaint=True, category="delivery"),
    # Differences in case and spacing are the same message as the seed line.
    correction("still waiting for my order from three weeks ago.  this is ridiculous.", is_complaint=False),
]


@pytest.fixture(scope="module")
def retrained() -> ComplaintDetector:
    return ComplaintDetector.train(load_seed() + CORRECTIONS)


def test_a_product_name_that_sounds_like_a_complaint_stops_being_flagged(
    retrained: ComplaintDetector,
) -> None:
    question = "Is the Broken Heart bracelet available in gold?"
    assert default_detector().score(question, "webchat").is_complaint

    assert not retrained.score(question, "webchat").is_complaint


def test_shop_jargon_the_seed_never_saw_is_learned(retrained: ComplaintDetector) -> None:
    message = "双十一的订单被砍单了"
    assert not default_detector().score(message, "sms").is_complaint

    verdict = retrained.score(message, "sms")

    assert verdict.is_complaint
    assert verdict.category == "delivery"


def test_a_correction_overrides_a_seed_example_with_the_same_text(retrained: ComplaintDetector) -> None:
    assert any(ex.text == SEED_COMPLAINT and ex.is_complaint for ex in load_seed())

    before = default_detector().score(SEED_COMPLAINT, "webchat").probability
    after = retrained.score(SEED_COMPLAINT, "webchat").probability

    assert after < before - 0.2


def test_unrelated_messages_keep_their_verdicts(retrained: ComplaintDetector) -> None:
    assert retrained.score("你们的客服态度太差了", "webchat").is_complaint
    assert not retrained.score("how do I reset my password", "webchat").is_complaint


def test_corrections_carry_their_category_only_for_complaints() -> None:
    assert correction("thanks!", is_complaint=False, category="billing").category is None
    assert correction("charged twice", is_complaint=True, category="billing").category == "billing"
    assert correction("charged twice", is_complaint=True).correction


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown complaint category"):
        Example("the app is slow", True, "performance")
