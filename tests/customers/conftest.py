"""Customer-record tests: CSAT asks at once and sweeps often, so stories do not wait a minute."""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.config import Settings
from tests.support import PASSWORD, AgentSession, login


@pytest.fixture(autouse=True)
def prompt_csat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for a rating right after resolution (the default waits KEFU_CSAT_DELAY_SECONDS=60)."""
    monkeypatch.setenv("KEFU_CSAT_DELAY_SECONDS", "0")
    monkeypatch.setenv("KEFU_CSAT_SWEEP_SECONDS", "0.2")


@pytest.fixture
async def hub_factory(aiohttp_client: Any, settings: Settings) -> Callable[[], Awaitable[TestClient]]:
    """Build a hub when the test says so (after it set KEFU_* variables)."""
    from hub.app import create_app

    async def build() -> TestClient:
        return await aiohttp_client(create_app(settings))

    return build


@pytest.fixture
async def login_as_on() -> AsyncIterator[Callable[[TestClient], Callable[..., Awaitable[AgentSession]]]]:
    """Like login_as, for a hub the test built itself."""
    sessions: list[AgentSession] = []

    def on(client: TestClient) -> Callable[..., Awaitable[AgentSession]]:
        async def _login(email: str, password: str = PASSWORD) -> AgentSession:
            session = await login(client, email, password)
            sessions.append(session)
            return session

        return _login

    yield on
    for session in sessions:
        await session.client.close()
