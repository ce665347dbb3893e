"""Shared pieces for the Twilio channel tests: a recording hub, the fake API, a served channel."""
from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from channels.base import DeliverResult, DeliveryUpdate, HubPort, InboundMessage
from channels.sms.adapter import TwilioChannel, TwilioSmsChannel, TwilioWhatsAppChannel
from channels.sms.config import TwilioConfig
from hub.actions import Actions
from hub.config import Settings
from hub.keys import ACTIONS, QUERIES
from hub.queries import Queries
from tests.fakes.twilio_api import FakeTwilioApi
from tests.support import open_conversation_of, wait_for_delivery_status

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "f00dfacecafe0123456789abcdef0123"
SMS_NUMBER = "+14155550100"
WHATSAPP_NUMBER = "whatsapp:+14155238886"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "twilio"


def fixture(name: str) -> dict[str, str]:
    """A recorded Twilio webhook form from tests/fixtures/twilio."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@dataclass
class RecordingHub:
    """A hub stand-in that stores what adapters hand it and says which external ids it has seen."""

    delivered: list[InboundMessage] = field(default_factory=list)
    updates: list[DeliveryUpdate] = field(default_factory=list)
    _seen: dict[tuple[str, str], int] = field(default_factory=dict)

    async def deliver(self, message: InboundMessage) -> DeliverResult:
        """Record the message; a repeat of (channel, external_id) comes back as a duplicate."""
        key = (message.channel, message.external_id)
        duplicate = key in self._seen
        if not duplicate:
            self.delivered.append(message)
            self._seen[key] = len(self._seen) + 1
        return DeliverResult(message_id=self._seen[key], conversation_id=1, customer_id=1, duplicate=duplicate)

    async def report_delivery(self, update: DeliveryUpdate) -> None:
        """Record the update."""
        self.updates.append(update)

    @property
    def port(self) -> HubPort:
        """The HubPort an adapter is started with."""
        return HubPort(deliver=self.deliver, report_delivery=self.report_delivery)


def make_config(kind: str = "sms", **overrides: Any) -> TwilioConfig:
    """A config for the test account; overrides win."""
    values: dict[str, Any] = {
        "kind": kind,
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "from_": SMS_NUMBER if kind == "sms" else WHATSAPP_NUMBER,
    }
    values.update(overrides)
    return TwilioConfig(**values)


@pytest.fixture
def hub() -> RecordingHub:
    return RecordingHub()


@pytest.fixture
async def twilio_api() -> AsyncIterator[FakeTwilioApi]:
    api = FakeTwilioApi(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    await api.start()
    yield api
    await api.close()


ServeChannels = Callable[..., Awaitable[tuple[TestServer, dict[str, TwilioChannel]]]]


def free_port() -> int:
    """A loopback port nobody is using right now (the public URL must be known before the server starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def serve(
    aiohttp_server: Callable[..., Awaitable[TestServer]], hub: RecordingHub, twilio_api: FakeTwilioApi
) -> AsyncIterator[ServeChannels]:
    """Start SMS and WhatsApp channels on a real loopback server, sending to the fake API."""
    started: list[TwilioChannel] = []
    clients = []

    async def start(**overrides: Any) -> tuple[TestServer, dict[str, TwilioChannel]]:
        port = free_port()
        overrides.setdefault("public_url", f"http://127.0.0.1:{port}")
        app = web.Application()
        channels: dict[str, TwilioChannel] = {}
        for cls in (TwilioSmsChannel, TwilioWhatsAppChannel):
            http = twilio_api.http_client()
            clients.append(http)
            channel = cls(make_config(cls.kind, **overrides), http_client=http, part_retry_delays=(0, 0))
            app.router.add_routes(channel.routes())
            await channel.start(hub.port)
            started.append(channel)
            channels[cls.kind] = channel
        server = await aiohttp_server(app, host="127.0.0.1", port=port)
        return server, channels

    yield start
    for channel in started:
        await channel.stop()
    for http in clients:
        await http.close()


CUSTOMER = "+14155550123"


@dataclass
class RunningHub:
    server: TestServer
    actions: Actions
    queries: Queries

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def conversation_of(self, channel: str, address: str) -> int:
        return await open_conversation_of(self.queries, channel, address)

    async def wait_for_status(self, message_id: int, status: str, timeout: float = 5.0) -> dict[str, Any]:
        return await wait_for_delivery_status(self.queries, message_id, status, timeout)


@pytest.fixture
async def running_hub(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings, twilio_api: FakeTwilioApi
) -> AsyncIterator[RunningHub]:
    from hub.app import create_app

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    clients = [twilio_api.http_client(), twilio_api.http_client()]
    channels = [
        TwilioSmsChannel(make_config("sms", public_url=public), http_client=clients[0]),
        TwilioWhatsAppChannel(make_config("whatsapp", public_url=public), http_client=clients[1]),
    ]
    app: web.Application = create_app(settings, extra_channels=channels)
    server = await aiohttp_server(app, host="127.0.0.1", port=port)
    yield RunningHub(server, app[ACTIONS], app[QUERIES])
    await server.close()
    for client in clients:
        await client.close()
