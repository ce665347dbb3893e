"""Twilio settings for the SMS and WhatsApp channels, read from KEFU_TWILIO_* environment variables."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from channels.sms.parse import WHATSAPP_PREFIX

Kind = Literal["sms", "whatsapp"]
KINDS: tuple[Kind, ...] = ("sms", "whatsapp")
# WhatsApp documents go up to 100 MB, but photos, voice notes and MMS stay well under this.
DEFAULT_MAX_MEDIA_BYTES = 20 * 1024 * 1024


class TwilioConfigError(ValueError):
    """Settings that cannot work; the message names the variable."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    """What one Twilio channel (SMS or WhatsApp) needs; the secrets never appear in repr or logs."""

    kind: Kind
    account_sid: str
    auth_token: str = field(repr=False)
    from_: str | None = None
    messaging_service_sid: str | None = None
    public_url: str | None = None
    trust_forwarded: bool = False
    max_segments: int = 10
    timeout: float = 10.0
    api_key_sid: str | None = None
    api_key_secret: str | None = field(default=None, repr=False)
    max_media_bytes: int = DEFAULT_MAX_MEDIA_BYTES
    media_timeout: float = 10.0
    delete_media: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TwilioConfigError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not self.account_sid or not self.auth_token:
            raise TwilioConfigError("KEFU_TWILIO_ACCOUNT_SID and KEFU_TWILIO_AUTH_TOKEN are required")
        if not self.from_ and not self.messaging_service_sid:
            k = self.kind.upper()
            raise TwilioConfigError(f"set KEFU_TWILIO_{k}_FROM or KEFU_TWILIO_{k}_MESSAGING_SERVICE_SID")
        if self.kind == "whatsapp" and self.from_ and not self.from_.startswith(WHATSAPP_PREFIX):
            # People paste the bare number from the console; Twilio wants the channel prefix.
            object.__setattr__(self, "from_", WHATSAPP_PREFIX + self.from_)
        if not 1 <= self.max_segments <= 10:
            raise TwilioConfigError("KEFU_TWILIO_SMS_MAX_SEGMENTS must be 1..10")
        if self.timeout <= 0:
            raise TwilioConfigError("KEFU_TWILIO_TIMEOUT must be positive")
        if bool(self.api_key_sid) != bool(self.api_key_secret):
            raise TwilioConfigError("set both KEFU_TWILIO_API_KEY_SID and KEFU_TWILIO_API_KEY_SECRET, or neither")
        if self.max_media_bytes < 0:
            raise TwilioConfigError("KEFU_TWILIO_MAX_MEDIA_BYTES must be 0 (no downloads) or more")
        if not 0 < self.media_timeout <= 14:
            # Twilio gives up on a webhook after 15 s and sends it again.
            raise TwilioConfigError("KEFU_TWILIO_MEDIA_TIMEOUT must be more than 0 and at most 14 seconds")
        if self.public_url:
            if not self.public_url.startswith(("https://", "http://")):
                raise TwilioConfigError("KEFU_TWILIO_PUBLIC_URL must start with https:// or http://")
            object.__setattr__(self, "public_url", self.public_url.rstrip("/"))

    @property
    def credentials(self) -> tuple[str, str]:
        """The Basic-auth pair for Twilio's API and media: the API key when set, else the account's token."""
        if self.api_key_sid and self.api_key_secret:
            return self.api_key_sid, self.api_key_secret
        return self.account_sid, self.auth_token

    @property
    def inbound_path(self) -> str:
        """Where Twilio posts incoming messages for this channel."""
        return f"/channels/twilio/{self.kind}/inbound"

    @property
    def status_path(self) -> str:
        """Where Twilio posts status callbacks for messages this channel sent."""
        return f"/channels/twilio/{self.kind}/status"

    @property
    def status_callback_url(self) -> str | None:
        """The StatusCallback URL given with each send, when Kefu knows its public address."""
        return f"{self.public_url}{self.status_path}" if self.public_url else None

    @classmethod
    def from_env(cls, kind: Kind, env: Mapping[str, str] | None = None) -> TwilioConfig:
        """Read KEFU_TWILIO_* (and KEFU_PUBLIC_URL as the fallback public address) for one kind."""
        e = os.environ if env is None else env
        k = kind.upper()

        def get(name: str) -> str | None:
            return (e.get(name) or "").strip() or None

        try:
            max_segments = int(get("KEFU_TWILIO_SMS_MAX_SEGMENTS") or 10)
            timeout = float(get("KEFU_TWILIO_TIMEOUT") or 10.0)
            max_media_bytes = int(get("KEFU_TWILIO_MAX_MEDIA_BYTES") or DEFAULT_MAX_MEDIA_BYTES)
            media_timeout = float(get("KEFU_TWILIO_MEDIA_TIMEOUT") or 10.0)
        except ValueError as exc:
            raise TwilioConfigError(
                "KEFU_TWILIO_SMS_MAX_SEGMENTS, KEFU_TWILIO_TIMEOUT, KEFU_TWILIO_MAX_MEDIA_BYTES and "
                f"KEFU_TWILIO_MEDIA_TIMEOUT must be numbers: {exc}"
            ) from exc
        return cls(
            kind=kind,
            account_sid=get("KEFU_TWILIO_ACCOUNT_SID") or "",
            auth_token=get("KEFU_TWILIO_AUTH_TOKEN") or "",
            from_=get(f"KEFU_TWILIO_{k}_FROM"),
            messaging_service_sid=get(f"KEFU_TWILIO_{k}_MESSAGING_SERVICE_SID"),
            public_url=get("KEFU_TWILIO_PUBLIC_URL") or get("KEFU_PUBLIC_URL"),
            trust_forwarded=_flag(get("KEFU_TWILIO_TRUST_FORWARDED")),
            max_segments=max_segments,
            timeout=timeout,
            api_key_sid=get("KEFU_TWILIO_API_KEY_SID"),
            api_key_secret=get("KEFU_TWILIO_API_KEY_SECRET"),
            max_media_bytes=max_media_bytes,
            media_timeout=media_timeout,
            delete_media=_flag(get("KEFU_TWILIO_DELETE_MEDIA")),
        )

    @staticmethod
    def enabled_kinds(env: Mapping[str, str] | None = None) -> tuple[Kind, ...]:
        """The kinds the environment configures: a sender or messaging service set for that kind."""
        e = os.environ if env is None else env
        if not (e.get("KEFU_TWILIO_ACCOUNT_SID") or "").strip():
            return ()
        return tuple(
            kind
            for kind in KINDS
            if (e.get(f"KEFU_TWILIO_{kind.upper()}_FROM") or "").strip()
            or (e.get(f"KEFU_TWILIO_{kind.upper()}_MESSAGING_SERVICE_SID") or "").strip()
        )
