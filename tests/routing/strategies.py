"""Hypothesis strategies for routing snapshots: small worlds where every rule gets exercised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from hub.routing.model import AgentState, Policy, Presence, Priority, QueueConfig, WaitingConversation

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SKILLS = ("billing", "tech", "vip")
LANGUAGES = ("en", "zh", "de")
CHANNELS = ("webchat", "sms", "whatsapp", "telegram", "email")
QUEUE_IDS = (1, 2, 3)


def moments(before: timedelta) -> st.SearchStrategy[datetime]:
    """Instants up to `before` in the past, on whole seconds so ties happen."""
    return st.integers(0, int(before.total_seconds())).map(lambda s: NOW - timedelta(seconds=s))


# Strategies are built once: constructing them inside draws dominates the run time otherwise.
_skill_sets = st.frozensets(st.sampled_from(SKILLS), max_size=3)
_one_skill = st.frozensets(st.sampled_from(SKILLS), max_size=1)
_language_sets = st.frozensets(st.sampled_from(LANGUAGES), max_size=3)
_language = st.none() | st.sampled_from(LANGUAGES)
_policy = st.sampled_from(list(Policy))
_presence = st.sampled_from([Presence.AVAILABLE, Presence.AVAILABLE, Presence.AWAY, Presence.OFFLINE])
_queue_sets = st.frozensets(st.sampled_from(QUEUE_IDS), min_size=1)
_queue_id = st.sampled_from(QUEUE_IDS)
_channel = st.sampled_from(CHANNELS)
_priority = st.sampled_from(list(Priority))
_capacity = st.integers(0, 3)
_load = st.integers(0, 2)
_pending = st.integers(0, 1)
_last_assignment = st.none() | moments(timedelta(hours=2))
_available_since = st.none() | moments(timedelta(hours=8))
_enqueued = moments(timedelta(minutes=10))
_timeout = st.sampled_from([15, 30, 60])


@st.composite
def queues(draw: st.DrawFn) -> list[QueueConfig]:
    """One config per queue id; manual queues included."""
    return [
        QueueConfig(
            id=qid,
            policy=draw(_policy),
            required_skills=draw(_one_skill),
            language=draw(_language),
            auto_accept=draw(st.booleans()),
            offer_timeout_seconds=draw(_timeout),
        )
        for qid in QUEUE_IDS
    ]


@st.composite
def agents(draw: st.DrawFn, max_size: int = 8) -> list[AgentState]:
    """Agents with unique ids, mixed presence, and load that may already fill their capacity."""
    n = draw(st.integers(0, max_size))
    result = []
    for agent_id in range(100, 100 + n):
        capacity = {"chat": draw(_capacity), "email": draw(_capacity)}
        result.append(
            AgentState(
                id=agent_id,
                presence=draw(_presence),
                queue_ids=draw(_queue_sets),
                skills=draw(_skill_sets),
                languages=draw(_language_sets),
                capacity=capacity,
                open_load={k: draw(_load) for k in capacity},
                pending_offers={k: draw(_pending) for k in capacity},
                last_assignment_at=draw(_last_assignment),
                available_since=draw(_available_since),
            )
        )
    return result


@st.composite
def waiting(draw: st.DrawFn, agent_ids: list[int], max_size: int = 25) -> list[WaitingConversation]:
    """Waiting conversations, some declined by or already offered to known agents."""
    n = draw(st.integers(0, max_size))
    declined = st.frozensets(st.sampled_from(agent_ids), max_size=3) if agent_ids else st.just(frozenset())
    offered = st.none() | st.none() | st.none() | st.sampled_from(agent_ids) if agent_ids else st.none()
    return [
        WaitingConversation(
            id=conv_id,
            queue_id=draw(_queue_id),
            channel=draw(_channel),
            enqueued_at=draw(_enqueued),
            priority=draw(_priority),
            key_account=draw(st.booleans()),
            required_skills=draw(_one_skill),
            language=draw(_language),
            declined_by=draw(declined),
            pending_offer_to=draw(offered),
        )
        for conv_id in range(1, n + 1)
    ]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[QueueConfig], list[AgentState], list[WaitingConversation]]:
    """A whole routing snapshot."""
    qs = draw(queues())
    ags = draw(agents())
    ws = draw(waiting([a.id for a in ags]))
    return qs, ags, ws
