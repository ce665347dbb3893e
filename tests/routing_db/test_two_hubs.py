"""Two `kefu serve` processes route one PostgreSQL: agents accept, decline and ignore offers all at once,
and still every conversation ends with exactly one agent and nobody is ever over capacity."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Connection, func, select, update

from hub.actions import Actions
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.events import InProcessBus
from hub.passwords import hash_password_sync
from hub.routing import admin
from hub.routing.changes import Ctx
from hub.routing.store import assignment_intervals, conversations, events_log, offers, queues
from hub.storage import migrate
from hub.storage.database import Database
from tests.support import PASSWORD, create_pg_database, drop_pg_database, pg_reachable

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

AGENTS = 10
CUSTOMERS = 40
CAPACITY = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    if not await pg_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = f"kefu_test_{uuid.uuid4().hex[:12]}"
    url = await create_pg_database(name)
    try:
        yield url
    finally:
        await drop_pg_database(name)


async def _staff(url: str, tmp: Path) -> list[str]:
    """Migrate, then add agents in the General queue: short offers, no going away for misses."""
    db = Database(url)
    try:
        await migrate.upgrade(db)
        actions = Actions(db, InProcessBus(), Settings(data_dir=tmp), AttachmentStore(tmp / "attachments"))
        general = await actions.ensure_default_queue()

        def fast_offers(conn: Connection) -> None:
            conn.execute(update(queues).where(queues.c.id == general).values(offer_timeout_s=1, max_missed_offers=0))

        await db.run_write(fast_offers)
        password_hash = hash_password_sync(PASSWORD)
        emails = []
        for i in range(AGENTS):
            email = f"agent{i}@example.com"
            agent_id = await actions.create_agent(name=f"Agent {i}", email=email, password_hash=password_hash)
            values = {"queue_ids": [general], "capacity": {"chat": CAPACITY}}
            ctx = Ctx(actions.clock())
            await db.run_write(
                lambda conn, a=agent_id, v=values, c=ctx: admin.set_agent_routing_tx(conn, a, dict(v), c)  # type: ignore[misc]
            )
            emails.append(email)
        return emails
    finally:
        await db.dispose()


async def _serve(url: str, tmp: Path, port: int) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "KEFU_DATABASE_URL": url,
        "KEFU_DATA_DIR": str(tmp),
        "KEFU_ROUTING_TICK": "0.1",
        "KEFU_ROUTING_DECLINE_MEMORY": "1",
        "KEFU_LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _until_healthy(base: str) -> None:
    async with aiohttp.ClientSession(base) as http, asyncio.timeout(60):
        while True:
            try:
                async with http.get("/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.2)


async def _customer(base: str, n: int) -> int:
    """A visitor writes once on the web chat and closes the tab; the conversation waits in General."""
    async with aiohttp.ClientSession(base) as http, http.ws_connect("/webchat/ws") as ws:
        await ws.send_json({"type": "hello"})
        while (await ws.receive_json())["type"] != "welcome":
            pass
        await ws.send_json({"type": "message", "client_id": f"c{n}", "text": f"customer {n} needs help"})
        while True:
            frame = await ws.receive_json()
            if frame["type"] == "ack":
                return int(frame["conversation_id"])


class _Agent:
    """One agent working through one of the hubs: polls offers, accepts, declines or ignores, resolves."""

    def __init__(self, base: str, email: str, seed: int) -> None:
        self.base = base
        self.email = email
        self.random = random.Random(seed)
        self.won: list[int] = []
        self.statuses: Counter[int] = Counter()

    async def work(self, done: asyncio.Event, conversation_ids: list[int]) -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(self.base, cookie_jar=jar) as http:
            async with http.post("/api/login", json={"email": self.email, "password": PASSWORD}) as resp:
                assert resp.status == 200
                headers = {"X-CSRF-Token": (await resp.json())["csrf_token"]}
            while not done.is_set():
                async with http.get("/api/offers") as resp:
                    ringing = (await resp.json())["offers"]
                for offer in ringing:
                    cid = offer["conversation_id"]
                    roll = self.random.random()
                    if roll < 0.15:
                        continue  # let it ring out
                    action = "accept" if roll < 0.75 else "decline"
                    async with http.post(f"/api/offers/{cid}/{action}", headers=headers) as resp:
                        self.statuses[resp.status] += 1
                        if action == "accept" and resp.status == 200:
                            self.won.append(cid)
                            asyncio.get_running_loop().create_task(self._resolve_soon(http, headers, cid))
                # Now and then grab at someone else's conversation: it must never work.
                if conversation_ids and self.random.random() < 0.3:
                    cid = self.random.choice(conversation_ids)
                    async with http.post(f"/api/offers/{cid}/accept", headers=headers) as resp:
                        self.statuses[resp.status] += 1
                        if resp.status == 200:
                            self.won.append(cid)
                            asyncio.get_running_loop().create_task(self._resolve_soon(http, headers, cid))
                await asyncio.sleep(self.random.uniform(0.05, 0.15))

    async def _resolve_soon(self, http: aiohttp.ClientSession, headers: dict[str, str], cid: int) -> None:
        await asyncio.sleep(self.random.uniform(0.1, 0.4))
        async with http.post(f"/api/conversations/{cid}/resolve", headers=headers) as resp:
            assert resp.status == 200, await resp.text()


async def test_two_hubs_on_one_database_never_double_assign_or_overfill(pg_url: str, tmp_path: Path) -> None:
    emails = await _staff(pg_url, tmp_path)
    ports = [_free_port(), _free_port()]
    servers = [await _serve(pg_url, tmp_path / f"hub{i}", port) for i, port in enumerate(ports)]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    db = Database(pg_url)
    try:
        await asyncio.gather(*(_until_healthy(b) for b in bases))
        done = asyncio.Event()
        conversation_ids: list[int] = []
        agents = [_Agent(bases[i % 2], email, seed=i) for i, email in enumerate(emails)]
        working = [asyncio.create_task(a.work(done, conversation_ids)) for a in agents]
        overfull: list[Any] = []
        watcher = asyncio.create_task(_watch_capacity(db, done, overfull))
        for batch in range(0, CUSTOMERS, 10):
            ids = await asyncio.gather(*(_customer(bases[n % 2], n) for n in range(batch, batch + 10)))
            conversation_ids.extend(ids)
        async with asyncio.timeout(90):
            while await _open_count(db, conversation_ids):
                await asyncio.sleep(0.2)
        done.set()
        await asyncio.gather(*working, watcher)

        won = Counter(cid for a in agents for cid in a.won)
        assert sorted(won) == sorted(conversation_ids) and set(won.values()) == {1}
        assert overfull == []
        assert {s for a in agents for s in a.statuses} <= {200, 409}
        await _check_the_record(db, conversation_ids, {cid: a for a in agents for cid in a.won})
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            _, err = await server.communicate()
            assert b"Traceback" not in err, err.decode()[-3000:]
        await db.dispose()


async def _open_count(db: Database, ids: list[int]) -> int:
    async with db.read() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).where(conversations.c.id.in_(ids), conversations.c.status != "resolved")
                )
            ).scalar_one()
        )


async def _watch_capacity(db: Database, done: asyncio.Event, overfull: list[Any]) -> None:
    """Sample assigned + ringing per agent in one statement while the agents work."""
    assigned = (
        select(conversations.c.assignee_id.label("agent_id"))
        .where(conversations.c.status == "assigned")
        .union_all(select(offers.c.agent_id))
        .subquery()
    )
    query = select(assigned.c.agent_id, func.count()).group_by(assigned.c.agent_id)
    while not done.is_set():
        async with db.read() as conn:
            overfull += [row for row in (await conn.execute(query)).all() if row[1] > CAPACITY]
        await asyncio.sleep(0.05)


async def _check_the_record(db: Database, ids: list[int], winner: dict[int, Any]) -> None:
    """The stored history agrees: one accepted offer, one assignment interval, and both hubs routed."""
    async with asyncio.timeout(10):
        while True:
            async with db.read() as conn:
                still_open = (
                    await conn.execute(select(func.count()).where(assignment_intervals.c.ended_at.is_(None)))
                ).scalar_one()
            if not still_open:
                break
            await asyncio.sleep(0.1)
    async with db.read() as conn:
        rows = (
            await conn.execute(
                select(events_log.c.conversation_id, events_log.c.kind, events_log.c.data)
                .where(events_log.c.conversation_id.in_(ids), events_log.c.kind.like("routing.%"))
                .order_by(events_log.c.id)
            )
        ).all()
        spans = (
            await conn.execute(select(assignment_intervals).where(assignment_intervals.c.conversation_id.in_(ids)))
        ).all()
        final = dict(
            (
                await conn.execute(
                    select(conversations.c.id, conversations.c.assignee_id).where(conversations.c.id.in_(ids))
                )
            ).all()
        )
    history: defaultdict[int, list[str]] = defaultdict(list)
    nodes = set()
    for cid, kind, data in rows:
        history[cid].append(kind)
        if kind == "routing.offered":
            nodes.add(data["node"])
    for cid in ids:
        kinds = history[cid]
        assert kinds.count("routing.offer_accepted") == 1, kinds
        # Never two offers ringing at once: every offer ends before the next one starts.
        ringing = 0
        for kind in kinds:
            ringing += 1 if kind == "routing.offered" else -1
            assert ringing in (0, 1), kinds
    assert len(nodes) == 2, nodes
    by_conversation = Counter(s.conversation_id for s in spans)
    assert set(by_conversation.values()) == {1}
    assert all(final[s.conversation_id] == s.agent_id for s in spans)
    per_agent: defaultdict[int, list[tuple[Any, int]]] = defaultdict(list)
    for s in spans:
        per_agent[s.agent_id] += [(s.started_at, 1), (s.ended_at, -1)]
    for agent_id, edges in per_agent.items():
        held = 0
        for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
            held += step
            assert held <= CAPACITY, agent_id
