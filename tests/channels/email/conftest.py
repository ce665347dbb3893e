"""Test doubles for the email channel: a recording hub, an in-loop SMTP sink, fixtures on disk, a dovecot."""
from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.base import DeliverResult, DeliveryUpdate, HubPort, InboundMessage
from tests.fakes.dovecot import Dovecot, dovecot_binary, running_dovecot

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "email"


def fixture(name: str) -> bytes:
    """The raw bytes of one .eml fixture."""
    return (FIXTURES / name).read_bytes()


def free_port() -> int:
    """A loopback port nothing listens on (aiosmtpd's Controller cannot pick one itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until `condition()` holds, failing the test after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@dataclass
class RecordingHub:
    """The hub as an adapter sees it (HubPort), remembering what it was given; it can be told to fail."""

    delivered: list[InboundMessage] = field(default_factory=list)
    reports: list[DeliveryUpdate] = field(default_factory=list)
    failures_left: int = 0

    async def deliver(self, message: InboundMessage) -> DeliverResult:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("database unavailable")
        duplicate = any(m.external_id == message.external_id for m in self.delivered)
        if not duplicate:
            self.delivered.append(message)
        return DeliverResult(message_id=len(self.delivered), conversation_id=1, customer_id=1, duplicate=duplicate)

    async def report_delivery(self, update: DeliveryUpdate) -> None:
        self.reports.append(update)

    @property
    def port(self) -> HubPort:
        return HubPort(deliver=self.deliver, report_delivery=self.report_delivery)


@pytest.fixture
def hub() -> RecordingHub:
    return RecordingHub()


@dataclass
class SinkServer:
    """An in-process SMTP server that records what it accepts and answers DATA as scripted."""

    host: str
    port: int
    received: list[Envelope] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          options: list[str]) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.received.append(envelope)
        return "250 2.0.0 queued"


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SinkServer]:
    sink = SinkServer(host="127.0.0.1", port=free_port())
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(sink, decode_data=False, enable_SMTPUTF8=True), sink.host, sink.port,
    )
    yield sink
    server.close()
    await server.wait_closed()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    if dovecot_binary() is None:
        pytest.skip("Debian's dovecot is not installed (apt-get install -y dovecot-imapd)")
    with running_dovecot() as server:
        yield server


def envelope_text(envelope: Envelope) -> Any:
    """The bytes an SMTP sink received, as the server stored them."""
    return envelope.original_content or envelope.content
