"""With no public URL, Kefu long-polls getUpdates: every update once, in order, through outages."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from channels.telegram.adapter import TelegramChannel
from tests.channels.telegram.conftest import RecordingHub, fixture
from tests.fakes.telegram_api import FakeTelegramAPI

Start = Callable[..., Awaitable[TelegramChannel]]


async def test_polling_picks_up_updates_in_order_and_confirms_them(
    started: Start, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    await api.queue_update(fixture("text"))
    await api.queue_update(fixture("text_chinese"))
    channel = await started(mode="polling", webhook_secret=None)

    await hub.wait_for(2)
    await api.queue_update(fixture("callback_query"))
    await hub.wait_for(3)

    assert [m.external_id for m in hub.delivered] == ["5127460391:41", "6093318842:7", "cb:2201203873927651842"]
    offsets = [c.params.get("offset") for c in api.calls_to("getUpdates")]
    assert offsets[0] is None
    assert 734019003 in offsets  # the poll after the first batch confirmed both updates
    while channel.offset != 734019008:
        await asyncio.sleep(0.01)
    assert api.calls_to("deleteWebhook"), "polling must clear a webhook left over from webhook mode"


async def test_each_update_is_delivered_once_however_often_the_poll_repeats(
    started: Start, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    await api.queue_update(fixture("text"))
    await started(mode="polling", webhook_secret=None, poll_timeout=0)

    await hub.wait_for(1)
    before = len(api.calls_to("getUpdates"))
    while len(api.calls_to("getUpdates")) < before + 3:
        await asyncio.sleep(0.02)

    assert len(hub.delivered) == 1
    assert api.pending_updates == []


async def test_polling_rides_out_server_errors_and_flood_control(
    started: Start, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    api.fail("getUpdates", times=2, code=502, description="Bad Gateway")
    api.fail("getUpdates", times=1, code=429, description="Too Many Requests: retry after 1", retry_after=1)
    await api.queue_update(fixture("text"))
    begun = time.monotonic()

    await started(mode="polling", webhook_secret=None)
    await hub.wait_for(1)

    assert time.monotonic() - begun >= 1.0, "retry_after must be honoured"
    assert len(api.calls_to("getUpdates")) >= 4


async def test_an_update_the_hub_could_not_store_is_fetched_again(
    started: Start, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    hub.failures_left = 1
    await api.queue_update(fixture("text"))
    channel = await started(mode="polling", webhook_secret=None)

    await hub.wait_for(1)

    assert [m.external_id for m in hub.delivered] == ["5127460391:41"]
    served = [c.params.get("offset") for c in api.calls_to("getUpdates")]
    assert served[:2] == [None, None], "the failed update stayed unconfirmed"
    assert channel.offset == 734019002


async def test_stop_interrupts_a_waiting_long_poll_promptly(started: Start, api: FakeTelegramAPI) -> None:
    channel = await started(mode="polling", webhook_secret=None, poll_timeout=30)
    while not api.calls_to("getUpdates"):
        await asyncio.sleep(0.01)

    begun = time.monotonic()
    await channel.stop()

    assert time.monotonic() - begun < 2.0  # the poll itself would have waited 30 s


async def test_stopping_confirms_what_was_handled_so_a_restart_does_not_replay_it(
    started: Start, hub: RecordingHub, api: FakeTelegramAPI
) -> None:
    await api.queue_update(fixture("text"))
    first = await started(mode="polling", webhook_secret=None)
    await hub.wait_for(1)
    await first.stop()

    assert api.pending_updates == []
