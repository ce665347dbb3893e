"""The hub's metrics SQL gives the hand-computed hour of tests/routing/test_metrics.py on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert, update

from hub.routing.metrics import QueueMetrics, ServiceLevelConfig, agent_report, queue_report
from hub.routing.reports import agent_metrics, queue_metrics
from hub.routing.rollups import rollup_tx
from hub.routing.store import (
    agents,
    assignment_intervals,
    conversations,
    customers,
    identities,
    presence_intervals,
    queues,
)
from hub.storage import migrate
from hub.storage.database import Database
from tests.routing.test_metrics import CONFIG, END, HANDLING, PRESENCE, RECORDS, START


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await migrate.upgrade(database)
    await database.run_write(_load_the_hour)
    yield database
    await database.dispose()


def _load_the_hour(conn: Connection) -> None:
    conn.execute(insert(customers), [{"id": 1, "tier": "standard", "created_at": START, "updated_at": START}])
    conn.execute(
        insert(identities), [{"id": 1, "customer_id": 1, "channel": "webchat", "address": "v:x", "created_at": START}]
    )
    conn.execute(insert(queues), [{"id": q, "name": f"q{q}", "created_at": START} for q in (1, 2)])
    conn.execute(
        insert(agents),
        [
            {"id": a, "name": f"a{a}", "email": f"a{a}@example.com", "password_hash": "x", "created_at": START}
            for a in (7, 8)
        ],
    )
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "customer_id": 1,
            "identity_id": 1,
            "channel": r.channel,
            "status": r.status.value,
            "queue_id": r.queue_id,
            "assignee_id": r.agent_id,
            "created_at": r.created_at,
            "updated_at": r.created_at,
            "enqueued_at": r.enqueued_at,
            "assigned_at": r.assigned_at,
            "first_agent_response_at": r.first_agent_response_at,
            "resolved_at": r.resolved_at,
            "abandoned_at": r.abandoned_at,
        }
        for r in RECORDS
    ]
    conn.execute(insert(conversations), rows)
    conn.execute(
        insert(presence_intervals),
        [
            {"agent_id": p.agent_id, "presence": p.presence.value, "started_at": p.start, "ended_at": p.end}
            for p in PRESENCE
        ],
    )
    conn.execute(
        insert(assignment_intervals),
        [
            {"agent_id": h.agent_id, "conversation_id": h.conversation_id, "started_at": h.start, "ended_at": h.end}
            for h in HANDLING
        ],
    )


@pytest.fixture(params=["raw rows", "settled hours"])
async def counted(request: pytest.FixtureRequest, db: Database) -> Database:
    """The same database read from raw rows only, or after the hourly rollup settled the day."""
    if request.param == "settled hours":
        hours = await db.run_write(lambda conn: rollup_tx(conn, END + timedelta(hours=3), 60, 5))
        assert hours >= 2
    return db


SPANS = [
    (START, END),
    (START - timedelta(minutes=30), END + timedelta(minutes=45)),
    (START + timedelta(minutes=10), END),
]


@pytest.mark.parametrize("span", SPANS, ids=["the hour", "ragged edges", "inside the hour"])
async def test_queue_figures_from_sql_match_the_formulas(counted: Database, span: tuple[datetime, datetime]) -> None:
    start, end = span
    got = await queue_metrics(counted, start, end, end, CONFIG.threshold_seconds, CONFIG.short_abandon_seconds)
    _same_queues(got, queue_report(RECORDS, start, end, end, CONFIG))
    # Other thresholds than the rollup's are counted from the raw rows.
    strict = ServiceLevelConfig(threshold_seconds=30, short_abandon_seconds=0)
    _same_queues(await queue_metrics(counted, start, end, end, 30, 0), queue_report(RECORDS, start, end, end, strict))


def _same_queues(got: dict[Any, QueueMetrics], expected: dict[Any, QueueMetrics]) -> None:
    """The same figures; a queue with nothing in the range may be left out of the SQL answer."""
    assert set(got) <= set(expected)
    for queue_id, want in expected.items():
        have = got.get(queue_id, QueueMetrics(queue_id, 0, None, 0, 0, 0, 0, None, None, 0, None, None))
        assert asdict(have) == pytest.approx(asdict(want)), queue_id


@pytest.mark.parametrize("span", SPANS, ids=["the hour", "ragged edges", "inside the hour"])
async def test_agent_figures_and_occupancy_from_sql_match_the_formulas(
    counted: Database, span: tuple[datetime, datetime]
) -> None:
    start, end = span
    got = await agent_metrics(counted, start, end, end)
    expected = agent_report(RECORDS, PRESENCE, HANDLING, start, end)
    assert set(got) == set(expected)
    for agent_id, want in expected.items():
        have = got[agent_id]
        assert have["agent_id"] == agent_id
        assert have["handled"] == want.handled
        assert have["average_handle_time_seconds"] == pytest.approx(want.average_handle_time_seconds)
        assert have["available_seconds"] == pytest.approx(want.available_seconds)
        assert have["handling_seconds"] == pytest.approx(want.handling_seconds)
        assert have["occupancy"] == pytest.approx(want.occupancy)


async def test_settled_hours_are_frozen_against_later_edits(db: Database) -> None:
    await db.run_write(lambda conn: rollup_tx(conn, END + timedelta(hours=3), 60, 5))

    def forget_the_first_answer(conn: Connection) -> None:
        conn.execute(update(conversations).where(conversations.c.id == 1).values(first_agent_response_at=None))

    await db.run_write(forget_the_first_answer)
    settled = await queue_metrics(db, START, END, END, 60, 5)
    assert settled[1].answered == 3
    # Counted from the raw rows (other thresholds), the edit shows.
    assert (await queue_metrics(db, START, END, END, 61, 5))[1].answered == 2


def _three_busy_days(conn: Connection) -> None:
    """Three days of traffic for two queues and three agents, seeded, with shifts and breaks."""
    rng = random.Random(3)
    day0 = datetime(2026, 3, 2, tzinfo=UTC)
    conn.execute(insert(customers), [{"id": 1, "tier": "standard", "created_at": day0, "updated_at": day0}])
    identity = {"id": 1, "customer_id": 1, "channel": "webchat", "address": "v:y", "created_at": day0}
    conn.execute(insert(identities), [identity])
    conn.execute(insert(queues), [{"id": q, "name": f"q{q}", "created_at": day0} for q in (1, 2)])
    people = [{"id": a, "name": f"a{a}", "email": f"a{a}@example.com", "password_hash": "x"} for a in (1, 2, 3)]
    conn.execute(insert(agents), [{**p, "created_at": day0} for p in people])
    rows, spans, shifts = [], [], []
    for i in range(1, 301):
        created = day0 + timedelta(minutes=14.4 * i)
        enqueued = created + timedelta(seconds=rng.uniform(1, 30))
        row: dict[str, Any] = dict.fromkeys(
            ("assignee_id", "assigned_at", "first_agent_response_at", "resolved_at", "abandoned_at")
        )
        row.update(id=i, customer_id=1, identity_id=1, channel="webchat", status="resolved", queue_id=1 + i % 2,
                   created_at=created, updated_at=created, enqueued_at=enqueued)  # fmt: skip
        if rng.random() < 0.15:
            row["abandoned_at"] = enqueued + timedelta(seconds=rng.uniform(0, 200))
        else:
            agent = 1 + i % 3
            assigned = enqueued + timedelta(seconds=rng.uniform(5, 150))
            resolved = assigned + timedelta(seconds=rng.uniform(60, 5000))
            row.update(assignee_id=agent, assigned_at=assigned, resolved_at=resolved,
                       first_agent_response_at=assigned + timedelta(seconds=rng.uniform(0, 60)))  # fmt: skip
            spans.append({"agent_id": agent, "conversation_id": i, "started_at": assigned, "ended_at": resolved})
        rows.append(row)
    for agent in (1, 2, 3):
        at = day0 + timedelta(minutes=agent * 17)
        while at < day0 + timedelta(days=3):
            length = timedelta(minutes=rng.uniform(20, 300))
            kind = "available" if rng.random() < 0.7 else "away"
            shifts.append({"agent_id": agent, "presence": kind, "started_at": at, "ended_at": at + length})
            at += length + timedelta(minutes=rng.uniform(0, 60))
    conn.execute(insert(conversations), rows)
    conn.execute(insert(presence_intervals), shifts)
    conn.execute(insert(assignment_intervals), spans)


async def test_stored_days_and_hours_give_the_raw_figures(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        await db.run_write(_three_busy_days)
        day0 = datetime(2026, 3, 2, tzinfo=UTC)
        now = day0 + timedelta(days=3, hours=6)
        spans = [
            (day0, day0 + timedelta(days=3)),
            (day0 + timedelta(hours=5, minutes=13), day0 + timedelta(days=2, hours=20, minutes=41)),
            (day0 + timedelta(days=1, hours=2), day0 + timedelta(days=1, hours=9, minutes=30)),
        ]
        before = [(await queue_metrics(db, a, b, now, 60, 5), await agent_metrics(db, a, b, now)) for a, b in spans]
        while await db.run_write(lambda conn: rollup_tx(conn, now, 60, 5)):
            pass
        after = [(await queue_metrics(db, a, b, now, 60, 5), await agent_metrics(db, a, b, now)) for a, b in spans]
        for (raw_queues, raw_agents), (stored_queues, stored_agents) in zip(before, after, strict=True):
            assert set(stored_queues) == set(raw_queues) and set(stored_agents) == set(raw_agents)
            for queue_id, raw_queue in raw_queues.items():
                assert asdict(stored_queues[queue_id]) == pytest.approx(asdict(raw_queue))
            for agent_id, raw_agent in raw_agents.items():
                assert stored_agents[agent_id] == pytest.approx(raw_agent)
            assert sum(m.answered for m in raw_queues.values()) > 10
    finally:
        await db.dispose()
