"""Routing against a real database: metrics query time at scale, and routing ticks per second.

Run: python -m bench.routing_db [--only sqlite|postgres] [--conversations 100000] [--messages 1000000]
                                [--agents 1000] [--waiting 50000] [--rounds 5]
Metrics: 100,000 conversations over 30 days (10 queues, 200 agents, presence and assignment intervals)
and 1,000,000 messages, bulk-loaded with `insert(table)` executemany; the hourly rollup catches up (as a
running hub does every minute), then the queue and agent reports of docs/metrics.md are timed for ranges
ending now of 1 hour, 1 day, 7 days and 30 days (median of --rounds after a warm-up), and once more
with a non-default threshold, which the rollup cannot serve (raw rows only).
Ticks: 1,000 available agents in 20 queues and 50,000 waiting conversations; times
  cold      the first planning pass (every agent free: thousands of offers written),
  full      a pass when every slot is taken (the backlog is not even read),
  churn     50 conversations resolved, then a pass that fills the freed slots,
  expiry    every offer rings out: expire them all (misses, declined sets), then plan again.
PostgreSQL: KEFU_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a scratch database
is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Connection, Table, insert, select, update

from hub.routing.changes import Ctx
from hub.routing.config import RoutingSettings
from hub.routing.reports import agent_metrics, queue_metrics
from hub.routing.rollups import rollup_tx
from hub.routing.store import (
    agent_queues,
    agents,
    assignment_intervals,
    conversations,
    customers,
    identities,
    offers,
    presence_intervals,
    queues,
)
from hub.routing.writes import expire_offers_tx, plan_tx
from hub.storage import migrate
from hub.storage.database import Database
from hub.storage.tables import Message

messages: Table = Message.__table__  # type: ignore[assignment]
PG_ADMIN = os.environ.get("KEFU_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
END = datetime(2026, 3, 31, 0, 0, tzinfo=UTC)
START = END - timedelta(days=30)
CHUNK = 10_000


# ---------------------------------------------------------------- databases


async def scratch_databases(only: str | None) -> list[tuple[str, str, Callable[[], Awaitable[None]]]]:
    """(label, url, cleanup) for a fresh SQLite file and a fresh PostgreSQL database."""
    found: list[tuple[str, str, Callable[[], Awaitable[None]]]] = []
    if only in (None, "sqlite"):
        folder = Path(tempfile.mkdtemp(prefix="kefu-bench-"))

        async def remove(folder: Path = folder) -> None:
            shutil.rmtree(folder, ignore_errors=True)

        found.append(("sqlite", f"sqlite+aiosqlite:///{folder / 'bench.db'}", remove))
    if only in (None, "postgres"):
        name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
        try:
            admin = await asyncpg.connect(PG_ADMIN, timeout=3)
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL not reachable at {PG_ADMIN}: {exc}; skipping it")
            return found
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()

        async def drop(name: str = name) -> None:
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()

        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        found.append(("postgres", f"{base}/{name}", drop))
    return found


async def bulk(db: Database, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """Insert rows in chunks with executemany (ORM add_all would issue one INSERT per row)."""
    count = 0
    chunk: list[dict[str, Any]] = []

    def write(conn: Connection, batch: list[dict[str, Any]]) -> None:
        conn.execute(insert(table), batch)

    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            batch, chunk = chunk, []
            await db.run_write(lambda conn, b=batch: write(conn, b))  # type: ignore[misc]
            count += len(batch)
    if chunk:
        await db.run_write(lambda conn: write(conn, chunk))
        count += len(chunk)
    return count


async def analyze(db: Database) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would produce eventually."""
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")


# ---------------------------------------------------------------- metrics at scale


def _people(n_customers: int, rng: random.Random) -> tuple[Iterator[dict[str, Any]], Iterator[dict[str, Any]]]:
    customers_rows = (
        {"id": i, "tier": "key" if rng.random() < 0.05 else "standard", "lifecycle_stage": "customer", "tags": [],
         "attributes": {}, "created_at": START, "updated_at": START}
        for i in range(1, n_customers + 1)
    )  # fmt: skip
    identity_rows = (
        {"id": i, "customer_id": i, "channel": "webchat", "address": f"v:{i}", "verified": False, "opted_out": False,
         "created_at": START}
        for i in range(1, n_customers + 1)
    )  # fmt: skip
    return customers_rows, identity_rows


