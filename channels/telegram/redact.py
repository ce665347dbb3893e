"""Keep the bot token out of logs and stored error text (it sits in every Bot API URL)."""
from __future__ import annotations

import logging
from collections.abc import Iterable

PLACEHOLDER = "<telegram-token>"
# httpx logs each request URL at INFO, and every Bot API URL carries the token.
LOGGERS = ("httpx", "telegram.Bot", "telegram.request")


def redact(text: str, secret: str) -> str:
    """`text` with every occurrence of `secret` replaced by a placeholder."""
    return text.replace(secret, PLACEHOLDER) if secret else text


class TokenRedactor(logging.Filter):
    """A logging filter that rewrites records mentioning the token before any handler sees them."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        message = record.getMessage()
        if self._secret and self._secret in message:
            record.msg = redact(message, self._secret)
            record.args = None
        return True

    def install(self, names: Iterable[str] = LOGGERS) -> None:
        """Attach to the loggers that see request URLs."""
        for name in names:
            logging.getLogger(name).addFilter(self)

    def uninstall(self, names: Iterable[str] = LOGGERS) -> None:
        """Detach again (mirrors install)."""
        for name in names:
            logging.getLogger(name).removeFilter(self)
