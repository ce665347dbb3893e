"""What a failed Twilio API call means for the outbox: try again later, or give up with the code."""
from __future__ import annotations

import asyncio

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from channels.base import DeliveryStatus, SendResult
from channels.sms.parse import error_text

_PREFIX = "Unable to create record: "

# Everything messages.create_async raises that is the provider's or the network's doing.
PROVIDER_ERRORS: tuple[type[BaseException], ...] = (
    TwilioRestException,
    TwilioServiceException,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)


def is_retryable(http_status: int) -> bool:
    """Server trouble, rate limits and credentials mid-rotation pass; other 4xx are about this message."""
    return http_status >= 500 or http_status in (401, 429)


def failure(exc: BaseException) -> SendResult:
    """A failed SendResult for one of PROVIDER_ERRORS raised by messages.create_async."""
    if isinstance(exc, TwilioRestException):
        message = str(exc.msg or "")
        message = message.removeprefix(_PREFIX)
        code = exc.code if exc.code != exc.status else None
        return SendResult(
            status=DeliveryStatus.FAILED,
            error=error_text(code, message or f"HTTP {exc.status}"),
            retryable=is_retryable(int(exc.status)),
        )
    if isinstance(exc, TwilioServiceException):
        return SendResult(
            status=DeliveryStatus.FAILED,
            error=error_text(exc.code, exc.detail or exc.title),
            retryable=is_retryable(int(exc.status)),
        )
    # The network's doing (refused, reset, timed out): the message itself may be fine.
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return SendResult(status=DeliveryStatus.FAILED, error=f"twilio unreachable: {detail}", retryable=True)
