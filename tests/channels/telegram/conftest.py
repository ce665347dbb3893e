"""Shared pieces for the Telegram tests: a recording hub, the loopback Bot API, a served channel."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from channels.base import DeliverResult, DeliveryUpdate, HubPort, InboundMessage
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import TelegramConfig
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "7012345678:AAFakeTokenForLoopbackTests_abcdefghij"
SECRET = "kefu-webhook-secret_0123456789"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "telegram"


def fixture(name: str) -> dict[str, Any]:
    """A recorded Update from tests/fixtures/telegram."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class RecordingHub:
    """A hub stand-in: records deliveries, reports repeats as duplicates, can be told to fail."""

    delivered: list[InboundMessage] = field(default_factory=list)
    updates: list[DeliveryUpdate] = field(default_factory=list)
    failures_left: int = 0
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def deliver(self, message: InboundMessage) -> DeliverResult:
        """Record the message; a repeat of (channel, external_id) comes back as a duplicate."""
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("database is locked")
        key = (message.channel, message.external_id)
        duplicate = key in self._seen
        if not duplicate:
            self.delivered.append(message)
            self._seen[key] = len(self._seen) + 1
        self._arrived.set()
        return DeliverResult(
            message_id=self._seen[key], conversation_id=1, customer_id=1, duplicate=duplicate
        )

    async def report_delivery(self, update: DeliveryUpdate) -> None:
        """Record the update."""
        self.updates.append(update)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[InboundMessage]:
        """Wait until `count` distinct messages have arrived."""
        async def enough() -> None:
            while len(self.delivered) < count:
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(enough(), timeout)
        return self.delivered

    @property
    def port(self) -> HubPort:
        """The HubPort an adapter is started with."""
        return HubPort(deliver=self.deliver, report_delivery=self.report_delivery)


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """The loopback Bot API, listening."""
    fake = FakeTelegramAPI(TOKEN)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def hub() -> RecordingHub:
    """A fresh recording hub."""
    return RecordingHub()


@pytest.fixture
def make_config(api: FakeTelegramAPI) -> Callable[..., TelegramConfig]:
    """Config pointing at the fake; keyword overrides win."""

    def make(**overrides: Any) -> TelegramConfig:
        settings: dict[str, Any] = {
            "token": TOKEN,
            "mode": "webhook",
            "webhook_secret": SECRET,
            "api_url": api.api_url,
            "file_url": api.file_url,
            "poll_timeout": 1,
            "request_timeout": 5.0,
            "backoff_initial": 0.05,
            "backoff_max": 0.2,
        }
        settings.update(overrides)
        return TelegramConfig(**settings)

    return make


@pytest.fixture
async def started(
    make_config: Callable[..., TelegramConfig], hub: RecordingHub
) -> AsyncIterator[Callable[..., Awaitable[TelegramChannel]]]:
    """Start channels against the fake and the recording hub; stop them afterwards."""
    channels: list[TelegramChannel] = []

    async def start(**overrides: Any) -> TelegramChannel:
        channel = TelegramChannel(make_config(**overrides))
        await channel.start(hub.port)
        channels.append(channel)
        return channel

    yield start
    for channel in channels:
        await channel.stop()


@pytest.fixture
async def webhook(
    started: Callable[..., Awaitable[TelegramChannel]],
) -> AsyncIterator[Callable[..., Awaitable[TestClient]]]:
    """A webhook-mode channel mounted on a real aiohttp server; returns a client for it."""
    clients: list[TestClient] = []

    async def serve(**overrides: Any) -> TestClient:
        channel = await started(mode="webhook", **overrides)
        app = web.Application()
        app.add_routes(channel.routes())
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield serve
    for client in clients:
        await client.close()
