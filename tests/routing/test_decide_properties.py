"""Whatever the snapshot, the offer plan keeps routing's promises."""

from __future__ import annotations

import math
from collections import Counter

from hypothesis import given, settings

from hub.routing.decide import (
    effective_language,
    is_eligible,
    plan_offers,
    required_skills,
    service_order,
)
from hub.routing.model import (
    AgentState,
    OfferDecision,
    Policy,
    Presence,
    QueueConfig,
    WaitingConversation,
    channel_type,
)
from tests.routing.strategies import NOW, worlds

World = tuple[list[QueueConfig], list[AgentState], list[WaitingConversation]]
# Each example draws a whole world, so the invariants use fewer examples than the default; the
# comparison with the naive planner, which pins down every choice, gets more.
WORLDS = settings(max_examples=50, deadline=None)
MANY_WORLDS = settings(max_examples=200, deadline=None)


def _statically_eligible(agent: AgentState, conv: WaitingConversation, queue: QueueConfig) -> bool:
    """Eligible apart from capacity: presence, queue, skills, language, not declined."""
    language = effective_language(conv, queue)
    return (
        agent.presence == Presence.AVAILABLE
        and conv.queue_id in agent.queue_ids
        and required_skills(conv, queue) <= agent.skills
        and (language is None or language in agent.languages)
        and agent.id not in conv.declined_by
    )


def _naive_plan(world: World) -> list[tuple[int, int]]:
    """Reference: scan every agent for every conversation, O(agents x conversations)."""
    qs, ags, ws = world
    queue_by_id = {q.id: q for q in qs}
    load = {(a.id, k): a.open_load.get(k, 0) + a.pending_offers.get(k, 0) for a in ags for k in ("chat", "email")}
    idle = {a.id: (a.idle_since.timestamp() if a.idle_since else -math.inf) for a in ags}
    plan = []
    for conv in service_order(ws):
        queue = queue_by_id[conv.queue_id]
        if conv.pending_offer_to is not None or queue.policy == Policy.MANUAL:
            continue
        kind = channel_type(conv.channel)
        best = None
        for position, agent in enumerate(ags):
            cap = agent.capacity.get(kind, 0)
            if not _statically_eligible(agent, conv, queue) or load[agent.id, kind] >= cap:
                continue
            busy = load[agent.id, kind] / cap
            score = (
                (idle[agent.id], busy, position)
                if queue.policy == Policy.LONGEST_IDLE
                else (busy, idle[agent.id], position)
            )
            if best is None or score < best[0]:
                best = (score, agent)
        if best is not None:
            agent = best[1]
            load[agent.id, kind] += 1
            idle[agent.id] = max(idle[agent.id], NOW.timestamp())
            plan.append((conv.id, agent.id))
    return plan


def _plan(world: World) -> list[OfferDecision]:
    qs, ags, ws = world
    return plan_offers(qs, ags, ws, NOW)


@WORLDS
@given(worlds())
def test_no_agent_is_ever_offered_more_than_their_free_capacity(world: World) -> None:
    _qs, ags, _ws = world
    given_out = Counter((d.agent_id, d.channel_type) for d in _plan(world))
    by_id = {a.id: a for a in ags}
    for (agent_id, kind), count in given_out.items():
        agent = by_id[agent_id]
        assert agent.open_load.get(kind, 0) + agent.pending_offers.get(kind, 0) + count <= agent.capacity.get(kind, 0)


@WORLDS
@given(worlds())
def test_a_conversation_is_offered_at_most_once_and_never_while_an_offer_is_pending(world: World) -> None:
    _qs, _ags, ws = world
    plan = _plan(world)
    counts = Counter(d.conversation_id for d in plan)
    assert all(n == 1 for n in counts.values())
    pending = {c.id for c in ws if c.pending_offer_to is not None}
    assert not pending & set(counts)


@WORLDS
@given(worlds())
def test_offers_respect_presence_queue_skills_language_and_declines(world: World) -> None:
    qs, ags, ws = world
    queue_by_id = {q.id: q for q in qs}
    agent_by_id = {a.id: a for a in ags}
    conv_by_id = {c.id: c for c in ws}
    for d in _plan(world):
        conv, agent = conv_by_id[d.conversation_id], agent_by_id[d.agent_id]
        queue = queue_by_id[conv.queue_id]
        assert is_eligible(agent, conv, queue)  # capacity is covered by its own property
        assert agent.id not in conv.declined_by
        assert queue.policy != Policy.MANUAL
        assert d.channel_type == channel_type(conv.channel)


@WORLDS
@given(worlds())
def test_nobody_waits_behind_a_later_conversation_for_an_agent_they_could_have_had(world: World) -> None:
    qs, ags, ws = world
    queue_by_id = {q.id: q for q in qs}
    agent_by_id = {a.id: a for a in ags}
    plan = _plan(world)
    offered_to = {d.conversation_id: d.agent_id for d in plan}
    order = service_order(ws)
    for later_pos, later in enumerate(order):
        agent_id = offered_to.get(later.id)
        if agent_id is None:
            continue
        agent = agent_by_id[agent_id]
        for earlier in order[:later_pos]:
            if earlier.id in offered_to or earlier.pending_offer_to is not None:
                continue
            queue = queue_by_id[earlier.queue_id]
            if queue.policy == Policy.MANUAL or channel_type(earlier.channel) != channel_type(later.channel):
                continue
            # The agent still had room when `later` was planned, so also when `earlier` was.
            assert not _statically_eligible(agent, earlier, queue), (earlier, later, agent)


@WORLDS
@given(worlds())
def test_no_routable_conversation_is_left_while_an_eligible_agent_still_has_room(world: World) -> None:
    qs, ags, ws = world
    queue_by_id = {q.id: q for q in qs}
    plan = _plan(world)
    offered = {d.conversation_id for d in plan}
    used = Counter((d.agent_id, d.channel_type) for d in plan)
    for conv in ws:
        queue = queue_by_id[conv.queue_id]
        if conv.id in offered or conv.pending_offer_to is not None or queue.policy == Policy.MANUAL:
            continue
        kind = channel_type(conv.channel)
        for agent in ags:
            room = agent.free_slots(kind) - used[agent.id, kind]
            assert not (room > 0 and _statically_eligible(agent, conv, queue))


@MANY_WORLDS
@given(worlds())
def test_the_indexed_planner_agrees_with_a_naive_scan_of_every_agent(world: World) -> None:
    assert [(d.conversation_id, d.agent_id) for d in _plan(world)] == _naive_plan(world)


@WORLDS
@given(worlds())
def test_offers_come_out_in_service_order_and_expire_after_the_queue_timeout(world: World) -> None:
    qs, _ags, ws = world
    queue_by_id = {q.id: q for q in qs}
    position = {c.id: i for i, c in enumerate(service_order(ws))}
    plan = _plan(world)
    assert [position[d.conversation_id] for d in plan] == sorted(position[d.conversation_id] for d in plan)
    for d in plan:
        queue = queue_by_id[d.queue_id]
        if queue.auto_accept:
            assert d.expires_at is None and d.as_offer() is None
        else:
            assert d.expires_at == NOW + queue.offer_timeout
