"""A hub with the bot on (starter bot, trained once per session), a designer logged in, and JSON helpers."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.bots_service.conftest import bot_hub, bot_settings, customer, hub, model_cache  # noqa: F401
from tests.support import AgentSession, add_agent


@pytest.fixture
async def designer(bot_hub: TestClient, login_as: Any) -> AgentSession:  # noqa: F811
    await add_agent(bot_hub, "dana@example.com", Role.DESIGNER)
    return await login_as("dana@example.com")  # type: ignore[no-any-return]


async def put(session: AgentSession, path: str, body: dict[str, Any]) -> Any:
    """PUT a JSON body with the session's CSRF token; (status, JSON)."""
    resp = await session.client.put(path, json=body, headers={"X-CSRF-Token": session.csrf})
    return resp.status, await resp.json()


async def delete(session: AgentSession, path: str) -> Any:
    """DELETE with the session's CSRF token; (status, JSON)."""
    resp = await session.client.delete(path, headers={"X-CSRF-Token": session.csrf})
    return resp.status, await resp.json()


async def trained(session: AgentSession, version_id: int, timeout: float = 90.0) -> dict[str, Any]:
    """Poll a version until training ends; the progress notes seen on the way come with it."""
    notes: list[str] = []
    async with asyncio.timeout(timeout):
        while True:
            status, body = await session.get(f"/api/bot/versions/{version_id}")
            assert status == 200, body
            version = body["version"]
            if version["progress_note"] and (not notes or notes[-1] != version["progress_note"]):
                notes.append(version["progress_note"])
            if version["status"] in ("ready", "failed"):
                version["notes_seen"] = notes
                return version  # type: ignore[no-any-return]
            await asyncio.sleep(0.02)
