"""Lifecycle rules around routing: agents going offline, idle chats, customers who left, closed hours."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hub.routing.calendar import BusinessCalendar
from hub.routing.model import (
    AgentState,
    ConversationStatus,
    Offer,
    OpenConversation,
    Presence,
    QueueConfig,
    Requeue,
    channel_type,
)
from hub.routing.offers import withdraw_offers

# Only the web widget tells us when a customer is still there (heartbeats); on SMS, WhatsApp,
# Telegram and email a silent customer may simply be waiting, so silence is never "left".
PRESENCE_CHANNELS = frozenset({"webchat"})


@dataclass(frozen=True, slots=True)
class OfflinePlan:
    """What to do when an agent goes offline: requeue some work, keep the rest, withdraw offers."""

    requeue: tuple[Requeue, ...]
    keep: tuple[int, ...]
    withdraw: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class Closure:
    """Close a conversation; `abandoned` when the customer left before any agent answered."""

    conversation_id: int
    reason: str
    abandoned: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class OutOfHoursNotice:
    """Tell the customer the team is closed and when it opens again (None: no hours ahead)."""

    message: str
    opens_at: datetime | None


def on_agent_offline(
    agent_id: int,
    conversations: Iterable[OpenConversation],
    offers: Iterable[Offer],
    queues: Mapping[int, QueueConfig],
    now: datetime,
) -> OfflinePlan:
    """Requeue the agent's conversations whose queue says so for their channel type; keep the others."""
    requeue: list[Requeue] = []
    keep: list[int] = []
    for conv in conversations:
        if conv.agent_id != agent_id or conv.status != ConversationStatus.ASSIGNED:
            continue
        queue = queues.get(conv.queue_id)
        if queue is not None and channel_type(conv.channel) in queue.requeue_on_agent_offline:
            # The customer already waited once; keeping the first enqueue time puts them back near the front.
            requeue.append(
                Requeue(
                    conversation_id=conv.id,
                    queue_id=conv.queue_id,
                    from_agent_id=agent_id,
                    enqueued_at=conv.enqueued_at or conv.assigned_at or now,
                    reason="agent_offline",
                    exclude_agent_ids=conv.declined_by,
                )
            )
        else:
            keep.append(conv.id)
    return OfflinePlan(tuple(requeue), tuple(keep), tuple(withdraw_offers(offers, agent_id)))


def agents_gone_silent(agents: Iterable[AgentState], now: datetime, after_seconds: int) -> list[int]:
    """Agents shown as online whose console has not been heard from (last_activity_at) for `after_seconds`."""
    # A closed laptop never logs out: without this its chats would wait for an agent who is not there.
    limit = timedelta(seconds=after_seconds)
    return [
        a.id
        for a in agents
        if a.presence != Presence.OFFLINE and (a.last_activity_at is None or now - a.last_activity_at >= limit)
    ]


def plan_closures(
    conversations: Iterable[OpenConversation],
    queues: Mapping[int, QueueConfig],
    now: datetime,
) -> list[Closure]:
    """Conversations to close now: customers who left before an answer, and chats idle on the customer's side."""
    closures: list[Closure] = []
    for conv in conversations:
        queue = queues.get(conv.queue_id)
        if queue is None or conv.status == ConversationStatus.RESOLVED:
            continue
        if _customer_left(conv, queue, now):
            closures.append(Closure(conv.id, "customer_left", abandoned=True, at=now))
        elif _customer_went_quiet(conv, queue, now):
            closures.append(Closure(conv.id, "customer_inactive", abandoned=False, at=now))
    return closures


def out_of_hours_notice(
    queue: QueueConfig, calendar: BusinessCalendar | None, now: datetime
) -> OutOfHoursNotice | None:
    """The notice to send a customer arriving while the queue's calendar is closed, if it has one."""
    if calendar is None or queue.out_of_hours_message is None or calendar.is_open(now):
        return None
    return OutOfHoursNotice(queue.out_of_hours_message, calendar.next_open(now))


def _customer_left(conv: OpenConversation, queue: QueueConfig, now: datetime) -> bool:
    """Unanswered, on a channel with presence, and not seen for the queue's abandon timeout."""
    if queue.abandon_after_seconds is None or conv.channel not in PRESENCE_CHANNELS:
        return False
    if conv.enqueued_at is None or conv.first_agent_response_at is not None:
        return False
    last_seen = max(conv.enqueued_at, conv.last_customer_activity_at or conv.enqueued_at)
    return now - last_seen >= timedelta(seconds=queue.abandon_after_seconds)


def _customer_went_quiet(conv: OpenConversation, queue: QueueConfig, now: datetime) -> bool:
    """Assigned, the agent spoke last, and the customer has not answered within the queue's timeout."""
    if queue.close_inactive_after_seconds is None or conv.status != ConversationStatus.ASSIGNED:
        return False
    agent_said = conv.last_agent_message_at
    if agent_said is None:
        return False
    customer_said = conv.last_customer_activity_at
    if customer_said is not None and customer_said >= agent_said:
        return False  # the ball is in the agent's court: never close on a waiting customer
    return now - agent_said >= timedelta(seconds=queue.close_inactive_after_seconds)
