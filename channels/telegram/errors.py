"""What a Bot API error means for an outbound message: try again later, or give up with a reason."""
from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning


@dataclass(frozen=True, slots=True)
class SendFailure:
    """A failed Bot API call as the outbox needs it."""

    error: str
    retryable: bool
    retry_after: float | None = None


def classify(exc: TelegramError) -> SendFailure:
    """Map PTB's exception for a failed call onto retryable or permanent."""
    if isinstance(exc, RetryAfter):
        seconds = _seconds(exc)
        return SendFailure(f"Too Many Requests: retry after {seconds:g}s", True, seconds)
    if isinstance(exc, Forbidden):
        # "bot was blocked by the user", "user is deactivated", "bot was kicked from the group".
        return SendFailure(exc.message, False)
    if isinstance(exc, ChatMigrated):
        return SendFailure(f"group moved to supergroup {exc.new_chat_id}", False)
    if isinstance(exc, BadRequest):
        # Checked before NetworkError, which PTB makes its parent: 400 is our request, not the wire.
        return SendFailure(exc.message, False)
    if isinstance(exc, InvalidToken):
        # A configuration problem: keep the message queued until the operator fixes the token.
        return SendFailure("the Bot API rejected the bot token", True)
    if isinstance(exc, NetworkError):
        return SendFailure(exc.message, True)
    return SendFailure(exc.message, True)


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that the int form will become a timedelta; both are handled below.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)
