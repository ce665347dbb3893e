"""Stories about who gets offered which conversation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.routing.decide import plan_offers, service_order
from hub.routing.model import AgentState, Policy, Presence, Priority, QueueConfig, WaitingConversation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SUPPORT = QueueConfig(id=1)


def agent(agent_id: int, **kw: object) -> AgentState:
    """An available support agent with room for three chats unless told otherwise."""
    base: dict[str, object] = {"presence": Presence.AVAILABLE, "queue_ids": frozenset({1}), "capacity": {"chat": 3}}
    base.update(kw)
    return AgentState(id=agent_id, **base)  # type: ignore[arg-type]


def chat(conv_id: int, minutes_ago: float, **kw: object) -> WaitingConversation:
    """A web chat waiting in support since `minutes_ago`."""
    base: dict[str, object] = {"queue_id": 1, "channel": "webchat", "enqueued_at": NOW - timedelta(minutes=minutes_ago)}
    base.update(kw)
    return WaitingConversation(id=conv_id, **base)  # type: ignore[arg-type]


def pairs(
    queues: list[QueueConfig], agents: list[AgentState], waiting: list[WaitingConversation]
) -> list[tuple[int, int]]:
    return [(d.conversation_id, d.agent_id) for d in plan_offers(queues, agents, waiting, NOW)]


def test_an_urgent_chat_jumps_the_line_and_key_accounts_go_first_within_a_priority() -> None:
    waiting = [
        chat(1, 30),
        chat(2, 5, priority=Priority.URGENT),
        chat(3, 10, key_account=True),
        chat(4, 40, priority=Priority.LOW),
        chat(5, 20),
    ]
    assert [c.id for c in service_order(waiting)] == [2, 3, 1, 5, 4]
    only_one_slot = [agent(7, capacity={"chat": 1})]
    assert pairs([SUPPORT], only_one_slot, waiting) == [(2, 7)]


def test_least_busy_gives_the_chat_to_the_agent_with_the_most_room_relative_to_capacity() -> None:
    # Anna has 2 of 4 chats (50%), Bo has 1 of 3 (33%): Bo is less busy though Anna has more free slots.
    anna = agent(1, capacity={"chat": 4}, open_load={"chat": 2})
    bo = agent(2, capacity={"chat": 3}, open_load={"chat": 1})
    assert pairs([SUPPORT], [anna, bo], [chat(10, 1)]) == [(10, 2)]


def test_pending_offers_count_as_load_and_against_capacity() -> None:
    ringing = agent(1, capacity={"chat": 2}, open_load={"chat": 1}, pending_offers={"chat": 1})
    free = agent(2, capacity={"chat": 2}, open_load={"chat": 1})
    assert pairs([SUPPORT], [ringing, free], [chat(10, 2), chat(11, 1)]) == [(10, 2)]


def test_longest_idle_prefers_whoever_waited_longest_since_their_last_assignment() -> None:
    queue = QueueConfig(id=1, policy=Policy.LONGEST_IDLE)
    recent = agent(1, last_assignment_at=NOW - timedelta(minutes=2))
    rested = agent(2, last_assignment_at=NOW - timedelta(minutes=40))
    fresh = agent(3, available_since=NOW - timedelta(minutes=10))
    # Rested first, then fresh; by the third chat both just got one, so recent is now the idlest.
    assert pairs([queue], [recent, rested, fresh], [chat(10, 3), chat(11, 2), chat(12, 1)]) == [
        (10, 2),
        (11, 3),
        (12, 1),
    ]


def test_agents_must_be_available_members_with_the_skills_and_language_asked_for() -> None:
    queue = QueueConfig(id=1, required_skills=frozenset({"billing"}), language="de")
    away = agent(1, presence=Presence.AWAY, skills=frozenset({"billing"}), languages=frozenset({"de"}))
    other_queue = agent(2, queue_ids=frozenset({2}), skills=frozenset({"billing"}), languages=frozenset({"de"}))
    no_skill = agent(3, languages=frozenset({"de"}))
    no_german = agent(4, skills=frozenset({"billing"}), languages=frozenset({"en"}))
    right = agent(5, skills=frozenset({"billing", "refunds"}), languages=frozenset({"de", "en"}))
    crew = [away, other_queue, no_skill, no_german, right]
    assert pairs([queue], crew, [chat(10, 1)]) == [(10, 5)]
    # The customer wrote in English, which overrides the queue's German; refunds are asked for too.
    english_refund = chat(11, 1, language="en", required_skills=frozenset({"refunds"}))
    assert pairs([queue], crew, [english_refund]) == [(11, 5)]
    assert pairs([queue], crew[:4], [english_refund]) == []


def test_an_agent_who_declined_or_missed_a_chat_is_not_offered_it_again() -> None:
    declined = chat(10, 5, declined_by=frozenset({1}))
    assert pairs([SUPPORT], [agent(1), agent(2, open_load={"chat": 2})], [declined]) == [(10, 2)]
    assert pairs([SUPPORT], [agent(1)], [declined]) == []


def test_a_chat_that_is_already_ringing_somewhere_is_not_offered_twice() -> None:
    assert pairs([SUPPORT], [agent(1)], [chat(10, 5), chat(10, 5, pending_offer_to=2)]) == []


def test_manual_queues_wait_for_agents_to_pick_and_auto_accept_queues_assign_at_once() -> None:
    manual = QueueConfig(id=1, policy=Policy.MANUAL)
    assert pairs([manual], [agent(1)], [chat(10, 1)]) == []
    auto = QueueConfig(id=1, auto_accept=True)
    [decision] = plan_offers([auto], [agent(1)], [chat(10, 1)], NOW)
    assert decision.auto_accept and decision.expires_at is None and decision.as_offer() is None


def test_an_offer_rings_for_the_queue_timeout() -> None:
    queue = QueueConfig(id=1, offer_timeout_seconds=45)
    [decision] = plan_offers([queue], [agent(1)], [chat(10, 1)], NOW)
    offer = decision.as_offer()
    assert offer is not None and offer.expires_at == NOW + timedelta(seconds=45)


def test_email_and_chat_capacities_are_separate_and_sms_counts_as_chat() -> None:
    mixed = agent(1, capacity={"chat": 1, "email": 2}, open_load={"chat": 1})
    email = WaitingConversation(id=10, queue_id=1, channel="email", enqueued_at=NOW)
    sms = chat(11, 3, channel="sms")
    assert pairs([SUPPORT], [mixed], [email, sms]) == [(10, 1)]


def test_one_agent_can_take_several_chats_in_one_round_up_to_capacity() -> None:
    waiting = [chat(i, 10 - i) for i in range(1, 6)]
    assert pairs([SUPPORT], [agent(1, capacity={"chat": 3})], waiting) == [(1, 1), (2, 1), (3, 1)]
