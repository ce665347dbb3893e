"""Customer timeline through the running hub: a customer with 5,000 messages, paged and filtered over HTTP.

Run: python -m bench.customer_timeline [--messages 5000] [--others 20] [--pages 300] [--database-url URL]

Without --database-url it runs on a SQLite file, then on a throwaway PostgreSQL database when one
answers at KEFU_BENCH_PG_URL (default postgresql://postgres@127.0.0.1:5432/postgres).

The data is written straight into the tables in the shapes the hub's writers use (a message row and
its customer_events row per message, conversation state events), because pushing 15,000 messages
through the outbox would measure the outbox, not the timeline. The target customer has the messages
spread over 40 conversations on four channels and 200 days; other customers add as many rows again
so that the indexes have to pick the customer out. Every request is a real GET on localhost through
the agent API (login, roles, JSON), timed one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg  # type: ignore[import-untyped]
from aiohttp import web
from sqlalchemy import Connection, Table, insert

from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS, DATABASE
from hub.passwords import hash_password
from hub.storage.tables import Conversation, Customer, CustomerEvent, Identity, Message

PASSWORD = "bench-password-123"
CHANNELS = ("webchat", "sms", "email", "telegram")
PG_ADMIN = os.environ.get("KEFU_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORDS_EN = ("order", "parcel", "refund", "invoice", "delivery", "address", "password", "account", "price", "coupon")
WORDS_ZH = ("订单", "快递", "退款", "发票", "地址", "密码", "账户", "价格", "优惠券", "客服")
RARE = "zebracorn"


def _pct(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _sentence(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "我的" + "".join(rng.choice(WORDS_ZH) for _ in range(3)) + "有问题，请帮忙看看。"
    return "Hi, about my " + " ".join(rng.choice(WORDS_EN) for _ in range(4)) + ", can you check?"


def seed_tx(conn: Connection, messages: int, others: int, seed: int = 7) -> int:
    """Write the customers, conversations, messages and log rows; returns the target customer's id."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    customer_rows: list[dict[str, Any]] = []
    identity_rows: list[dict[str, Any]] = []
    conv_rows: list[dict[str, Any]] = []
    message_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    ids = {"conversation": 0, "message": 0, "identity": 0}
    plan = [(1, messages, 40)] + [(2 + i, messages // max(1, others), 4) for i in range(others)]
    for customer_id, count, conversations in plan:
        customer_rows.append({
            "id": customer_id, "display_name": f"Customer {customer_id}", "lifecycle_stage": "customer",
            "tier": "standard", "tags": [], "attributes": {}, "created_at": start, "updated_at": start,
        })
        identity_by_channel = {}
        for channel in CHANNELS:
            ids["identity"] += 1
            identity_by_channel[channel] = ids["identity"]
            identity_rows.append({"id": ids["identity"], "customer_id": customer_id, "channel": channel,
                                  "address": f"{channel}-{customer_id}", "verified": False, "opted_out": False,
                                  "created_at": start})
        per_conversation = max(1, count // conversations)
        made = 0
        for c in range(conversations):
            ids["conversation"] += 1
            conversation_id = ids["conversation"]
            channel = CHANNELS[c % len(CHANNELS)]
            opened = start + timedelta(days=200 * c / conversations)
            conv_rows.append({
                "id": conversation_id, "customer_id": customer_id, "identity_id": identity_by_channel[channel],
                "channel": channel, "status": "resolved", "priority": "normal", "labels": [], "last_seq": 0,
                "unread_count": 0, "created_at": opened, "updated_at": opened, "resolved_at": opened,
                "required_skills": [], "declined_by": {},
            })
            event_rows.append(_event(customer_id, conversation_id, "conversation.opened", "customer",
                                     {"channel": channel}, opened))
            size = per_conversation if c < conversations - 1 else count - made
            for seq in range(1, size + 1):
                ids["message"] += 1
                at = opened + timedelta(minutes=seq)
                note = seq % 10 == 0
                inbound = seq % 2 == 1 and not note
                text = _sentence(rng)
                if customer_id == 1 and ids["message"] == messages // 2:
                    text = f"Have you seen a {RARE}?"
                message_rows.append({
                    "id": ids["message"], "conversation_id": conversation_id, "seq": seq,
                    "direction": "note" if note else ("in" if inbound else "out"),
                    "author": "customer" if inbound else ("bot" if seq % 4 == 0 else "agent"),
                    "agent_id": None, "channel": channel, "external_id": f"x-{ids['message']}" if inbound else None,
                    "text": text, "html": None, "attachments": [], "buttons": [], "meta": {}, "automated": False,
                    "delivery_status": "received" if inbound else "delivered", "attempts": 0, "created_at": at,
                })
                if note:
                    event_rows.append(_event(customer_id, conversation_id, "note.added", "agent:1",
                                             {"message_id": ids["message"]}, at))
                elif inbound:
                    event_rows.append(_event(customer_id, conversation_id, "message.received", "customer",
                                             {"message_id": ids["message"], "channel": channel, "text": text}, at))
                else:
                    author = message_rows[-1]["author"]
                    event_rows.append(_event(customer_id, conversation_id, "message.sent", author,
                                             {"message_id": ids["message"], "author": author, "text": text}, at))
            made += size
            closed = opened + timedelta(minutes=size + 1)
            event_rows.append(_event(customer_id, conversation_id, "conversation.resolved", "agent:1", {}, closed))
    for table, rows in ((Customer, customer_rows), (Identity, identity_rows), (Conversation, conv_rows),
                        (Message, message_rows), (CustomerEvent, event_rows)):
        for chunk in range(0, len(rows), 2000):
            conn.execute(insert(cast(Table, table.__table__)), rows[chunk : chunk + 2000])
    return 1


def _event(customer_id: int, conversation_id: int, kind: str, actor: str, data: dict[str, Any],
           at: datetime) -> dict[str, Any]:
    return {"customer_id": customer_id, "conversation_id": conversation_id, "kind": kind, "actor": actor,
            "at": at, "data": data}


async def _serve(settings: Settings) -> tuple[web.AppRunner, str, web.Application]:
    from hub.app import create_app

    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}", app


CPU: list[float] = []


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[float, dict[str, Any]]:
    """Wall time of one GET (client and hub share this process; its CPU time goes to CPU)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    async with session.get(url) as resp:
        body = await resp.json()
        assert resp.status == 200, body
    CPU.append(time.process_time() - start_cpu)
    return time.perf_counter() - start, body


async def run(url: str, label: str, messages: int, others: int, pages: int) -> None:
    """Seed, serve, and print the timings for one database."""
    data_dir = Path(tempfile.mkdtemp(prefix="kefu-bench-timeline-"))
    settings = Settings(data_dir=data_dir, database_url=url or f"sqlite+aiosqlite:///{data_dir / 'kefu.db'}")
    runner, base, app = await _serve(settings)
    try:
        started = time.perf_counter()
        customer_id = await app[DATABASE].run_write(lambda conn: seed_tx(conn, messages, others))
        print(f"{label}: seeded {messages} messages for the customer and {messages} for {others} others "
              f"in {time.perf_counter() - started:.1f} s")
        await app[ACTIONS].create_agent(name="Bench", email="bench@example.com",
                                        password_hash=await hash_password(PASSWORD), role=Role.AGENT)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            login = {"email": "bench@example.com", "password": PASSWORD}
            async with session.post(f"{base}/api/login", json=login) as resp:
                assert resp.status == 200
            path = f"{base}/api/customers/{customer_id}/timeline"
            await _get(session, path)  # warm up connections and caches
            scenarios: dict[str, list[float]] = {}
            cpu: dict[str, list[float]] = {}

            walked: list[float] = []
            cursor = None
            for _ in range(pages):  # walks the whole timeline, starting over when it reaches the end
                took, body = await _get(session, path + "?limit=50" + (f"&cursor={cursor}" if cursor else ""))
                walked.append(took)
                cursor = body["next_cursor"]
            scenarios["pages newest first (walk, limit 50)"] = walked
            cpu["pages newest first (walk, limit 50)"] = CPU[-len(walked):]
            for name, query in [
                ("first page, oldest first", "?order=asc&limit=50"),
                ("kind=customer", "?kind=customer&limit=50"),
                ("kind=agent,note", "?kind=agent,note&limit=50"),
                ("channel=sms", "?channel=sms&limit=50"),
                ("one month (from/to)", "?from=2025-04-01&to=2025-04-30&limit=50"),
                ("text common (q=order)", "?q=order&limit=50"),
                (f"text rare (q={RARE}, scans all)", f"?q={RARE}&limit=50"),
                ("text missing (q=nothing, scans all)", "?q=nosuchwordanywhere&limit=50"),
            ]:
                scenarios[name] = [(await _get(session, path + query))[0] for _ in range(max(50, pages // 3))]
                cpu[name] = CPU[-len(scenarios[name]):]
        load = os.getloadavg()[0]
        print(f"{'scenario':<40} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'CPU p50':>8}  n   (load {load:.1f})")
        for name, samples in scenarios.items():
            print(f"{name:<40} {statistics.median(samples) * 1e3:8.2f} {_pct(samples, 0.99) * 1e3:8.2f} "
                  f"{max(samples) * 1e3:8.2f} {statistics.median(cpu[name]) * 1e3:8.2f}  {len(samples)}")
    finally:
        await runner.cleanup()


async def main() -> None:
    """Parse arguments and run on SQLite and PostgreSQL (or the given database)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    os.environ.setdefault("KEFU_BOT_ENABLED", "0")
    if args.database_url:
        await run(args.database_url, args.database_url.split(":")[0], args.messages, args.others, args.pages)
        return
    await run("", "SQLite", args.messages, args.others, args.pages)
    try:
        admin = await asyncpg.connect(PG_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        print(f"PostgreSQL not reachable at {PG_ADMIN}; skipped")
        return
    name = f"kefu_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
        await run(url, "PostgreSQL", args.messages, args.others, args.pages)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
