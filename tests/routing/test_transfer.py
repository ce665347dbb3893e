"""Stories about handing a conversation to a colleague or another queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.routing.model import AgentState, ConversationStatus, OpenConversation, Presence, QueueConfig
from hub.routing.transfer import ToAgent, ToQueue, plan_transfer

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
QUEUES = {1: QueueConfig(id=1, offer_timeout_seconds=20), 2: QueueConfig(id=2, auto_accept=True)}
CONV = OpenConversation(
    id=50,
    queue_id=1,
    channel="whatsapp",
    status=ConversationStatus.ASSIGNED,
    enqueued_at=NOW - timedelta(minutes=9),
    agent_id=7,
    assigned_at=NOW - timedelta(minutes=8),
    declined_by=frozenset({3}),
)
AGENTS = {
    7: AgentState(7, Presence.AVAILABLE, capacity={"chat": 3}),
    8: AgentState(8, Presence.AVAILABLE, capacity={"chat": 2}, open_load={"chat": 1}),
    9: AgentState(9, Presence.AVAILABLE, capacity={"chat": 1}, open_load={"chat": 1}),
    10: AgentState(10, Presence.AWAY, capacity={"chat": 3}),
    11: AgentState(11, Presence.OFFLINE, capacity={"chat": 3}),
}


def test_transferring_to_a_colleague_with_room_rings_them_for_the_queue_timeout() -> None:
    decision = plan_transfer(CONV, ToAgent(8), AGENTS, QUEUES, NOW)
    assert decision.offer is not None and decision.requeue is None and decision.rejected is None
    assert (decision.offer.agent_id, decision.offer.channel_type) == (8, "chat")
    assert decision.offer.expires_at == NOW + timedelta(seconds=20)


def test_a_full_or_away_colleague_is_refused_unless_a_supervisor_forces_it() -> None:
    assert plan_transfer(CONV, ToAgent(9), AGENTS, QUEUES, NOW).rejected == "agent_at_capacity"
    assert plan_transfer(CONV, ToAgent(10), AGENTS, QUEUES, NOW).rejected == "agent_away"
    forced = plan_transfer(CONV, ToAgent(9, force=True), AGENTS, QUEUES, NOW)
    assert forced.offer is not None and forced.offer.agent_id == 9


def test_offline_unknown_or_same_agent_targets_are_refused_even_when_forced() -> None:
    assert plan_transfer(CONV, ToAgent(11, force=True), AGENTS, QUEUES, NOW).rejected == "agent_offline"
    assert plan_transfer(CONV, ToAgent(99), AGENTS, QUEUES, NOW).rejected == "unknown_agent"
    assert plan_transfer(CONV, ToAgent(7), AGENTS, QUEUES, NOW).rejected == "same_agent"


def test_transferring_to_a_queue_keeps_the_customers_place_and_never_returns_it_to_the_sender() -> None:
    decision = plan_transfer(CONV, ToQueue(2), AGENTS, QUEUES, NOW)
    assert decision.requeue is not None and decision.offer is None
    assert decision.requeue.queue_id == 2
    assert decision.requeue.enqueued_at == CONV.enqueued_at
    assert decision.requeue.exclude_agent_ids == {3, 7}
    assert plan_transfer(CONV, ToQueue(5), AGENTS, QUEUES, NOW).rejected == "unknown_queue"
