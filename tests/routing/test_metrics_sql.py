"""The SQL in docs/metrics.md gives the same figures as the Python formulas, on the hand-computed hour."""

from __future__ import annotations

import os
import re
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from hub.routing.metrics import agent_report, queue_report
from tests.routing.test_metrics import CONFIG, END, HANDLING, PRESENCE, RECORDS, START

pytestmark = pytest.mark.postgres
PG_URL = os.environ.get("KEFU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


def _sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def _positional(sql: str, names: list[str]) -> str:
    """Turn :name parameters into asyncpg's $n, leaving ::casts alone."""
    return re.sub(r"(?<!:):([a-z]+)\b", lambda m: f"${names.index(m.group(1)) + 1}", sql)


def _num(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


@pytest.fixture
async def conn() -> asyncpg.Connection:
    try:
        connection = await asyncpg.connect(PG_URL, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    # Temporary tables only: they vanish with the session and shadow nothing persistent.
    await connection.execute(
        """
        CREATE TEMP TABLE conversations (id int, queue_id int, status text, enqueued_at timestamptz,
          assigned_at timestamptz, first_agent_response_at timestamptz, resolved_at timestamptz,
          abandoned_at timestamptz);
        CREATE TEMP TABLE agent_presence_intervals (agent_id int, presence text, started_at timestamptz,
          ended_at timestamptz);
        CREATE TEMP TABLE assignment_intervals (agent_id int, conversation_id int, started_at timestamptz,
          ended_at timestamptz);
        """
    )
    await connection.executemany(
        "INSERT INTO conversations VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [
            (
                r.id,
                r.queue_id,
                r.status.value,
                r.enqueued_at,
                r.assigned_at,
                r.first_agent_response_at,
                r.resolved_at,
                r.abandoned_at,
            )
            for r in RECORDS
        ],
    )
    await connection.executemany(
        "INSERT INTO agent_presence_intervals VALUES ($1, $2, $3, $4)",
        [(p.agent_id, p.presence.value, p.start, p.end) for p in PRESENCE],
    )
    await connection.executemany(
        "INSERT INTO assignment_intervals VALUES ($1, $2, $3, $4)",
        [(h.agent_id, h.conversation_id, h.start, h.end) for h in HANDLING],
    )
    yield connection
    await connection.close()


async def test_the_queue_query_in_the_docs_matches_the_queue_report(conn: asyncpg.Connection) -> None:
    names = ["start", "end", "now", "t", "short"]
    sql = _positional(_sql_blocks()[0], names)
    rows = await conn.fetch(sql, START, END, END, CONFIG.threshold_seconds, CONFIG.short_abandon_seconds)
    expected = queue_report(RECORDS, START, END, END, CONFIG)
    assert {r["queue_id"] for r in rows} == set(expected)
    for row in rows:
        q = expected[row["queue_id"]]
        assert (
            row["waiting_now"],
            row["answered"],
            row["answered_within"],
            row["abandoned"],
            row["short_abandoned"],
            row["handled"],
        ) == (q.waiting_now, q.answered, q.answered_within_threshold, q.abandoned, q.short_abandoned, q.handled)
        assert _num(row["longest_wait"]) == q.longest_wait_seconds
        assert _num(row["service_level"]) == q.service_level
        assert _num(row["asa"]) == q.average_speed_of_answer_seconds
        assert _num(row["aht"]) == q.average_handle_time_seconds
        assert _num(row["abandonment_rate"]) == q.abandonment_rate


async def test_the_occupancy_query_in_the_docs_matches_the_agent_report(conn: asyncpg.Connection) -> None:
    sql = _positional(_sql_blocks()[1], ["start", "end"])
    rows = await conn.fetch(sql, START, END)
    expected = agent_report(RECORDS, PRESENCE, HANDLING, START, END)
    assert {r["agent_id"]: (_num(r["available_s"]), _num(r["handling_s"])) for r in rows} == {
        a: (m.available_seconds, m.handling_seconds) for a, m in expected.items()
    }
