"""Configuring the channel from KEFU_TELEGRAM_* variables, and refusing settings that cannot work."""
from __future__ import annotations

import pytest

from channels.telegram.adapter import channels_from_env
from channels.telegram.config import ConfigError, TelegramConfig

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_polling_needs_only_the_token() -> None:
    config = TelegramConfig.from_env({"KEFU_TELEGRAM_TOKEN": TOKEN})

    assert config.mode == "polling"
    assert config.api_url == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.max_download_bytes == 20 * 1024 * 1024


def test_webhook_mode_with_a_local_bot_api_server() -> None:
    config = TelegramConfig.from_env({
        "KEFU_TELEGRAM_TOKEN": TOKEN,
        "KEFU_TELEGRAM_MODE": "Webhook",
        "KEFU_TELEGRAM_WEBHOOK_SECRET": "s3cr3t_-value",
        "KEFU_TELEGRAM_WEBHOOK_URL": "https://support.example.com/channels/telegram/webhook",
        "KEFU_TELEGRAM_API_URL": "http://127.0.0.1:8081/bot",
        "KEFU_TELEGRAM_MAX_DOWNLOAD_BYTES": "1048576",
    })

    assert (config.mode, config.webhook_secret) == ("webhook", "s3cr3t_-value")
    assert config.file_url == "http://127.0.0.1:8081/file/bot"
    assert config.max_download_bytes == 1048576


def test_the_token_and_secret_never_show_in_repr() -> None:
    config = TelegramConfig(token=TOKEN, mode="webhook", webhook_secret="hush-hush")

    assert TOKEN not in repr(config) and "hush-hush" not in repr(config)


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({}, "KEFU_TELEGRAM_TOKEN is required"),
        ({"KEFU_TELEGRAM_TOKEN": "not a token"}, "does not look like a bot token"),
        ({"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_MODE": "carrier-pigeon"}, "must be 'webhook' or 'polling'"),
        ({"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_MODE": "webhook"}, "needs KEFU_TELEGRAM_WEBHOOK_SECRET"),
        ({"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_MODE": "webhook", "KEFU_TELEGRAM_WEBHOOK_SECRET": "has space"},
         "1-256 characters"),
        ({"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_POLL_TIMEOUT": "soon"}, "must be a whole number"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_the_variable_named(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        TelegramConfig.from_env(env)


def test_the_channel_is_on_only_when_a_token_is_set() -> None:
    assert channels_from_env({}) == []
    [channel] = channels_from_env({"KEFU_TELEGRAM_TOKEN": TOKEN, "KEFU_TELEGRAM_MODE": "polling"})
    assert channel.kind == "telegram" and channel.routes() == []
