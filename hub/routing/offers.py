"""What happens to offers that ring out: expiry, missed-offer streaks and sending agents away."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hub.routing.model import AgentState, Offer, Presence, QueueConfig


@dataclass(frozen=True, slots=True)
class MissedOffers:
    """An agent's missed-offer streak after this round, and whether it sends them away."""

    agent_id: int
    missed_in_a_row: int
    set_away: bool


def expire_offers(offers: Iterable[Offer], now: datetime) -> list[Offer]:
    """Offers whose time is up at `now`: the conversation goes back to waiting, the agent is skipped for it."""
    return [o for o in offers if o.expires_at <= now]


def withdraw_offers(offers: Iterable[Offer], agent_id: int) -> list[Offer]:
    """Pending offers to retract because the agent went away or offline (these are not misses)."""
    return [o for o in offers if o.agent_id == agent_id]


def count_misses(
    expired: Iterable[Offer],
    agents: Mapping[int, AgentState],
    queues: Mapping[int, QueueConfig],
) -> list[MissedOffers]:
    """New streaks for agents who let offers expire; N in a row (the strictest queue's N) sets them away."""
    per_agent: Counter[int] = Counter()
    limit: dict[int, int] = {}
    for offer in expired:
        per_agent[offer.agent_id] += 1
        queue = queues.get(offer.queue_id)
        if queue is not None and queue.max_missed_offers > 0:
            limit[offer.agent_id] = min(limit.get(offer.agent_id, queue.max_missed_offers), queue.max_missed_offers)
    result = []
    for agent_id, missed in per_agent.items():
        agent = agents.get(agent_id)
        before = agent.missed_offers_in_a_row if agent is not None else 0
        streak = before + missed
        n = limit.get(agent_id)
        away = agent is not None and agent.presence == Presence.AVAILABLE and n is not None and streak >= n
        result.append(MissedOffers(agent_id, streak, away))
    return result
