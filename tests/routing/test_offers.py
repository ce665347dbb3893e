"""Stories about offers that ring out and agents who keep missing them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.routing.model import AgentState, Offer, Presence, QueueConfig
from hub.routing.offers import MissedOffers, count_misses, expire_offers, withdraw_offers

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
QUEUES = {1: QueueConfig(id=1, max_missed_offers=3), 2: QueueConfig(id=2, max_missed_offers=2)}


def offer(conv_id: int, agent_id: int, expires_in: float, queue_id: int = 1) -> Offer:
    at = NOW + timedelta(seconds=expires_in)
    return Offer(conv_id, agent_id, queue_id, "chat", at - timedelta(seconds=30), at)


def test_an_offer_expires_when_its_time_is_up_and_not_a_moment_before() -> None:
    offers = [offer(1, 7, -5), offer(2, 7, 0), offer(3, 7, 0.5)]
    assert [o.conversation_id for o in expire_offers(offers, NOW)] == [1, 2]


def test_the_third_miss_in_a_row_sends_an_agent_away() -> None:
    agents = {7: AgentState(7, Presence.AVAILABLE, missed_offers_in_a_row=2)}
    assert count_misses([offer(1, 7, -1)], agents, QUEUES) == [MissedOffers(7, 3, set_away=True)]


def test_fewer_misses_only_lengthen_the_streak() -> None:
    agents = {7: AgentState(7, Presence.AVAILABLE, missed_offers_in_a_row=0)}
    assert count_misses([offer(1, 7, -1)], agents, QUEUES) == [MissedOffers(7, 1, set_away=False)]


def test_the_strictest_queue_among_the_missed_offers_sets_the_limit() -> None:
    agents = {7: AgentState(7, Presence.AVAILABLE)}
    missed = [offer(1, 7, -1, queue_id=1), offer(2, 7, -1, queue_id=2)]
    assert count_misses(missed, agents, QUEUES) == [MissedOffers(7, 2, set_away=True)]


def test_an_agent_already_away_is_not_set_away_again_and_zero_disables_the_rule() -> None:
    away = {7: AgentState(7, Presence.AWAY, missed_offers_in_a_row=5)}
    assert count_misses([offer(1, 7, -1)], away, QUEUES) == [MissedOffers(7, 6, set_away=False)]
    lenient = {1: QueueConfig(id=1, max_missed_offers=0)}
    available = {7: AgentState(7, Presence.AVAILABLE, missed_offers_in_a_row=50)}
    assert count_misses([offer(1, 7, -1)], available, lenient) == [MissedOffers(7, 51, set_away=False)]


def test_going_offline_withdraws_only_that_agents_offers() -> None:
    offers = [offer(1, 7, 10), offer(2, 8, 10), offer(3, 7, 20)]
    assert [o.conversation_id for o in withdraw_offers(offers, 7)] == [1, 3]
