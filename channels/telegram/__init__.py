"""Telegram channel: a bot that customers message, by webhook or long polling."""
from channels.telegram.adapter import TelegramChannel, channels_from_env
from channels.telegram.config import ConfigError, TelegramConfig
from channels.telegram.parse import MalformedUpdate, parse_update

__all__ = ["ConfigError", "MalformedUpdate", "TelegramChannel", "TelegramConfig", "channels_from_env", "parse_update"]
