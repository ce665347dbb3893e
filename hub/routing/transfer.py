"""Transfers: hand a conversation to another agent (as an offer) or to another queue (as a requeue)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.routing.model import (
    AgentState,
    OfferDecision,
    OpenConversation,
    Presence,
    QueueConfig,
    Requeue,
    channel_type,
)


@dataclass(frozen=True, slots=True)
class ToAgent:
    """Transfer target: one agent; `force` lets a supervisor go past capacity and away presence."""

    agent_id: int
    force: bool = False


@dataclass(frozen=True, slots=True)
class ToQueue:
    """Transfer target: a queue, where the conversation waits for routing like any other."""

    queue_id: int


@dataclass(frozen=True, slots=True)
class TransferDecision:
    """Exactly one of `offer` or `requeue` is set, or neither with a `rejected` reason."""

    conversation_id: int
    offer: OfferDecision | None = None
    requeue: Requeue | None = None
    rejected: str | None = None


def plan_transfer(
    conversation: OpenConversation,
    target: ToAgent | ToQueue,
    agents: Mapping[int, AgentState],
    queues: Mapping[int, QueueConfig],
    now: datetime,
) -> TransferDecision:
    """Decide a transfer; a transfer offer that rings out or is declined leaves the conversation where it was."""
    if isinstance(target, ToQueue):
        if target.queue_id not in queues:
            return TransferDecision(conversation.id, rejected="unknown_queue")
        excluded = conversation.declined_by
        if conversation.agent_id is not None:
            excluded = excluded | {conversation.agent_id}
        # The original enqueue time is kept: the customer keeps their place in line, and wait-based
        # metrics (speed of answer, service level) never see a wait that starts after the answer.
        return TransferDecision(
            conversation.id,
            requeue=Requeue(
                conversation_id=conversation.id,
                queue_id=target.queue_id,
                from_agent_id=conversation.agent_id,
                enqueued_at=conversation.enqueued_at or now,
                reason="transfer",
                exclude_agent_ids=excluded,
            ),
        )
    agent = agents.get(target.agent_id)
    if agent is None:
        return TransferDecision(conversation.id, rejected="unknown_agent")
    if agent.id == conversation.agent_id:
        return TransferDecision(conversation.id, rejected="same_agent")
    if agent.presence == Presence.OFFLINE:
        return TransferDecision(conversation.id, rejected="agent_offline")
    kind = channel_type(conversation.channel)
    if not target.force:
        if agent.presence != Presence.AVAILABLE:
            return TransferDecision(conversation.id, rejected="agent_away")
        if agent.free_slots(kind) <= 0:
            return TransferDecision(conversation.id, rejected="agent_at_capacity")
    queue = queues.get(conversation.queue_id)
    auto = queue.auto_accept if queue is not None else False
    timeout = queue.offer_timeout if queue is not None else QueueConfig(id=conversation.queue_id).offer_timeout
    return TransferDecision(
        conversation.id,
        offer=OfferDecision(
            conversation_id=conversation.id,
            agent_id=agent.id,
            queue_id=conversation.queue_id,
            channel_type=kind,
            offered_at=now,
            expires_at=None if auto else now + timeout,
            auto_accept=auto,
        ),
    )