def metric_conversations(n: int, n_customers: int, n_agents: int, rng: random.Random) -> list[dict[str, Any]]:
    """A month of traffic: most answered within a minute or two, some abandoned, a few still open."""
    rows = []
    span = (END - START).total_seconds()
    for i in range(1, n + 1):
        created = START + timedelta(seconds=span * i / (n + 1))
        enqueued = created + timedelta(seconds=rng.uniform(5, 120))
        row: dict[str, Any] = {
            "id": i, "customer_id": rng.randint(1, n_customers), "identity_id": 1, "channel": "webchat",
            "status": "resolved", "priority": "normal", "queue_id": 1 + i % 10, "labels": [], "last_seq": 10,
            "unread_count": 0, "created_at": created, "updated_at": created, "enqueued_at": enqueued,
            "required_skills": [], "declined_by": {}, "assignee_id": None, "assigned_at": None, "offered_at": None,
            "first_agent_response_at": None, "resolved_at": None, "abandoned_at": None,
        }  # fmt: skip
        row["identity_id"] = row["customer_id"]
        roll = rng.random()
        if created > END - timedelta(minutes=20) and roll < 0.5:
            row["status"] = "queued"
        elif roll < 0.08:
            row["abandoned_at"] = enqueued + timedelta(seconds=rng.expovariate(1 / 90))
            row["resolved_at"] = row["abandoned_at"] + timedelta(seconds=120)
        else:
            wait = rng.expovariate(1 / 45)
            row["assignee_id"] = 1 + i % n_agents
            row["assigned_at"] = enqueued + timedelta(seconds=wait * 0.6)
            row["offered_at"] = row["assigned_at"]
            row["first_agent_response_at"] = enqueued + timedelta(seconds=wait)
            if created > END - timedelta(hours=1) and roll < 0.5:
                row["status"] = "assigned"
            else:
                row["resolved_at"] = row["assigned_at"] + timedelta(seconds=rng.uniform(120, 1500))
        rows.append(row)
    return rows


