"""How a conversation ended up from the queue's point of view: answered, abandoned, or still waiting."""

from __future__ import annotations

import enum

from hub.routing.model import ConversationTimes


class Outcome(enum.StrEnum):
    """Queue outcome of one conversation; abandonment means the customer left before an agent answered."""

    BOT_ONLY = "bot_only"
    WAITING = "waiting"
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    SHORT_ABANDON = "short_abandon"
    CLOSED_UNANSWERED = "closed_unanswered"


def classify(times: ConversationTimes, short_abandon_seconds: float = 0) -> Outcome:
    """The outcome; abandons shorter than `short_abandon_seconds` are short abandons."""
    if times.enqueued_at is None:
        return Outcome.BOT_ONLY
    answered = times.first_agent_response_at
    left = times.abandoned_at
    if answered is not None and (left is None or answered <= left):
        return Outcome.ANSWERED
    if left is not None:
        waited = (left - times.enqueued_at).total_seconds()
        return Outcome.SHORT_ABANDON if waited < short_abandon_seconds else Outcome.ABANDONED
    if times.resolved_at is not None:
        return Outcome.CLOSED_UNANSWERED
    return Outcome.WAITING


def queue_wait_seconds(times: ConversationTimes) -> float | None:
    """Seconds from entering the queue to the first agent response, or to leaving unanswered."""
    outcome = classify(times)
    enqueued = times.enqueued_at
    if enqueued is None:
        return None
    if outcome == Outcome.ANSWERED and times.first_agent_response_at is not None:
        return (times.first_agent_response_at - enqueued).total_seconds()
    if outcome == Outcome.ABANDONED and times.abandoned_at is not None:
        return (times.abandoned_at - enqueued).total_seconds()
    return None
