"""Plan which waiting conversation is offered to which agent, in priority-then-FIFO order."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from hub.routing.model import (
    AgentState,
    OfferDecision,
    Policy,
    Presence,
    Priority,
    QueueConfig,
    WaitingConversation,
    channel_type,
)

_RANK: Mapping[str, int] = {p.value: p.rank for p in Priority}

# (queue id, channel type, required skills, required language): conversations with the same key
# compete for exactly the same agents, so they share one heap.
_Key = tuple[int, str, frozenset[str], str | None]


def effective_language(conversation: WaitingConversation, queue: QueueConfig) -> str | None:
    """The language an agent must speak: the customer's when known, else the queue's."""
    return conversation.language or queue.language


def required_skills(conversation: WaitingConversation, queue: QueueConfig) -> frozenset[str]:
    """Skills an agent must have: the queue's plus the conversation's own."""
    return queue.required_skills | conversation.required_skills


def service_order(waiting: Iterable[WaitingConversation]) -> list[WaitingConversation]:
    """Waiting conversations in the order they are served: priority, key accounts first, then FIFO."""
    items = list(waiting)
    # Plain numbers sort several times faster than aware datetimes; position keeps ties stable.
    keys = [(_RANK[c.priority] * 2 + (not c.key_account), c.enqueued_at.timestamp(), i) for i, c in enumerate(items)]
    keys.sort()
    return [items[k[2]] for k in keys]


def is_eligible(agent: AgentState, conversation: WaitingConversation, queue: QueueConfig) -> bool:
    """Whether an agent may be offered this conversation right now (one-off check, not used in bulk)."""
    language = effective_language(conversation, queue)
    return (
        agent.presence == Presence.AVAILABLE
        and queue.id in agent.queue_ids
        and required_skills(conversation, queue) <= agent.skills
        and (language is None or language in agent.languages)
        and agent.free_slots(channel_type(conversation.channel)) > 0
        and agent.id not in conversation.declined_by
    )


def plan_offers(
    queues: Iterable[QueueConfig],
    agents: Iterable[AgentState],
    waiting: Iterable[WaitingConversation],
    now: datetime,
) -> list[OfferDecision]:
    """Offers to make now: at most one per conversation, never beyond an agent's capacity."""
    queue_by_id = {q.id: q for q in queues}
    pool = _AgentPool(agents, now)
    heaps: dict[_Key, list[tuple[float, float, int, int]]] = {}
    ordered = service_order(waiting)
    # Any copy with a pending offer rules the conversation out: one offer per conversation at a time.
    seen: set[int] = {c.id for c in ordered if c.pending_offer_to is not None}
    decisions: list[OfferDecision] = []
    for conv in ordered:
        if conv.id in seen:
            continue
        seen.add(conv.id)
        queue = queue_by_id.get(conv.queue_id)
        if queue is None or queue.policy == Policy.MANUAL:
            continue
        kind = channel_type(conv.channel)
        if pool.free_total[kind] <= 0:
            continue
        # Most conversations add no skills of their own: reuse the queue's set instead of a new union.
        skills = required_skills(conv, queue) if conv.required_skills else queue.required_skills
        key: _Key = (queue.id, kind, skills, conv.language or queue.language)
        heap = heaps.get(key)
        if heap is None:
            heap = heaps[key] = pool.build_heap(key, queue.policy)
        chosen = pool.pick(heap, kind, queue.policy, conv.declined_by)
        if chosen is None:
            continue
        pool.take(chosen, kind)
        decisions.append(
            OfferDecision(
                conversation_id=conv.id,
                agent_id=pool.agents[chosen].id,
                queue_id=queue.id,
                channel_type=kind,
                offered_at=now,
                expires_at=None if queue.auto_accept else now + queue.offer_timeout,
                auto_accept=queue.auto_accept,
            )
        )
    return decisions


