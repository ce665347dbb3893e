"""Shared fixtures: a real database (SQLite file, or a throwaway PostgreSQL database) and a running hub."""
from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.config import Settings
from tests.support import (
    PASSWORD,
    PG_ADMIN_URL,
    AgentSession,
    create_pg_database,
    drop_pg_database,
    login,
    pg_reachable,
)

# A hub scores complaints in a child process it starts on first use (~1 s of start-up). Most of the
# suite's hundreds of short-lived hubs score on their scoring thread instead, the same detector and the
# same writes; tests/complaints_db/test_scoring_process.py runs the child process itself.
os.environ.setdefault("KEFU_COMPLAINT_PROCESS", "off")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database per test: a SQLite file, or a PostgreSQL database created and dropped."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}"
        return
    if not await pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but {PG_ADMIN_URL} is not reachable")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}; set KEFU_TEST_PG_URL or start it")
    name = f"kefu_test_{uuid.uuid4().hex[:12]}"
    url = await create_pg_database(name)
    try:
        yield url
    finally:
        await drop_pg_database(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for a test hub: fast outbox retries and a web chat identity secret."""
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        webchat_identity_secret="test-identity-secret",
        outbox_base_delay_s=0.05,
        outbox_sweep_interval_s=0.05,
        outbox_max_attempts=4,
    )


@pytest.fixture
async def hub(aiohttp_client: Any, settings: Settings) -> TestClient:
    """A running hub on a real localhost port, reached through an aiohttp client."""
    from hub.app import create_app

    app: web.Application = create_app(settings)
    return await aiohttp_client(app)


@pytest.fixture
async def login_as(hub: TestClient) -> AsyncIterator[Callable[..., Awaitable[AgentSession]]]:
    """Log agents in, each with its own cookie jar; closes their clients afterwards."""
    sessions: list[AgentSession] = []

    async def _login(email: str, password: str = PASSWORD) -> AgentSession:
        session = await login(hub, email, password)
        sessions.append(session)
        return session

    yield _login
    for session in sessions:
        await session.client.close()
