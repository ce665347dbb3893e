"""Two `kefu serve` processes on one PostgreSQL: a version activated (or rolled back) through one is what the
other answers with at the customer's next message, without a restart."""
from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from sqlalchemy import Table, select

from hub.actions import Actions
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.domain import Role
from hub.events import InProcessBus
from hub.passwords import hash_password_sync
from hub.storage import migrate
from hub.storage.database import Database
from hub.storage.tables import Message
from tests.routing_db.test_two_hubs import _free_port, _until_healthy, pg_url  # noqa: F401
from tests.support import PASSWORD

messages = cast(Table, Message.__table__)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

NEW_ANSWER = "新规定：退款 3 个工作日内到账。"


async def _designer(url: str, tmp: Path) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        actions = Actions(db, InProcessBus(), Settings(data_dir=tmp), AttachmentStore(tmp / "attachments"))
        await actions.create_agent(name="Dana", email="dana@example.com", password_hash=hash_password_sync(PASSWORD),
                                   role=Role.DESIGNER)
    finally:
        await db.dispose()


async def _serve(url: str, data_dir: Path, port: int) -> asyncio.subprocess.Process:
    # each process has its own data folder, as on two machines: the model files are not shared
    env = {k: v for k, v in os.environ.items() if k != "KEFU_BOT_MODEL_CACHE"}
    env.update({"KEFU_DATABASE_URL": url, "KEFU_DATA_DIR": str(data_dir), "KEFU_BOT_ENABLED": "1",
                "KEFU_BOT_COMPLAINTS": "0", "KEFU_LOG_LEVEL": "WARNING"})
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)


class Designer:
    """The designer's API calls against one process."""

    def __init__(self, http: aiohttp.ClientSession, csrf: str) -> None:
        self.http = http
        self.csrf = csrf

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"X-CSRF-Token": self.csrf} if method != "GET" else {}
        async with self.http.request(method, path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def until_ready(self, version_id: int) -> dict[str, Any]:
        async with asyncio.timeout(120):
            while True:
                status, body = await self.call("GET", f"/api/bot/versions/{version_id}")
                if body["version"]["status"] in ("ready", "failed"):
                    return body["version"]  # type: ignore[no-any-return]
                await asyncio.sleep(0.1)


async def _login(base: str) -> Designer:
    http = aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post("/api/login", json={"email": "dana@example.com", "password": PASSWORD}) as resp:
        assert resp.status == 200
        return Designer(http, (await resp.json())["csrf_token"])


async def _ask(db: Database, ws: aiohttp.ClientWebSocketResponse, text: str) -> str:
    """Say something in the web chat (stored by the process the socket is on); the bot's answer to it.

    The answer is read from the database, by the message it replies to: which process's outbox then
    carries it to the socket is the web chat's business (docs/channels.md), not the bot's.
    """
    await ws.send_json({"type": "message", "client_id": f"c-{time.monotonic_ns()}", "text": text})
    async with asyncio.timeout(60):
        while (frame := await ws.receive_json())["type"] != "ack":
            pass
        while True:
            async with db.read() as conn:
                rows = (await conn.execute(select(messages.c.text, messages.c.meta).where(
                    messages.c.conversation_id == frame["conversation_id"], messages.c.author == "bot",
                    messages.c.id > frame["message_id"]).order_by(messages.c.id))).all()
            for row in rows:
                if (row.meta or {}).get("bot", {}).get("reply_to") == frame["message_id"]:
                    return str(row.text)
            await asyncio.sleep(0.02)


async def _chat(http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    while (await ws.receive_json())["type"] != "welcome":
        pass
    return ws


async def test_both_processes_switch_on_activation_and_rollback(pg_url: str, tmp_path: Path) -> None:  # noqa: F811
    await _designer(pg_url, tmp_path)
    ports = [_free_port(), _free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    servers = [await _serve(pg_url, tmp_path / "hub-a", ports[0])]
    sessions: list[aiohttp.ClientSession] = []
    db = Database(pg_url)
    try:
        # the first process stores and trains the starter bot; the second starts once it exists
        await _until_healthy(bases[0])
        a = await _login(bases[0])
        sessions.append(a.http)
        async with asyncio.timeout(120):
            while (await a.call("GET", "/api/bot/versions"))[1]["active_version_id"] is None:
                await asyncio.sleep(0.1)
        starter_id = (await a.call("GET", "/api/bot/versions"))[1]["active_version_id"]
        servers.append(await _serve(pg_url, tmp_path / "hub-b", ports[1]))
        await _until_healthy(bases[1])
        b = await _login(bases[1])
        sessions.append(b.http)
        chat_a, chat_b = aiohttp.ClientSession(bases[0]), aiohttp.ClientSession(bases[1])
        sessions.extend([chat_a, chat_b])
        on_a, on_b = await _chat(chat_a), await _chat(chat_b)
        old_answer = await _ask(db, on_b, "我要退款")
        assert "7天内" in old_answer

        # a new answer, edited in the draft and trained through process A
        draft = (await a.call("GET", "/api/bot/draft"))[1]["draft"]
        status, _ = await a.call("PUT", "/api/bot/draft/responses/utter_refund_policy",
                                 {"revision": draft["revision"], "variations": [{"text": NEW_ANSWER}]})
        assert status == 200
        status, body = await a.call("POST", "/api/bot/draft/versions", {"label": "new refund answer"})
        assert status == 202
        version = await a.until_ready(body["version"]["id"])
        assert version["status"] == "ready", version["error"]
        assert await _ask(db, on_b, "我要退款") == old_answer  # trained is not active

        status, body = await a.call("POST", f"/api/bot/versions/{version['id']}/activate")
        assert status == 200
        activated = time.perf_counter()
        # process B reads the active version at the customer's next message: that very message gets the new answer
        assert await _ask(db, on_b, "我要退款") == NEW_ANSWER
        switch_b = time.perf_counter() - activated
        assert await _ask(db, on_a, "我要退款") == NEW_ANSWER
        assert (await b.call("GET", "/api/bot/versions"))[1]["active_version_id"] == version["id"]

        # rolled back through process B: process A answers the old way at once
        status, body = await b.call("POST", "/api/bot/rollback")
        assert status == 200 and body["version"]["id"] == starter_id
        rolled = time.perf_counter()
        assert await _ask(db, on_a, "我要退款") == old_answer
        switch_a = time.perf_counter() - rolled
        assert await _ask(db, on_b, "我要退款") == old_answer
        print(f"\nnext answer after activation through the other process: {switch_b:.2f} s (includes training the"
              f" model there, its data folder had no file); after rollback: {switch_a:.2f} s")
        assert switch_b < 60 and switch_a < 10
    finally:
        await db.dispose()
        for session in sessions:
            await session.close()
        for server in servers:
            server.terminate()
        for server in servers:
            _, err = await server.communicate()
            assert b"Traceback" not in err, err.decode()[-3000:]
