"""Settings read from KEFU_* environment variables, with defaults that run on one machine."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from hub.client_address import Network, parse_networks


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kefu"


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything Kefu can be told at start; see docs/configuration.md."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    cookie_secure: bool = False
    session_ttl_hours: int = 12
    webchat_identity_secret: str = ""
    webchat_max_text: int = 4000
    webchat_max_frame: int = 64 * 1024
    webchat_allowed_origins: tuple[str, ...] = ()
    reopen_window_hours: int = 24
    outbox_max_attempts: int = 8
    outbox_base_delay_s: float = 2.0
    outbox_sweep_interval_s: float = 1.0
    bot_enabled: bool = False
    log_level: str = "INFO"
    redis_url: str = ""
    redis_prefix: str = "kefu"
    event_loop: str = "auto"  # auto (uvloop when installed), uvloop, asyncio
    trusted_proxies: tuple[str, ...] = ()
    login_max_failures: int = 10
    login_max_failures_per_address: int = 100
    login_failure_window_s: float = 900.0
    webchat_uploads_per_minute: int = 20
    webchat_messages_per_minute: int = 60
    webchat_messages_per_minute_per_address: int = 600

    def __post_init__(self) -> None:
        if self.login_max_failures < 0 or self.login_max_failures_per_address < 0:
            raise ValueError("KEFU_LOGIN_MAX_FAILURES and KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS must be 0 (off) or more")
        if self.login_failure_window_s <= 0:
            raise ValueError("KEFU_LOGIN_FAILURE_WINDOW must be a positive number of seconds")
        for name in ("uploads_per_minute", "messages_per_minute", "messages_per_minute_per_address"):
            if getattr(self, f"webchat_{name}") < 0:
                raise ValueError(f"KEFU_WEBCHAT_{name.upper()} must be 0 (off) or more")
        parse_networks(self.trusted_proxies)

    @cached_property
    def proxy_networks(self) -> tuple[Network, ...]:
        """KEFU_TRUSTED_PROXIES as networks: the reverse proxies whose X-Forwarded-For is believed."""
        return parse_networks(self.trusted_proxies)

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to a WAL-mode SQLite file in the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'kefu.db'}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read KEFU_* variables; explicit overrides (from the CLI) win."""
        e = os.environ if env is None else env
        values: dict[str, object] = {}
        if e.get("KEFU_DATA_DIR"):
            values["data_dir"] = Path(e["KEFU_DATA_DIR"]).expanduser()
        str_keys = {
            "database_url": "KEFU_DATABASE_URL",
            "host": "KEFU_HOST",
            "public_url": "KEFU_PUBLIC_URL",
            "webchat_identity_secret": "KEFU_WEBCHAT_IDENTITY_SECRET",
            "log_level": "KEFU_LOG_LEVEL",
            "redis_url": "KEFU_REDIS_URL",
            "redis_prefix": "KEFU_REDIS_PREFIX",
            "event_loop": "KEFU_EVENT_LOOP",
        }
        for attr, key in str_keys.items():
            if e.get(key):
                values[attr] = e[key]
        int_keys = {
            "port": "KEFU_PORT",
            "session_ttl_hours": "KEFU_SESSION_TTL_HOURS",
            "webchat_max_text": "KEFU_WEBCHAT_MAX_TEXT",
            "webchat_max_frame": "KEFU_WEBCHAT_MAX_FRAME",
            "reopen_window_hours": "KEFU_REOPEN_WINDOW_HOURS",
            "outbox_max_attempts": "KEFU_OUTBOX_MAX_ATTEMPTS",
            "login_max_failures": "KEFU_LOGIN_MAX_FAILURES",
            "login_max_failures_per_address": "KEFU_LOGIN_MAX_FAILURES_PER_ADDRESS",
            "webchat_uploads_per_minute": "KEFU_WEBCHAT_UPLOADS_PER_MINUTE",
            "webchat_messages_per_minute": "KEFU_WEBCHAT_MESSAGES_PER_MINUTE",
            "webchat_messages_per_minute_per_address": "KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS",
        }
        for attr, key in int_keys.items():
            if e.get(key):
                values[attr] = int(e[key])
        float_keys = {
            "outbox_base_delay_s": "KEFU_OUTBOX_BASE_DELAY",
            "outbox_sweep_interval_s": "KEFU_OUTBOX_SWEEP_INTERVAL",
            "login_failure_window_s": "KEFU_LOGIN_FAILURE_WINDOW",
        }
        for attr, key in float_keys.items():
            if e.get(key):
                values[attr] = float(e[key])
        values["cookie_secure"] = _bool(e.get("KEFU_COOKIE_SECURE"), False)
        values["bot_enabled"] = _bool(e.get("KEFU_BOT_ENABLED"), False)
        if e.get("KEFU_WEBCHAT_ALLOWED_ORIGINS"):
            values["webchat_allowed_origins"] = tuple(
                o.strip() for o in e["KEFU_WEBCHAT_ALLOWED_ORIGINS"].split(",") if o.strip()
            )
        if e.get("KEFU_TRUSTED_PROXIES"):
            values["trusted_proxies"] = tuple(p.strip() for p in e["KEFU_TRUSTED_PROXIES"].split(",") if p.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
