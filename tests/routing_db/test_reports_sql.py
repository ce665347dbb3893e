"""The hub's metrics SQL gives the hand-computed hour of tests/routing/test_metrics.py on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from hub.routing.metrics import agent_report, queue_report
from hub.routing.reports import agent_metrics, queue_metrics
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


async def test_queue_figures_from_sql_match_the_formulas(db: Database) -> None:
    got = await queue_metrics(db, START, END, END, CONFIG.threshold_seconds, CONFIG.short_abandon_seconds)
    expected = queue_report(RECORDS, START, END, END, CONFIG)
    assert set(got) == set(expected)
    for queue_id, want in expected.items():
        assert asdict(got[queue_id]) == pytest.approx(asdict(want))


async def test_agent_figures_and_occupancy_from_sql_match_the_formulas(db: Database) -> None:
    got = await agent_metrics(db, START, END, END)
    expected = agent_report(RECORDS, PRESENCE, HANDLING, START, END)
    assert set(got) == set(expected)
    for agent_id, want in expected.items():
        have = got[agent_id]
        assert have["handled"] == want.handled
        assert have["average_handle_time_seconds"] == pytest.approx(want.average_handle_time_seconds)
        assert have["available_seconds"] == pytest.approx(want.available_seconds)
        assert have["handling_seconds"] == pytest.approx(want.handling_seconds)
        assert have["occupancy"] == pytest.approx(want.occupancy)
