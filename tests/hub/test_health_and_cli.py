"""An operator starts Kefu with one command, adds agents, and can ask whether it is healthy."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.support import create_pg_database, drop_pg_database, pg_reachable


async def test_health_is_ok_while_the_database_answers(hub: TestClient) -> None:
    resp = await hub.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "database": "ok"}


async def test_health_is_503_when_the_database_goes_away(aiohttp_client: Any, tmp_path: Path) -> None:
    from hub.app import create_app
    from hub.config import Settings

    if not await pg_reachable():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is required in CI")
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    name = "kefu_test_health_" + os.urandom(4).hex()
    url = await create_pg_database(name)
    hub = await aiohttp_client(create_app(Settings(data_dir=tmp_path, database_url=url)))
    assert (await hub.get("/healthz")).status == 200
    await drop_pg_database(name)
    resp = await hub.get("/healthz")
    assert resp.status == 503
    assert await resp.json() == {"status": "unavailable", "database": "unreachable"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kefu(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_an_operator_adds_an_agent_and_serves_the_demo(tmp_path: Path) -> None:
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path), "KEFU_AGENT_PASSWORD": "s3cret-pass"}
    added = await asyncio.to_thread(_kefu, "agent", "add", "--name", "Qian", "--email", "Qian@Example.com", env=env)
    assert added.returncode == 0, added.stderr
    assert "qian@example.com" in added.stdout
    again = await asyncio.to_thread(_kefu, "agent", "add", "--name", "Qian", "--email", "qian@example.com", env=env)
    assert again.returncode == 1 and "already exists" in again.stderr
    short = await asyncio.to_thread(
        _kefu, "agent", "add", "--name", "X", "--email", "x@example.com", "--password", "short", env=env
    )
    assert short.returncode == 2 and "at least 8" in short.stderr
    assert (tmp_path / "kefu.db").exists()

    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "serve", "--demo", "--port", str(port), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # unsafe=True: the cookie jar otherwise refuses cookies from an IP address host.
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with http.get("/healthz") as resp:
                            if resp.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.2)
                while True:
                    async with http.post("/api/login", json={"email": "agent@example.com",
                                                             "password": "kefu-demo"}) as resp:
                        if resp.status == 200:
                            break
                    await asyncio.sleep(0.2)
                async with http.post("/api/login", json={"email": "qian@example.com",
                                                         "password": "s3cret-pass"}) as resp:
                    assert resp.status == 200
                # --demo turns the bot on: seeded conversations the bot answered stay with it, the rest queue
                async with http.get("/api/conversations?view=queued") as resp:
                    counts = (await resp.json())["counts"]
                    assert counts.get("queued", 0) + counts.get("bot", 0) == 3
                async with http.get("/demo") as resp:
                    assert resp.status == 200 and "widget.js" in await resp.text()
    finally:
        proc.terminate()
        assert proc.stdout is not None
        output = (await proc.stdout.read()).decode(errors="replace")
        await proc.wait()
    # The server took what start-up built out of the collector's full passes (hub/heap.py).
    assert "heap frozen after start-up" in output, output[-2000:]
