"""Which provider channels run, read from KEFU_* variables; web chat always runs."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from channels.base import Channel

log = logging.getLogger(__name__)


def channels_from_env(env: Mapping[str, str] | None = None) -> list[Channel]:
    """Every provider channel whose settings are present (email, SMS, WhatsApp, Telegram)."""
    found: list[Channel] = []
    from channels.sms.adapter import channels_from_env as twilio_channels
    from channels.telegram.adapter import channels_from_env as telegram_channels

    found.extend(twilio_channels(env))
    found.extend(telegram_channels(env))
    try:
        from channels.email.adapter import channels_from_env as email_channels
    except ImportError:  # the email adapter's factory is optional while it is being built
        email_channels = None
    if email_channels is not None:
        found.extend(email_channels(env))
    for channel in found:
        log.info("channel %s configured", channel.kind)
    return found
