"""Starting and stopping the channel the way the hub does, including when Telegram misbehaves."""
from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from channels.base import Channel
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import ConfigError, TelegramConfig
from tests.channels.telegram.conftest import RecordingHub, fixture
from tests.fakes.telegram_api import FakeTelegramAPI

MakeConfig = Callable[..., TelegramConfig]


def test_the_channel_fits_the_protocol_and_mounts_a_route_only_for_webhooks(make_config: MakeConfig) -> None:
    webhook = TelegramChannel(make_config(mode="webhook"))
    polling = TelegramChannel(make_config(mode="polling", webhook_secret=None))

    assert isinstance(webhook, Channel) and webhook.kind == "telegram"
    assert [r.path for r in webhook.routes()] == ["/channels/telegram/webhook"]  # type: ignore[attr-defined]
    assert polling.routes() == []


async def test_a_rejected_token_stops_start_without_repeating_the_token(
    make_config: MakeConfig, hub: RecordingHub, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "7012345678:AAThisIsNotTheTokenTheFakeKnows"
    channel = TelegramChannel(make_config(token=wrong))

    with pytest.raises(ConfigError) as caught:
        await channel.start(hub.port)
    await channel.stop()

    assert str(caught.value) == "the Bot API rejected KEFU_TELEGRAM_TOKEN"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert wrong not in caplog.text


async def test_telegram_down_at_boot_does_not_stop_the_hub_from_starting(
    make_config: MakeConfig, hub: RecordingHub, api: FakeTelegramAPI, caplog: pytest.LogCaptureFixture
) -> None:
    api.fail("getMe", code=502, description="Bad Gateway")
    channel = TelegramChannel(make_config())
    caplog.set_level(logging.WARNING)

    await channel.start(hub.port)
    await channel.stop()

    assert "getMe failed at start" in caplog.text


async def test_a_stopped_channel_can_start_again_and_picks_up_where_it_left_off(
    make_config: MakeConfig, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    channel = TelegramChannel(make_config(mode="polling", webhook_secret=None))
    await api.queue_update(fixture("text"))

    await channel.start(hub.port)
    await hub.wait_for(1)
    await channel.stop()
    await api.queue_update(fixture("text_chinese"))
    await channel.start(hub.port)
    await hub.wait_for(2)
    await channel.stop()

    assert [m.external_id for m in hub.delivered] == ["5127460391:41", "6093318842:7"]