class _AgentPool:
    """Per-run mutable view of the agents: free slots, load and idle time change as offers are planned."""

    agents: list[AgentState]
    free: dict[str, list[int]]
    load: dict[str, list[int]]
    capacity: dict[str, list[int]]
    idle: list[float]
    version: list[int]
    free_total: defaultdict[str, int]
    now_ts: float
    by_queue: dict[int, set[int]]
    by_skill: dict[str, set[int]]
    by_language: dict[str, set[int]]
    has_room: dict[str, set[int]]

    def __init__(self, agents: Iterable[AgentState], now: datetime) -> None:
        unique: dict[int, AgentState] = {}
        for a in agents:
            unique.setdefault(a.id, a)
        self.agents = [a for a in unique.values() if a.presence == Presence.AVAILABLE]
        self.now_ts = now.timestamp()
        kinds = {k for a in self.agents for k in a.capacity}
        self.free = {k: [max(0, a.free_slots(k)) for a in self.agents] for k in kinds}
        self.capacity = {k: [a.capacity.get(k, 0) for a in self.agents] for k in kinds}
        self.load = {k: [a.open_load.get(k, 0) + a.pending_offers.get(k, 0) for a in self.agents] for k in kinds}
        self.free_total = defaultdict(int, {k: sum(v) for k, v in self.free.items()})
        self.idle = [a.idle_since.timestamp() if a.idle_since is not None else -math.inf for a in self.agents]
        self.version = [0] * len(self.agents)
        self.by_queue = defaultdict(set)
        self.by_skill = defaultdict(set)
        self.by_language = defaultdict(set)
        self.has_room = {k: {i for i, f in enumerate(v) if f > 0} for k, v in self.free.items()}
        for i, a in enumerate(self.agents):
            for q in a.queue_ids:
                self.by_queue[q].add(i)
            for s in a.skills:
                self.by_skill[s].add(i)
            for lang in a.languages:
                self.by_language[lang].add(i)

    def build_heap(self, key: _Key, policy: Policy) -> list[tuple[float, float, int, int]]:
        """A heap of the agents who match a key, best first for the queue's policy."""
        queue_id, kind, skills, language = key
        sets = [self.by_queue.get(queue_id, set()), self.has_room.get(kind, set())]
        sets += [self.by_skill.get(s, set()) for s in skills]
        if language is not None:
            sets.append(self.by_language.get(language, set()))
        sets.sort(key=len)
        members = set(sets[0]).intersection(*sets[1:])
        load, capacity, idle, version = self.load[kind], self.capacity[kind], self.idle, self.version
        # Same tuples as _entry, built inline: heaps for a thousand agents are built per routing key.
        if policy == Policy.LONGEST_IDLE:
            heap = [(idle[i], load[i] / capacity[i], i, version[i]) for i in members]
        else:
            heap = [(load[i] / capacity[i], idle[i], i, version[i]) for i in members]
        heapq.heapify(heap)
        return heap

    def pick(
        self,
        heap: list[tuple[float, float, int, int]],
        kind: str,
        policy: Policy,
        declined_by: frozenset[int],
    ) -> int | None:
        """Pop the best agent with room who has not declined; entries made stale by earlier picks are re-scored."""
        skipped = []
        chosen = None
        while heap:
            entry = heap[0]
            i, version = entry[2], entry[3]
            if self.free[kind][i] <= 0:
                heapq.heappop(heap)
                continue
            if version != self.version[i]:
                # Scores only get worse during a run, so a stale entry is optimistic: re-score and retry.
                heapq.heapreplace(heap, self._entry(i, kind, policy))
                continue
            if self.agents[i].id in declined_by:
                skipped.append(heapq.heappop(heap))
                continue
            chosen = i
            break
        for entry in skipped:
            heapq.heappush(heap, entry)
        return chosen

    def take(self, i: int, kind: str) -> None:
        """Record a planned offer: one slot fewer, one load more, idle clock restarted."""
        self.free[kind][i] -= 1
        self.free_total[kind] -= 1
        self.load[kind][i] += 1
        self.idle[i] = max(self.idle[i], self.now_ts)
        self.version[i] += 1

    def _entry(self, i: int, kind: str, policy: Policy) -> tuple[float, float, int, int]:
        """Heap entry: smaller is better; the agent's position breaks ties so runs are deterministic."""
        busy = self.load[kind][i] / self.capacity[kind][i]
        if policy == Policy.LONGEST_IDLE:
            return (self.idle[i], busy, i, self.version[i])
        return (busy, self.idle[i], i, self.version[i])
