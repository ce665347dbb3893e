"""Reads one IMAP mailbox: unseen mail goes to the hub and is then marked \\Seen; IDLE when offered, else polling."""
from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aioimaplib import IMAP4, STOP_WAIT_SERVER_PUSH, Command  # type: ignore[import-untyped]

from channels.email.config import ImapSettings, Mailbox
from channels.email.ingest import Outcome

log = logging.getLogger("kefu.channels.email")

T = TypeVar("T")
IngestMail = Callable[[bytes, str], Awaitable[Outcome]]

# How long one IDLE lasts before it is renewed; a silently dead connection is noticed within this time.
IDLE_RENEW_SECONDS = 300.0
RECONNECT_MIN_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 60.0
_UID = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The IMAP server said NO or BAD to something the poller needs."""


async def start_tls(client: IMAP4, context: ssl.SSLContext, host: str, timeout: float) -> None:
    """Upgrade a connection that has not logged in yet with STARTTLS (RFC 3501 6.2.1); aioimaplib has no
    method for it, so the command goes through its protocol and the loop swaps the transport."""
    protocol = client.protocol
    if "STARTTLS" not in {c.upper() for c in protocol.capabilities}:
        # Never fall back to plain text: the password would cross the network in the clear.
        raise ImapError("the server does not offer STARTTLS")
    response = await asyncio.wait_for(protocol.execute(Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)),
                                      timeout)
    if response.result != "OK":
        raise ImapError(f"STARTTLS refused: {response.lines[-1:]!r}")
    loop = asyncio.get_running_loop()
    protocol.transport = await asyncio.wait_for(
        loop.start_tls(protocol.transport, protocol, context, server_hostname=host), timeout
    )
    # What the server said it could do before encryption must be asked again (the RFC says so).
    await asyncio.wait_for(protocol.capability(), timeout)


def search_uids(lines: list[bytes | bytearray]) -> list[str]:
    """UIDs from a UID SEARCH response's lines (the last line is the tagged status text)."""
    uids: list[str] = []
    for line in lines[:-1]:
        uids.extend(token.decode() for token in bytes(line).split() if token.isdigit())
    return uids


def fetched_body(lines: list[bytes | bytearray]) -> bytes | None:
    """The message literal from a UID FETCH (BODY.PEEK[]) response, or None when the mail is gone."""
    for line in lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None


