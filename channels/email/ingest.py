"""One raw mail in, one call to the hub out: deliver a customer message, report a delivery, or skip our own echo."""
from __future__ import annotations

import asyncio
import enum
import functools
import logging
from dataclasses import replace

from channels.base import HubPort, InboundMessage
from channels.email.parse import MalformedEmail, OwnEmail, ParsedEmail, classify_email, malformed_to_inbound
from channels.email.reports import DeliveryReport

log = logging.getLogger("kefu.channels.email")

# Above this size parsing leaves the event loop for a worker thread.
EXECUTOR_THRESHOLD = 256 * 1024


class Outcome(str, enum.Enum):
    """What became of one ingested mail; listeners turn it into an SMTP reply or an IMAP flag."""

    DELIVERED = "delivered"
    REPORTED = "reported"
    IGNORED = "ignored"
    REJECTED = "rejected"


class Ingestor:
    """Parses raw mail and hands the result to the hub; a hub error propagates so the mail is retried, not lost."""

    def __init__(self, hub: HubPort, *, max_attachment_bytes: int) -> None:
        self._hub = hub
        self._max_attachment_bytes = max_attachment_bytes

    async def classify(
        self, raw: bytes, envelope_sender: str | None, envelope_recipients: tuple[str, ...],
    ) -> ParsedEmail:
        """Parse on the loop for ordinary mail, in a worker thread for large mail."""
        work = functools.partial(
            classify_email, raw, envelope_sender=envelope_sender, envelope_recipients=envelope_recipients,
            max_attachment_bytes=self._max_attachment_bytes,
        )
        if len(raw) <= EXECUTOR_THRESHOLD:
            return work()
        return await asyncio.get_running_loop().run_in_executor(None, work)

    async def ingest(
        self,
        raw: bytes,
        *,
        envelope_sender: str | None = None,
        envelope_recipients: tuple[str, ...] = (),
        mailbox: str | None = None,
    ) -> Outcome:
        """Route one raw mail to the hub and say what happened."""
        parsed = await self.classify(raw, envelope_sender, envelope_recipients)
        if isinstance(parsed, OwnEmail):
            log.debug("skipping Kefu's own mail (message %s)", parsed.kefu_message)
            return Outcome.IGNORED
        if isinstance(parsed, DeliveryReport):
            update = parsed.to_update()
            if update is None:
                log.info("delivery report %r for %s changes nothing", parsed.action, parsed.original_message_id)
                return Outcome.IGNORED
            await self._hub.report_delivery(update)
            return Outcome.REPORTED
        if isinstance(parsed, MalformedEmail):
            log.warning("malformed mail %s: %s", parsed.external_id, parsed.error)
            inbound = malformed_to_inbound(parsed)
            if inbound is None:
                return Outcome.REJECTED
            parsed = inbound
        await self._hub.deliver(_with_mailbox(parsed, mailbox, envelope_recipients))
        return Outcome.DELIVERED


def _with_mailbox(message: InboundMessage, mailbox: str | None, recipients: tuple[str, ...]) -> InboundMessage:
    # the support address the customer wrote to, so the reply can come from the same one
    address = mailbox or (recipients[0].lower() if recipients else None)
    if not address:
        return message
    return replace(message, metadata={**message.metadata, "mailbox": address})
