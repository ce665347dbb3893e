"""Complaints in the hub at scale: scoring time per message, and the churn report over a large database.

Run: python -m bench.churn_report [--customers 100000] [--messages 1000000] [--db sqlite,postgres]
                                  [--rounds 3] [--score-messages 300] [--seed 7]
  scoring   the labelled set (tests/fixtures/complaints), each message scored `rounds` times through the
            service's scoring executor (as the hub does it); per-message median, then p50/p99/max over messages.
  load      `customers` customers with one identity each, ~2.6 conversations each and `messages` messages,
            complaint cases on ~12% of conversations, CSAT on ~40%, ~8% former customers (with their
            customer.updated log entry); bulk-loaded with Connection.execute(insert(table), rows).
  reports   the churn report, the complaint report (12 weeks), the key-account and full risk lists: the
            first run and the median of `rounds`, wall time as an API caller waits for it.
  hub path  `score-messages` new inbound messages stored through Actions.receive_inbound, then scored by
            ComplaintService.score (read, executor, write): per-message p50/p99.
PostgreSQL: KEFU_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres); a throwaway
database is created and dropped.
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

from sqlalchemy import Connection, insert, text

from bench.complaints import load_labelled, pct
from channels.base import InboundMessage
from hub.actions import Actions
from hub.analysis import reports
from hub.analysis.cases import cases as case_table
from hub.analysis.complaints import default_detector
from hub.analysis.config import AnalysisSettings
from hub.analysis.examples import CATEGORIES
from hub.analysis.service import ComplaintService
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.events import InProcessBus
from hub.storage import migrate
from hub.storage.database import Database
from hub.storage.tables import Conversation, Customer, CustomerEvent, Identity, Message

NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
CHANNELS = ("webchat", "email", "sms", "whatsapp", "telegram")
TIERS = ("free",) * 30 + ("standard",) * 50 + ("premium",) * 12 + ("enterprise",) * 5 + ("key",) * 3
STAGES = ("customer",) * 80 + ("former",) * 8 + ("trial",) * 7 + ("loyal",) * 5
CATEGORY_WEIGHTS = (30, 18, 16, 10, 12, 9, 5)
CHUNK = 20_000
TEXTS = [
    "Hi, where is my order?",
    "Thanks, that helps.",
    "我的快递什么时候到？",
    "Can I change the delivery address?",
    "好的，谢谢",
    "Still waiting for my refund!!",
]


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Rows in lists of `size`, so a million rows never sit in memory at once."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Synthetic:
    """A year of support history, generated deterministically from a seed."""

    def __init__(self, customers: int, messages: int, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.n = customers
        self.target_messages = messages
        rng = self.rng
        self.tier = [rng.choice(TIERS) for _ in range(customers)]
        self.stage = [rng.choice(STAGES) for _ in range(customers)]
        self.channel = [rng.choice(CHANNELS) for _ in range(customers)]
        # Former customers left some time in the last year; their conversations come before that.
        self.left_at = [
            NOW - timedelta(days=rng.uniform(5, 330)) if self.stage[i] == "former" else None for i in range(customers)
        ]
        self.conversations: list[tuple[int, datetime]] = []  # (customer index, created_at)
        for i in range(customers):
            end = self.left_at[i] or NOW
            for _ in range(rng.choice((1, 1, 2, 2, 3, 3, 4, 5))):
                # Most contacts are recent; a long tail reaches back a year.
                self.conversations.append((i, end - timedelta(days=min(365.0, rng.expovariate(1 / 80) + 0.1))))
        per, extra = divmod(messages, len(self.conversations))
        self.per_conversation = [per + (1 if k < extra else 0) for k in range(len(self.conversations))]

    def customers(self) -> Iterator[dict[str, Any]]:
        for i in range(self.n):
            yield {
                "id": i + 1,
                "display_name": f"Customer {i + 1}",
                "email": f"c{i + 1}@example.com",
                "lifecycle_stage": self.stage[i],
                "tier": self.tier[i],
                "tags": [],
                "attributes": {},
                "created_at": NOW - timedelta(days=400),
                "updated_at": self.left_at[i] or NOW - timedelta(days=400),
            }

    def identities(self) -> Iterator[dict[str, Any]]:
        for i in range(self.n):
            yield {
                "id": i + 1,
                "customer_id": i + 1,
                "channel": self.channel[i],
                "address": f"{self.channel[i]}:{i + 1}",
                "verified": False,
                "opted_out": False,
                "created_at": NOW - timedelta(days=400),
            }

    def _rng(self, part: str) -> random.Random:
        # Each table draws from its own stream, so every database gets the same rows.
        return random.Random(f"{self.seed}-{part}")

    def conversation_rows(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("conversations")
        for k, (i, created) in enumerate(self.conversations):
            last = created + timedelta(minutes=5 * self.per_conversation[k])
            resolved = last + timedelta(minutes=30)
            rated = rng.random() < 0.4
            yield {
                "id": k + 1,
                "customer_id": i + 1,
                "identity_id": i + 1,
                "channel": self.channel[i],
                "status": "resolved",
                "priority": "normal",
                "labels": [],
                "last_seq": self.per_conversation[k],
                "unread_count": 0,
                "created_at": created,
                "updated_at": resolved,
                "resolved_at": resolved,
                "last_customer_message_at": last,
                "last_message_at": resolved,
                "csat_score": rng.choice((1, 2, 3, 4, 4, 5, 5, 5)) if rated else None,
                "required_skills": [],
                "declined_by": {},
            }

    def message_rows(self) -> Iterator[dict[str, Any]]:
        message_id = 0
        for k, (i, created) in enumerate(self.conversations):
            for seq in range(1, self.per_conversation[k] + 1):
                message_id += 1
                inbound = seq % 2 == 1
                yield {
                    "id": message_id,
                    "conversation_id": k + 1,
                    "seq": seq,
                    "direction": "in" if inbound else "out",
                    "author": "customer" if inbound else "agent",
                    "channel": self.channel[i],
                    "external_id": f"m{message_id}",
                    "text": TEXTS[message_id % len(TEXTS)],
                    "attachments": [],
                    "buttons": [],
                    "meta": {},
                    "automated": False,
                    "delivery_status": "received" if inbound else "sent",
                    "attempts": 0,
                    "created_at": created + timedelta(minutes=5 * (seq - 1)),
                }

    def case_rows(self) -> Iterator[dict[str, Any]]:
        rng = self._rng("cases")
        first_message = 1
        case_id = 0
        for k, (i, created) in enumerate(self.conversations):
            if rng.random() < 0.12:
                case_id += 1
                roll = rng.random()
                resolved = created + timedelta(hours=rng.expovariate(1 / 30)) if roll < 0.85 else None
                status = "resolved" if resolved else ("open" if roll < 0.95 else "in_progress")
                yield {
                    "id": case_id,
                    "conversation_id": k + 1,
                    "customer_id": i + 1,
                    "channel": self.channel[i],
                    "status": status,
                    "category": rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                    "severity": rng.choice(("low", "low", "medium", "high")),
                    "threatened_to_leave": rng.random() < 0.05,
                    "first_message_id": first_message,
                    "message_count": 1,
                    "opened_at": created,
                    "last_message_at": created,
                    "updated_at": resolved or created,
                    "resolved_at": resolved,
                    "resolved_by": "agent:1" if resolved else None,
                    "outcome_state": "sent" if resolved else None,
                }
            first_message += self.per_conversation[k]

    def former_events(self) -> Iterator[dict[str, Any]]:
        for i in range(self.n):
            if self.left_at[i] is not None:
                yield {
                    "customer_id": i + 1,
                    "kind": "customer.updated",
                    "actor": "agent:1",
                    "at": self.left_at[i],
                    "data": {"before": {"lifecycle_stage": "customer"}, "after": {"lifecycle_stage": "former"}},
                }


def _bulk_insert(table: Any, batch: list[dict[str, Any]]) -> Callable[[Connection], None]:
    def write(conn: Connection) -> None:
        conn.execute(insert(table), batch)

    return write


async def load(db: Database, data: Synthetic) -> dict[str, float]:
    """Bulk-load every table; returns seconds per table."""
    took: dict[str, float] = {}
    tables: list[tuple[str, Any, Callable[[], Iterator[dict[str, Any]]]]] = [
        ("customers", Customer.__table__, data.customers),
        ("identities", Identity.__table__, data.identities),
        ("conversations", Conversation.__table__, data.conversation_rows),
        ("messages", Message.__table__, data.message_rows),
        ("complaint_cases", case_table, data.case_rows),
        ("customer_events", CustomerEvent.__table__, data.former_events),
    ]
    for name, table, rows in tables:
        t0 = time.perf_counter()
        for batch in chunks(rows()):
            await db.run_write(_bulk_insert(table, batch))
        took[name] = time.perf_counter() - t0
    if not db.is_sqlite:
        async with db.engine.begin() as conn:
            for name, *_ in tables:
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))")
                )
            await conn.execute(text("ANALYZE"))
    return took


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> tuple[float, float, Any]:
    """First-run and median wall seconds, and the last result."""
    walls = []
    result = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = await fn()
        walls.append(time.perf_counter() - t0)
    return walls[0], statistics.median(walls), result


async def scoring_through_executor(rounds: int) -> None:
    """Detector time per message as the hub pays it: one executor hop per message."""
    detector = default_detector()
    labelled = load_labelled()
    loop = asyncio.get_running_loop()
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1)
    pure, hopped = [], []
    for ex in labelled:
        p, h = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            detector.score(ex.text, ex.channel)
            p.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await loop.run_in_executor(pool, detector.score, ex.text, ex.channel)
            h.append(time.perf_counter() - t0)
        pure.append(statistics.median(p) * 1000)
        hopped.append(statistics.median(h) * 1000)
    pool.shutdown()
    for label, values in (("detector.score", pure), ("through the executor", hopped)):
        print(
            f"  {label:<22} n={len(values)}  p50 {pct(values, 0.5):.3f}  p99 {pct(values, 0.99):.3f}"
            f"  max {max(values):.3f} ms"
        )


async def hub_path(db: Database, data_dir: Path, n: int) -> None:
    """Store and score `n` new complaint-ish messages through Actions and ComplaintService."""
    settings = Settings(data_dir=data_dir, database_url=str(db.url))
    bus = InProcessBus()
    actions = Actions(db, bus, settings, AttachmentStore(data_dir / "attachments"), clock=lambda: NOW)
    service = ComplaintService(db, bus, actions, AnalysisSettings(), lambda: NOW)
    await service.start()
    await service.ready()
    labelled = load_labelled()
    times = []
    for k in range(n):
        ex = labelled[k % len(labelled)]
        got = await actions.receive_inbound(
            InboundMessage(
                channel=ex.channel or "webchat",
                external_id=f"bench-{uuid.uuid4().hex}",
                sender=f"bench-sender-{k % 50}",
                text=ex.text,
                received_at=NOW,
            )
        )
        t0 = time.perf_counter()
        await service.score(got.message_id)
        times.append((time.perf_counter() - t0) * 1000)
    await service.stop()
    print(
        f"  store + score {n} messages: score step p50 {pct(times, 0.5):.2f}  p99 {pct(times, 0.99):.2f}"
        f"  max {max(times):.2f} ms (read + executor + write)"
    )


async def run_database(kind: str, data: Synthetic, rounds: int, score_messages: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="kefu-churn-bench-"))
    pg_name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'kefu.db'}"
    else:
        from tests.support import create_pg_database

        url = await create_pg_database(pg_name)
    db = Database(url)
    try:
        await migrate.upgrade(db)
        t0 = time.perf_counter()
        took = await load(db, data)
        total = time.perf_counter() - t0
        async with db.read() as conn:
            counts = {
                name: (await conn.execute(text(f"SELECT COUNT(*) FROM {name}"))).scalar_one()
                for name in ("customers", "conversations", "messages", "complaint_cases")
            }
        print(f"{kind}: loaded in {total:.1f} s  " + "  ".join(f"{k} {v:,}" for k, v in counts.items()))
        print("  load seconds: " + "  ".join(f"{k} {v:.1f}" for k, v in took.items()))
        settings = AnalysisSettings()
        checks: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("churn report", lambda: reports.churn_report(db, NOW, settings)),
            ("complaint report, 12 weeks", lambda: reports.complaint_report(db, NOW - timedelta(days=84), NOW)),
            ("complaint report, 1 year", lambda: reports.complaint_report(db, NOW - timedelta(days=365), NOW)),
            ("key accounts at risk", lambda: reports.risk_list(db, NOW, settings, key_accounts=True)),
            ("risk list (recent complainers)", lambda: reports.risk_list(db, NOW, settings, min_level="medium")),
        ]
        for label, fn in checks:
            first, median, result = await timed(fn, rounds)
            extra = ""
            if label == "churn report":
                extra = (
                    f"  ({result['customers']:,} customers, {result['leavers']:,} left, "
                    f"{result['left_after_complaints']['customers']:,} after complaints)"
                )
            elif label.startswith("key") or label.startswith("risk"):
                extra = f"  ({result['customers']:,} listed)"
            print(f"  {label:<32} first {first:6.2f} s  median of {rounds} {median:6.2f} s{extra}")
        await hub_path(db, tmp, score_messages)
    finally:
        await db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
        if kind == "postgres":
            from tests.support import drop_pg_database

            await drop_pg_database(pg_name)


async def main_async(args: argparse.Namespace) -> None:
    print(
        f"churn report bench: {args.customers:,} customers, {args.messages:,} messages, "
        f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs"
    )
    print("scoring (labelled set, median of rounds per message)")
    await scoring_through_executor(args.rounds)
    t0 = time.perf_counter()
    data = Synthetic(args.customers, args.messages, args.seed)
    print(f"generated the plan in {time.perf_counter() - t0:.1f} s: {len(data.conversations):,} conversations")
    for kind in args.db.split(","):
        await run_database(kind.strip(), data, args.rounds, args.score_messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--score-messages", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
