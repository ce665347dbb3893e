"""Telegram channel settings, read from KEFU_TELEGRAM_* environment variables."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["webhook", "polling"]

DEFAULT_API_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_URL = "https://api.telegram.org/file/bot"
# getFile serves at most 20 MB from the public Bot API; larger files cannot be fetched anyway.
DEFAULT_MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

# Telegram's own rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(ValueError):
    """The Telegram settings cannot work as given."""


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    """Everything the Telegram adapter needs to know; the token never shows in repr."""

    token: str = field(repr=False)
    mode: Mode = "polling"
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_url: str | None = None
    api_url: str = DEFAULT_API_URL
    file_url: str = DEFAULT_FILE_URL
    poll_timeout: int = 30
    max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES
    request_timeout: float = 10.0
    download_timeout: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0

    def __post_init__(self) -> None:
        """Refuse settings that would fail later or silently accept forged webhooks."""
        if not self.token:
            raise ConfigError("KEFU_TELEGRAM_TOKEN is required (the token BotFather gave you)")
        if not _TOKEN.match(self.token):
            raise ConfigError("KEFU_TELEGRAM_TOKEN does not look like a bot token (digits:letters)")
        if self.mode not in ("webhook", "polling"):
            raise ConfigError(f"KEFU_TELEGRAM_MODE must be 'webhook' or 'polling', not {self.mode!r}")
        if self.webhook_secret is not None and not _SECRET.match(self.webhook_secret):
            raise ConfigError(
                "KEFU_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ or -"
            )
        if self.mode == "webhook" and not self.webhook_secret:
            # Without the secret anyone who guesses the URL could post fake customer messages.
            raise ConfigError("webhook mode needs KEFU_TELEGRAM_WEBHOOK_SECRET")
        if not 0 <= self.poll_timeout <= 50:
            raise ConfigError("KEFU_TELEGRAM_POLL_TIMEOUT must be between 0 and 50 seconds")
        if self.max_download_bytes < 0:
            raise ConfigError("KEFU_TELEGRAM_MAX_DOWNLOAD_BYTES must not be negative")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> TelegramConfig:
        """Read the KEFU_TELEGRAM_* variables; unset ones take the defaults."""
        api_url = environ.get("KEFU_TELEGRAM_API_URL") or DEFAULT_API_URL
        file_url = environ.get("KEFU_TELEGRAM_FILE_URL") or file_url_for(api_url)
        return cls(
            token=environ.get("KEFU_TELEGRAM_TOKEN", "").strip(),
            mode=environ.get("KEFU_TELEGRAM_MODE", "polling").strip().lower(),  # type: ignore[arg-type]
            webhook_secret=environ.get("KEFU_TELEGRAM_WEBHOOK_SECRET") or None,
            webhook_url=environ.get("KEFU_TELEGRAM_WEBHOOK_URL") or None,
            api_url=api_url,
            file_url=file_url,
            poll_timeout=_int(environ, "KEFU_TELEGRAM_POLL_TIMEOUT", 30),
            max_download_bytes=_int(
                environ, "KEFU_TELEGRAM_MAX_DOWNLOAD_BYTES", DEFAULT_MAX_DOWNLOAD_BYTES
            ),
        )


def file_url_for(api_url: str) -> str:
    """The file download base that goes with an API base: '.../bot' becomes '.../file/bot'."""
    if api_url.endswith("/bot"):
        return api_url[: -len("bot")] + "file/bot"
    return api_url.rstrip("/") + "/file/bot"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    """An integer variable, with the variable's name in the error when it is not one."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
