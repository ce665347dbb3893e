"""Hand a composed email to the SMTP relay and turn whatever happens into a SendResult the outbox understands."""
from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from channels.base import DeliveryStatus, SendResult
from channels.email.config import SmtpSettings


def failure_result(error: BaseException) -> SendResult:
    """A failed SendResult: 4xx and network trouble are retryable, 5xx about the message or recipient is not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in error.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        return _failed(f"recipients refused: {detail}", retryable=any(400 <= c < 500 for c in codes))
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        # our credentials, not this message, are wrong: keep it queued until the operator fixes them
        return _failed(f"SMTP authentication failed: {error.code}", retryable=True)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _failed(f"SMTP {error.code} {error.message}", retryable=not 500 <= error.code < 600)
    # refused or dropped connections, timeouts, TLS trouble: the relay may be back later
    return _failed(f"{type(error).__name__}: {error}", retryable=True)


def _failed(error: str, *, retryable: bool) -> SendResult:
    return SendResult(status=DeliveryStatus.FAILED, error=error[:500], retryable=retryable)


async def submit(email: EmailMessage, settings: SmtpSettings, *, sender: str, recipients: list[str]) -> None:
    """Send one message through the configured relay; raises aiosmtplib/OS errors for failure_result."""
    await aiosmtplib.send(
        email,
        sender=sender,
        recipients=recipients,
        hostname=settings.host,
        port=settings.port,
        username=settings.username,
        password=settings.password,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        validate_certs=settings.validate_certs,
        timeout=settings.timeout,
    )