class MailboxPoller:
    """Keeps one mailbox drained into the hub across disconnects, with backoff between attempts."""

    def __init__(
        self,
        mailbox: Mailbox,
        ingest: IngestMail,
        *,
        idle_renew: float = IDLE_RENEW_SECONDS,
        reconnect_min: float = RECONNECT_MIN_SECONDS,
        reconnect_max: float = RECONNECT_MAX_SECONDS,
    ) -> None:
        if mailbox.imap is None:
            raise ValueError(f"mailbox {mailbox.address} has no IMAP settings")
        self.mailbox = mailbox
        self.settings: ImapSettings = mailbox.imap
        self._ingest = ingest
        self._idle_renew = idle_renew
        self._reconnect_min = reconnect_min
        self._reconnect_max = reconnect_max
        self._lost = asyncio.Event()
        self.sessions = 0  # successful logins so far; tells tests and logs that a reconnect happened

    def _where(self) -> str:
        return f"{self.settings.username}@{self.settings.host}:{self.settings.port}/{self.settings.folder}"

    async def run(self) -> None:
        """Drain, wait for new mail, repeat; reconnect on any failure until cancelled."""
        delay = self._reconnect_min
        while True:
            logins = self.sessions
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the network and the server fail in many ways; all mean "try again"
                log.warning("IMAP %s: %s: %s; reconnecting", self._where(), type(error).__name__, error)
            if self.sessions > logins:
                delay = self._reconnect_min
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max)

    async def _connect(self) -> IMAP4:
        self._lost = asyncio.Event()
        context = None
        if self.settings.security in ("tls", "starttls"):
            context = ssl.create_default_context()
            if not self.settings.validate_certs:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        client = IMAP4(
            host=self.settings.host, port=self.settings.port, timeout=self.settings.timeout,
            conn_lost_cb=lambda _error: self._lost.set(),
            ssl_context=context if self.settings.security == "tls" else None,
        )
        await client.wait_hello_from_server()
        if self.settings.security == "starttls":
            assert context is not None
            await start_tls(client, context, self.settings.host, self.settings.timeout)
        response = await client.login(self.settings.username, self.settings.password)
        if response.result != "OK":
            raise ImapError("login refused")
        response = await client.select(self.settings.folder)
        if response.result != "OK":
            raise ImapError(f"cannot select {self.settings.folder!r}")
        return client

    async def _session(self) -> None:
        client = await self._connect()
        self.sessions += 1
        log.info("IMAP %s: connected", self._where())
        try:
            while True:
                await self._drain(client)
                if self.settings.idle and client.has_capability("IDLE"):
                    await self._idle(client)
                else:
                    await self._pause()
                    # NOOP makes the server look for new mail before the next search
                    await self._call(client.noop())
        finally:
            await self._close(client)

    async def _call(self, awaitable: Awaitable[T]) -> T:
        """Await one client call, but give up at once when the connection drops (aioimaplib would wait on)."""
        task = asyncio.ensure_future(awaitable)
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            done, _ = await asyncio.wait({task, lost}, timeout=self.settings.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            lost.cancel()
            if not task.done():
                task.cancel()
        if task in done:
            return task.result()
        if self._lost.is_set():
            raise ConnectionError("connection lost")
        raise TimeoutError(f"no answer from the IMAP server in {self.settings.timeout}s")

    async def _pause(self) -> None:
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            await asyncio.wait({lost}, timeout=self.settings.poll_interval)
        finally:
            lost.cancel()
        if self._lost.is_set():
            raise ConnectionError("connection lost")

    async def _drain(self, client: IMAP4) -> None:
        response = await self._call(client.uid_search("UNSEEN", charset=None))
        if response.result != "OK":
            raise ImapError("UID SEARCH UNSEEN failed")
        for uid in search_uids(response.lines):
            fetched = await self._call(client.uid("fetch", uid, "(BODY.PEEK[])"))
            if fetched.result != "OK":
                raise ImapError(f"UID FETCH {uid} failed")
            raw = fetched_body(fetched.lines)
            if raw is None:
                continue
            # a hub error propagates: the mail stays unseen and is fetched again after reconnecting
            outcome = await self._ingest(raw, self.mailbox.address)
            flags = r"(\Seen \Flagged)" if outcome is Outcome.REJECTED else r"(\Seen)"
            stored = await self._call(client.uid("store", uid, "+FLAGS.SILENT", flags))
            if stored.result != "OK":
                raise ImapError(f"UID STORE {uid} failed")

    async def _idle(self, client: IMAP4) -> None:
        idle = await self._call(client.idle_start(timeout=self._idle_renew))
        lost = asyncio.ensure_future(self._lost.wait())
        try:
            while client.has_pending_idle():
                push = asyncio.ensure_future(client.wait_server_push(timeout=self._idle_renew + 30))
                done, _ = await asyncio.wait({push, lost}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    push.cancel()
                    raise ConnectionError("connection lost while idling")
                pushed = push.result()
                if pushed == STOP_WAIT_SERVER_PUSH:
                    break
                if any(b"EXISTS" in bytes(line) for line in pushed):
                    break
        finally:
            lost.cancel()
        if client.has_pending_idle():
            client.idle_done()
        await self._call(idle)

    async def _close(self, client: IMAP4) -> None:
        if self._lost.is_set():
            return
        try:
            if client.has_pending_idle():
                client.idle_done()  # LOGOUT would otherwise queue behind the open IDLE
            await asyncio.wait_for(client.logout(), 5)
        except Exception:  # a goodbye that fails changes nothing
            pass