def metric_messages(convs: list[dict[str, Any]], total: int) -> Iterator[dict[str, Any]]:
    """`total` messages spread over the conversations, alternating customer and agent."""
    per = max(1, total // len(convs))
    n = 0
    for conv in convs:
        for seq in range(1, per + 1):
            n += 1
            if n > total:
                return
            inbound = seq % 2 == 1
            yield {
                "id": n, "conversation_id": conv["id"], "seq": seq, "direction": "in" if inbound else "out",
                "author": "customer" if inbound else "agent", "channel": "webchat", "text": f"message {seq}",
                "attachments": [], "buttons": [], "meta": {}, "automated": False,
                "delivery_status": "received" if inbound else "delivered", "attempts": 0,
                "created_at": conv["created_at"] + timedelta(seconds=seq * 20),
            }  # fmt: skip


def metric_intervals(
    convs: list[dict[str, Any]], n_agents: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agents available in 8-hour shifts with short breaks; one assignment interval per handled conversation."""
    presence = []
    for agent in range(1, n_agents + 1):
        day = START
        while day < END:
            start = day + timedelta(hours=(agent % 3) * 8)
            for piece in range(4):
                a = start + timedelta(hours=2 * piece)
                b = a + timedelta(minutes=rng.uniform(100, 120))
                presence.append({"agent_id": agent, "presence": "available", "started_at": a, "ended_at": b})
                presence.append(
                    {"agent_id": agent, "presence": "away", "started_at": b, "ended_at": a + timedelta(hours=2)}
                )
            day += timedelta(days=1)
    assigned = [
        {"agent_id": c["assignee_id"], "conversation_id": c["id"], "started_at": c["assigned_at"],
         "ended_at": c.get("resolved_at")}
        for c in convs
        if c.get("assignee_id")
    ]  # fmt: skip
    return presence, assigned


async def bench_metrics(label: str, url: str, n_conv: int, n_msg: int, rounds: int) -> None:
    rng = random.Random(7)
    db = Database(url)
    try:
        await migrate.upgrade(db)
        n_customers, n_agents = 20_000, 200
        t = time.perf_counter()
        people, ids = _people(n_customers, rng)
        await bulk(db, customers, people)
        await bulk(db, identities, ids)
        await bulk(db, queues, ({"id": q, "name": f"queue {q}", "skills": [], "policy": "least_busy",
                                 "offer_timeout_s": 30, "auto_accept": False, "created_at": START}
                                for q in range(1, 11)))  # fmt: skip
        await bulk(db, agents, ({"id": a, "name": f"agent {a}", "email": f"a{a}@example.com", "password_hash": "x",
                                 "role": "agent", "presence": "offline", "skills": [], "languages": [],
                                 "capacity": {"chat": 3}, "active": True, "created_at": START}
                                for a in range(1, n_agents + 1)))  # fmt: skip
        convs = metric_conversations(n_conv, n_customers, n_agents, rng)
        await bulk(db, conversations, iter(convs))
        loaded_messages = await bulk(db, messages, metric_messages(convs, n_msg))
        presence, assigned = metric_intervals(convs, n_agents, rng)
        await bulk(db, presence_intervals, iter(presence))
        await bulk(db, assignment_intervals, iter(assigned))
        await analyze(db)
        print(
            f"[{label}] loaded {len(convs):,} conversations, {loaded_messages:,} messages, "
            f"{len(presence):,} presence and {len(assigned):,} assignment intervals in {time.perf_counter() - t:.1f}s"
        )
        # A running hub settles each hour as it passes; a fresh database catches up a day per call.
        t, hours = time.perf_counter(), 0
        while settled := await db.run_write(lambda conn: rollup_tx(conn, END, 60, 5)):
            hours += settled
        took = time.perf_counter() - t
        print(
            f"[{label}] rollup caught up {hours} hours in {took:.1f}s ({took / max(hours, 1) * 1000:.0f} ms per hour)"
        )
        for span_label, span in (("1 hour", timedelta(hours=1)), ("1 day", timedelta(days=1)),
                                 ("7 days", timedelta(days=7)), ("30 days", timedelta(days=30))):  # fmt: skip
            start = END - span
            q = await _median(rounds, lambda s=start: queue_metrics(db, s, END, END, 60, 5))  # type: ignore[misc]
            a = await _median(rounds, lambda s=start: agent_metrics(db, s, END, END))  # type: ignore[misc]
            raw = await _median(rounds, lambda s=start: queue_metrics(db, s, END, END, 45, 5))  # type: ignore[misc]
            print(
                f"[{label}] metrics over {span_label:>7}: queues {q * 1000:6.1f} ms   agents {a * 1000:6.1f} ms"
                f"   (queues, raw rows only: {raw * 1000:6.1f} ms)"
            )
    finally:
        await db.dispose()


async def _median(rounds: int, run: Callable[[], Awaitable[object]]) -> float:
    await run()  # warm caches and prepared statements
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        await run()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# ---------------------------------------------------------------- routing ticks


async def bench_ticks(label: str, url: str, n_agents: int, n_waiting: int, rounds: int) -> None:
    rng = random.Random(11)
    db = Database(url)
    now = END
    try:
        await migrate.upgrade(db)
        n_queues = 20
        people, ids = _people(n_waiting, rng)
        await bulk(db, customers, people)
        await bulk(db, identities, ids)
        await bulk(db, queues, ({"id": q, "name": f"queue {q}", "skills": [f"s{q % 5}"] if q % 4 == 0 else [],
                                 "policy": "longest_idle" if q % 5 == 0 else "least_busy", "offer_timeout_s": 30,
                                 "auto_accept": False, "max_missed_offers": 0, "created_at": START}
                                for q in range(1, n_queues + 1)))  # fmt: skip
        await bulk(db, agents, ({"id": a, "name": f"agent {a}", "email": f"a{a}@example.com", "password_hash": "x",
                                 "role": "agent", "presence": "available", "skills": [f"s{a % 5}", f"s{(a + 2) % 5}"],
                                 "languages": [], "capacity": {"chat": 3, "email": 5}, "active": True,
                                 "created_at": START, "available_since": START + timedelta(seconds=a),
                                 "missed_offers_in_a_row": 0}
                                for a in range(1, n_agents + 1)))  # fmt: skip
        memberships = (
            {"agent_id": a, "queue_id": q}
            for a in range(1, n_agents + 1)
            for q in {1 + a % n_queues, 1 + (a * 7) % n_queues, 1 + (a * 13) % n_queues}
        )
        await bulk(db, agent_queues, memberships)
        channels = ["webchat"] * 5 + ["sms", "whatsapp"] + ["email"] * 3
        await bulk(db, conversations, (
            {"id": i, "customer_id": i, "identity_id": i, "channel": rng.choice(channels), "status": "queued",
             "priority": rng.choice(["urgent"] + ["high"] * 3 + ["normal"] * 12 + ["low"] * 4),
             "queue_id": 1 + i % n_queues, "labels": [], "last_seq": 1, "unread_count": 1,
             "created_at": now - timedelta(seconds=n_waiting - i), "updated_at": now,
             "enqueued_at": now - timedelta(seconds=n_waiting - i), "required_skills": [], "declined_by": {}}
            for i in range(1, n_waiting + 1)))  # fmt: skip
        await analyze(db)
        settings = RoutingSettings()

        async def tick(at: datetime) -> dict[str, Any]:
            ctx = Ctx(at, settings, "bench")
            expired = await db.run_write(lambda conn: expire_offers_tx(conn, ctx))
            planned = await db.run_write(lambda conn: plan_tx(conn, ctx))
            return {**expired.data, **planned.data}

        t = time.perf_counter()
        first = await tick(now)
        cold = time.perf_counter() - t
        print(f"[{label}] {n_agents:,} agents, {n_waiting:,} waiting: cold pass {cold * 1000:.0f} ms, {first}")
        full = await _median(rounds, lambda: tick(now))
        print(f"[{label}] full floor pass: {full * 1000:.1f} ms ({1 / full:.0f} passes/s)")

        churn_times = []
        for _ in range(rounds):
            await db.run_write(lambda conn: _accept_and_resolve(conn, 50, now, rng))
            t = time.perf_counter()
            result = await tick(now)
            churn_times.append(time.perf_counter() - t)
        churn = statistics.median(churn_times)
        print(f"[{label}] churn pass (50 resolved): {churn * 1000:.1f} ms ({1 / churn:.0f} passes/s), last {result}")

        expiry_times = []
        for _ in range(rounds):
            now += timedelta(seconds=31)
            t = time.perf_counter()
            result = await tick(now)
            expiry_times.append(time.perf_counter() - t)
        expiry = statistics.median(expiry_times)
        print(f"[{label}] expiry pass (all offers ring out, re-plan): {expiry * 1000:.0f} ms, last {result}")
    finally:
        await db.dispose()


def _accept_and_resolve(conn: Connection, n: int, now: datetime, rng: random.Random) -> None:
    """Agents take n ringing offers and finish them at once (capacity frees, the backlog moves)."""
    rows = conn.execute(select(offers.c.id, offers.c.conversation_id, offers.c.agent_id).limit(n * 4)).all()
    for row in rng.sample(rows, min(n, len(rows))):
        conn.execute(offers.delete().where(offers.c.id == row.id))
        conn.execute(
            update(conversations)
            .where(conversations.c.id == row.conversation_id)
            .values(status="resolved", assignee_id=row.agent_id, assigned_at=now, resolved_at=now)
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--waiting", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-metrics", action="store_true")
    parser.add_argument("--skip-ticks", action="store_true")
    args = parser.parse_args()
    print(f"cpus: {os.cpu_count()}")
    for label, url, cleanup in await scratch_databases(args.only):
        try:
            if not args.skip_metrics:
                await bench_metrics(label, url, args.conversations, args.messages, args.rounds)
        finally:
            await cleanup()
    for label, url, cleanup in await scratch_databases(args.only):
        try:
            if not args.skip_ticks:
                await bench_ticks(label, url, args.agents, args.waiting, args.rounds)
        finally:
            await cleanup()


if __name__ == "__main__":
    asyncio.run(main())
