"""An SMTP listener on the event loop: takes mail for the support addresses and answers only once the hub has it."""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from channels.email.ingest import Outcome

log = logging.getLogger("kefu.channels.email")

Ingest = Callable[[bytes, str | None, tuple[str, ...]], Awaitable[Outcome]]


class _Handler:
    """aiosmtpd hooks: check recipients at RCPT, hand the data to the hub at DATA."""

    def __init__(self, ingest: Ingest, accepted: frozenset[str]) -> None:
        self._ingest = ingest
        self._accepted = accepted

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        if self._accepted and address.lower() not in self._accepted:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
        try:
            outcome = await self._ingest(raw, envelope.mail_from or None, tuple(envelope.rcpt_tos))
        except Exception:
            # the sending MTA keeps the mail and tries again later; nothing is lost while the hub is down
            log.exception("could not hand mail from %s to the hub", envelope.mail_from)
            return "451 4.3.0 Temporary failure, please try again later"
        if outcome is Outcome.REJECTED:
            return "550 5.6.0 Message could not be read (no sender address)"
        return "250 2.0.0 Message accepted"


class SmtpListener:
    """A running aiosmtpd server bound to host:port on the current event loop."""

    def __init__(
        self, ingest: Ingest, *, host: str, port: int, max_message_bytes: int, accepted: frozenset[str],
        hostname: str | None = None, tls_context: ssl.SSLContext | None = None, require_tls: bool = False,
    ) -> None:
        if require_tls and tls_context is None:
            raise ValueError("require_tls needs a tls_context")
        self._handler = _Handler(ingest, accepted)
        self._tls_context = tls_context
        self._require_tls = require_tls
        self._host = host
        self._port = port
        self._max_message_bytes = max_message_bytes
        self._hostname = hostname
        self._server: asyncio.base_events.Server | None = None
        self._sessions: set[SMTP] = set()

    @property
    def address(self) -> tuple[str, int] | None:
        """The bound (host, port), useful when configured with port 0."""
        if self._server is None or not self._server.sockets:
            return None
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    def _protocol(self) -> SMTP:
        session = _TrackedSMTP(
            self._handler,
            data_size_limit=self._max_message_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self._hostname,
            ident="Kefu ESMTP",
            tls_context=self._tls_context,
            require_starttls=self._require_tls,
        )
        session.sessions = self._sessions
        return session

    async def start(self) -> None:
        """Bind and start accepting connections."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host=self._host, port=self._port, family=socket.AF_UNSPEC, reuse_address=True,
        )
        log.info("SMTP listener on %s:%s", *(self.address or (self._host, self._port)))

    async def stop(self) -> None:
        """Stop accepting and drop open sessions (their senders retry)."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None


class _TrackedSMTP(SMTP):
    """An SMTP session that registers itself so stop() can close it."""

    sessions: set[SMTP]

    def connection_made(self, transport: Any) -> None:
        self.sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.sessions.discard(self)
        super().connection_lost(error)


def server_tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    """A STARTTLS server context from a PEM certificate chain and key; ValueError says which file failed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert_path, key_path)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"cannot load the listener's certificate {cert_path} with key {key_path}: {exc}") from exc
    return context
