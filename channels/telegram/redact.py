"""Keep the bot token out of logs and stored error text (it sits in every Bot API URL)."""
from __future__ import annotations

import logging

PLACEHOLDER = "<telegram-token>"
# httpx logs each request URL at INFO; PTB logs its base URLs at DEBUG when a Bot is made.
LOGGERS = ("httpx", "telegram.Bot", "telegram.request")


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced by a placeholder."""
    return text.replace(secret, PLACEHOLDER) if secret else text


class TokenRedactor(logging.Filter):
    """A logging filter that rewrites records mentioning a protected secret; it never drops one."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place before any handler formats it."""
        message = record.getMessage()
        hits = [s for s in self.secrets if s in message]
        if hits:
            for secret in hits:
                message = redact(message, secret)
            record.msg = message
            record.args = None
        return True


_REDACTOR = TokenRedactor()


def protect(secret: str) -> None:
    """From now on, hide `secret` in the loggers that see Bot API URLs (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    if secret:
        _REDACTOR.secrets.add(secret)
