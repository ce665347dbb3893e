"""The email channel: an SMTP listener and IMAP pollers bring mail in, aiosmtplib sends replies out."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import ClassVar

from aiohttp import web

from channels.base import Capabilities, DeliveryStatus, HubPort, OutboundMessage, SendResult
from channels.email.compose import ComposeSettings, compose_email, outbound_message_id
from channels.email.config import ConfigError, EmailConfig, is_configured
from channels.email.imap import MailboxPoller
from channels.email.ingest import Ingestor, Outcome
from channels.email.listener import SmtpListener, server_tls_context
from channels.email.outbound import failure_result, submit
from channels.render import render_for

log = logging.getLogger("kefu.channels.email")


class EmailChannel:
    """Channel "email": inbound over SMTP (listener) and IMAP (per mailbox), outbound through an SMTP relay."""

    kind: ClassVar[str] = "email"
    capabilities: ClassVar[Capabilities] = Capabilities(buttons=False, attachments=True, html=True)

    def __init__(
        self,
        config: EmailConfig,
        *,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
        idle_renew: float = 300.0,
    ) -> None:
        self.config = config
        self._compose = ComposeSettings(
            from_address=config.from_address, domain=config.domain, from_name=config.from_name,
            default_subject=config.default_subject,
        )
        self._reconnect = (reconnect_min, reconnect_max)
        self._idle_renew = idle_renew
        self._ingestor: Ingestor | None = None
        self._listener: SmtpListener | None = None
        self.pollers: list[MailboxPoller] = []
        self._tasks: list[asyncio.Task[None]] = []

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """Email needs no webhooks."""
        return []

    @property
    def listen_address(self) -> tuple[str, int] | None:
        """Where the SMTP listener is bound, once started."""
        return self._listener.address if self._listener else None

    async def start(self, hub: HubPort) -> None:
        """Open the SMTP listener (if configured) and start one IMAP poller per mailbox with IMAP settings."""
        self._ingestor = Ingestor(hub, max_attachment_bytes=self.config.max_attachment_bytes)
        if self.config.listen is not None:
            host, port = self.config.listen
            tls = self.config.listen_tls
            context = None
            if tls is not None:
                try:
                    context = await asyncio.to_thread(server_tls_context, str(tls.cert_path), str(tls.key_path))
                except ValueError as exc:
                    raise ConfigError(f"KEFU_EMAIL_LISTEN_TLS_CERT/KEY: {exc}") from exc
            self._listener = SmtpListener(
                self._from_listener, host=host, port=port, max_message_bytes=self.config.max_message_bytes,
                accepted=self.config.accepted_addresses, hostname=self.config.domain,
                tls_context=context, require_tls=bool(tls and tls.required),
            )
            await self._listener.start()
        for mailbox in self.config.mailboxes:
            if mailbox.imap is None:
                continue
            poller = MailboxPoller(
                mailbox, self._from_imap, idle_renew=self._idle_renew,
                reconnect_min=self._reconnect[0], reconnect_max=self._reconnect[1],
            )
            self.pollers.append(poller)
            self._tasks.append(asyncio.create_task(poller.run(), name=f"kefu-imap-{mailbox.address}"))

    async def stop(self) -> None:
        """Close the listener and cancel the pollers; mail not yet marked \\Seen is fetched again next start."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self.pollers.clear()
        if self._listener is not None:
            await self._listener.stop()
            self._listener = None

    async def ingest(
        self,
        raw: bytes,
        *,
        envelope_sender: str | None = None,
        envelope_recipients: tuple[str, ...] = (),
        mailbox: str | None = None,
    ) -> Outcome:
        """Take one raw mail from any source (listener, IMAP, an MTA pipe) to the hub."""
        if self._ingestor is None:
            raise RuntimeError("EmailChannel.start() has not been called")
        return await self._ingestor.ingest(
            raw, envelope_sender=envelope_sender, envelope_recipients=envelope_recipients, mailbox=mailbox,
        )

    async def _from_listener(self, raw: bytes, sender: str | None, recipients: tuple[str, ...]) -> Outcome:
        return await self.ingest(raw, envelope_sender=sender, envelope_recipients=recipients)

    async def _from_imap(self, raw: bytes, mailbox: str) -> Outcome:
        return await self.ingest(raw, mailbox=mailbox)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Compose and submit one reply; provider trouble comes back as a failed SendResult, never an exception."""
        message = render_for(self.capabilities, message)
        mailbox = self.config.mailbox_for(message.metadata.get("mailbox"))
        sender = mailbox.address if mailbox else self.config.from_address
        try:
            email = compose_email(message, self._compose, from_address=sender,
                                  from_name=mailbox.name if mailbox else None)
        except (ValueError, TypeError) as error:
            # a recipient or header that cannot be written will not get better on retry
            return SendResult(status=DeliveryStatus.FAILED, error=f"cannot compose: {error}", retryable=False)
        recipients = [message.recipient, *message.metadata.get("cc", ())]
        try:
            await submit(email, self.config.smtp, sender=sender, recipients=recipients)
        except Exception as error:
            result = failure_result(error)
            log.warning("send of message %s failed: %s (retryable=%s)", message.message_id, result.error,
                        result.retryable)
            return result
        return SendResult(status=DeliveryStatus.SENT, external_id=outbound_message_id(message, self.config.domain))


def channels_from_env(env: Mapping[str, str] | None = None) -> list[EmailChannel]:
    """The email channel the environment configures: none unless a KEFU_EMAIL_* setting asks for it."""
    if not is_configured(env):
        return []
    return [EmailChannel(EmailConfig.from_env(env))]
