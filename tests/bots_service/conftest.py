"""A hub with the bot on (starter bot trained once per test session), and a web chat customer to talk to it."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bots.service import BOT_SERVICE as BOT
from bots.service import BotService
from hub.config import Settings
from hub.keys import QUERIES
from tests.support import next_frame


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Trained models shared by every hub in the session: the starter bot is trained once."""
    return tmp_path_factory.mktemp("bot-models")


@pytest.fixture
def bot_settings(settings: Settings, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test hub's settings with the bot on."""
    monkeypatch.setenv("KEFU_BOT_MODEL_CACHE", str(model_cache))
    return replace(settings, bot_enabled=True)


@pytest.fixture
async def bot_hub(aiohttp_client: Any, bot_settings: Settings) -> TestClient:
    """A running hub whose starter bot is trained and active."""
    from hub.app import create_app

    app: web.Application = create_app(bot_settings)
    client = await aiohttp_client(app)
    await app[BOT].wait_ready(timeout=120)
    return client


@pytest.fixture
async def hub(bot_hub: TestClient) -> TestClient:
    """The shared `login_as` logs agents in here: the bot's hub, not a second hub on the same database."""
    return bot_hub


class ChatCustomer:
    """A web chat visitor on a real socket, reading the bot's answers (even those that beat the ack)."""

    def __init__(self, hub: TestClient, ws: Any) -> None:
        self.hub = hub
        self.ws = ws
        self.conversation_id: int | None = None
        self._count = 0
        self._heard: list[dict[str, Any]] = []

    async def _next(self, kind: str, timeout: float) -> dict[str, Any]:
        for index, frame in enumerate(self._heard):
            if frame.get("type") == kind:
                return self._heard.pop(index)
        async with asyncio.timeout(timeout):
            while True:
                frame = await next_frame(self.ws, None, timeout=timeout)
                if frame.get("type") == kind:
                    return frame
                self._heard.append(frame)

    async def say(self, text: str) -> dict[str, Any]:
        self._count += 1
        await self.ws.send_json({"type": "message", "client_id": f"c-{self._count}", "text": text})
        ack = await self._next("ack", 10.0)
        self.conversation_id = ack["conversation_id"]
        return ack

    async def hears(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next message sent to the customer."""
        return await self._next("message", timeout)

    async def ask(self, text: str) -> dict[str, Any]:
        await self.say(text)
        return await self.hears()


@pytest.fixture
async def customer(bot_hub: TestClient) -> AsyncIterator[ChatCustomer]:
    ws = await bot_hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    await next_frame(ws, "welcome")
    yield ChatCustomer(bot_hub, ws)
    await ws.close()


async def settled(hub: TestClient, conversation_id: int) -> None:
    """Wait until the bot has finished every turn it started for the conversation."""
    service: BotService = hub.app[BOT]
    for _ in range(200):
        task = service._chains.get(conversation_id)
        if task is None:
            return
        await asyncio.wait({task}, timeout=10)
    raise AssertionError("the bot never settled")


async def conversation(hub: TestClient, conversation_id: int) -> dict[str, Any]:
    return await hub.app[QUERIES].conversation(conversation_id)
