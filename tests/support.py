"""Helpers the tests share: PostgreSQL databases, agents, logins, socket frames."""
from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import asyncpg
from aiohttp import ClientWebSocketResponse, WSMsgType
from aiohttp.test_utils import TestClient

from hub.actions import Actions
from hub.domain import Role
from hub.keys import ACTIONS
from hub.passwords import hash_password
from hub.queries import Queries

PG_ADMIN_URL = os.environ.get("KEFU_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery"


async def pg_reachable() -> bool:
    """True when the PostgreSQL test server answers."""
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def create_pg_database(name: str) -> str:
    """Create an empty database and return its SQLAlchemy URL."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def drop_pg_database(name: str) -> None:
    """Drop a test database, closing whatever still uses it."""
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def add_agent(client: TestClient, email: str, role: Role = Role.AGENT, name: str | None = None) -> int:
    """Create an agent account directly through the actions."""
    actions: Actions = client.app[ACTIONS]
    return await actions.create_agent(
        name=name or email.split("@")[0].title(), email=email, password_hash=await hash_password(PASSWORD), role=role
    )


class AgentSession:
    """An agent logged in through the API, with its own cookie jar."""

    def __init__(self, client: TestClient, csrf: str, agent_id: int) -> None:
        self.client = client
        self.csrf = csrf
        self.agent_id = agent_id

    async def get(self, path: str) -> Any:
        resp = await self.client.get(path)
        return resp.status, await resp.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = await self.client.post(path, json=body or {}, headers={"X-CSRF-Token": self.csrf})
        return resp.status, await resp.json()


async def login(client: TestClient, email: str, password: str = PASSWORD) -> AgentSession:
    """Log in through the API; each session gets its own client so cookies do not mix."""
    session_client = TestClient(client.server)
    await session_client.start_server()
    resp = await session_client.post("/api/login", json={"email": email, "password": password})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    return AgentSession(session_client, data["csrf_token"], data["agent"]["id"])


async def next_frame(ws: ClientWebSocketResponse, type_: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
    """The next JSON frame (optionally of one type, skipping others)."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type != WSMsgType.TEXT:
                raise AssertionError(f"socket closed or sent {msg.type}: {msg.data!r}")
            frame = json.loads(msg.data)
            if type_ is None or frame.get("type") == type_:
                return frame


async def no_frame(ws: ClientWebSocketResponse, type_: str, wait: float = 0.3) -> None:
    """Assert that no frame of a type arrives within `wait` seconds."""
    try:
        frame = await next_frame(ws, type_, timeout=wait)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected {type_} frame: {frame}")


async def open_conversation_of(queries: Queries, channel: str, address: str) -> int:
    """The open conversation of the customer writing from this channel address."""
    customer = await queries.visitor_customer(channel, address)
    assert customer is not None, f"no customer for {channel} {address}"
    conversation = await queries.open_conversation_for(customer, channel)
    assert conversation is not None
    return conversation


async def wait_for_delivery_status(
    queries: Queries, message_id: int, status: str, timeout: float = 5.0
) -> dict[str, Any]:
    """The message once its delivery status is `status` (channels report it after the send returns)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        message = await queries.message(message_id)
        assert message is not None
        if message["delivery_status"] == status:
            return message
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"message {message_id} stayed {message['delivery_status']}: {message}")
        await asyncio.sleep(0.02)
