"""Routing decisions per second: plan_offers on 1,000 agents and 50,000 waiting conversations.

Run: python -m bench.routing [--agents 1000] [--waiting 50000] [--rounds 5] [--seed 7]
Scenarios (same snapshot shape, seeded):
  open floor   agents hold about half their capacity, so a few thousand offers are made;
  backlog      agents are nearly full, so almost every conversation is looked at and left waiting;
  trickle      a full floor with 200 new arrivals, the steady-state case of a routing tick.
Also: SLA status for 10,000 conversations against a Berlin office calendar.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from hub.routing.calendar import BusinessCalendar
from hub.routing.decide import plan_offers
from hub.routing.model import (
    AgentState,
    ConversationStatus,
    ConversationTimes,
    Policy,
    Presence,
    Priority,
    QueueConfig,
    SlaTargets,
    WaitingConversation,
)
from hub.routing.sla import sla_status

NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
SKILLS = [f"skill{i}" for i in range(12)]
LANGUAGES = ["en"] * 7 + ["zh"] * 2 + ["de"]
CHANNELS = ["webchat"] * 4 + ["whatsapp"] * 2 + ["sms", "telegram"] + ["email"] * 2
PRIORITIES = [Priority.URGENT] + [Priority.HIGH] * 3 + [Priority.NORMAL] * 12 + [Priority.LOW] * 4


def make_queues(rng: random.Random, n: int = 20) -> list[QueueConfig]:
    """Twenty queues: mostly least-busy, some longest-idle, one manual; a third need a skill."""
    policies = [Policy.LEAST_BUSY] * 14 + [Policy.LONGEST_IDLE] * 5 + [Policy.MANUAL]
    return [
        QueueConfig(
            id=q,
            policy=policies[q % len(policies)],
            required_skills=frozenset({rng.choice(SKILLS)}) if q % 3 == 0 else frozenset(),
            language=rng.choice([None, None, "zh", "de"]),
        )
        for q in range(n)
    ]


def make_agents(rng: random.Random, n: int, queues: int, fill: float) -> list[AgentState]:
    """Agents in 3-6 queues with 4-8 skills; `fill` is the share of capacity already taken."""
    agents = []
    for i in range(n):
        capacity = {"chat": rng.randint(2, 5), "email": rng.randint(5, 15)}
        load = {k: min(v, int(v * fill + rng.random())) for k, v in capacity.items()}
        agents.append(
            AgentState(
                id=i,
                presence=Presence.AVAILABLE if rng.random() < 0.85 else rng.choice([Presence.AWAY, Presence.OFFLINE]),
                queue_ids=frozenset(rng.sample(range(queues), rng.randint(3, 6))),
                skills=frozenset(rng.sample(SKILLS, rng.randint(4, 8))),
                languages=frozenset({"en"} | set(rng.sample(["zh", "de", "fr"], rng.randint(0, 2)))),
                capacity=capacity,
                open_load=load,
                last_assignment_at=NOW - timedelta(seconds=rng.randint(0, 3600)),
            )
        )
    return agents


def make_waiting(rng: random.Random, n: int, queues: int, agents: int, start_id: int = 0) -> list[WaitingConversation]:
    """Waiting conversations over the last two hours; 5% from key accounts, 5% declined once."""
    return [
        WaitingConversation(
            id=start_id + i,
            queue_id=rng.randrange(queues),
            channel=rng.choice(CHANNELS),
            enqueued_at=NOW - timedelta(seconds=rng.randint(0, 7200)),
            priority=rng.choice(PRIORITIES),
            key_account=rng.random() < 0.05,
            required_skills=frozenset({rng.choice(SKILLS)}) if rng.random() < 0.2 else frozenset(),
            language=rng.choice(LANGUAGES) if rng.random() < 0.5 else None,
            declined_by=frozenset({rng.randrange(agents)}) if rng.random() < 0.05 else frozenset(),
        )
        for i in range(n)
    ]


def timed(fn: Callable[[], object], rounds: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds over `rounds` runs, and the last result (CPU is steadier on a shared box)."""
    walls, cpus = [], []
    result: object = None
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    queues = make_queues(rng)
    waiting = make_waiting(rng, args.waiting, len(queues), args.agents)
    print(
        f"routing bench: {args.agents} agents, {args.waiting} waiting, {len(queues)} queues, "
        f"median of {args.rounds}, load average {os.getloadavg()[0]:.2f}"
    )

    for name, fill, conversations in (
        ("open floor", 0.5, waiting),
        ("backlog", 0.97, waiting),
        ("trickle", 0.97, make_waiting(rng, 200, len(queues), args.agents, start_id=10**6)),
    ):
        agents = make_agents(random.Random(args.seed + 1), args.agents, len(queues), fill)
        wall, cpu, plan = timed(partial(plan_offers, queues, agents, conversations, NOW), args.rounds)
        offers = len(plan)  # type: ignore[arg-type]
        print(
            f"  {name:<10} {len(conversations):>6} conversations -> {offers:>5} offers: {wall * 1000:7.1f} ms wall,"
            f" {cpu * 1000:7.1f} ms CPU = {len(conversations) / cpu:>9,.0f} conversations/s,"
            f" {offers / cpu:>8,.0f} offers/s (per CPU second)"
        )

    office = BusinessCalendar.from_spec(
        "office",
        "Europe/Berlin",
        {d: ["09:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        holidays=["12-25", "12-26", "01-01"],
    )
    targets = SlaTargets(first_response_seconds=4 * 3600, resolution_seconds=3 * 8 * 3600, warn_before_seconds=1800)
    records = [
        ConversationTimes(
            id=c.id,
            queue_id=c.queue_id,
            channel=c.channel,
            status=ConversationStatus.QUEUED,
            created_at=c.enqueued_at - timedelta(days=rng.randint(0, 6)),
            enqueued_at=c.enqueued_at - timedelta(days=rng.randint(0, 6)),
        )
        for c in waiting[:10_000]
    ]
    wall, cpu, _ = timed(lambda: [sla_status(r, targets, office, NOW) for r in records], args.rounds)
    print(
        f"  sla_status {len(records):>6} conversations: {wall * 1000:7.1f} ms wall, {cpu * 1000:7.1f} ms CPU"
        f" = {len(records) / cpu:>9,.0f} per CPU second"
    )


if __name__ == "__main__":
    main()
