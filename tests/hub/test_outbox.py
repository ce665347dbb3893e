"""Replies are stored before they are sent; a provider outage delays them but loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import insert

from channels.base import Capabilities, DeliveryStatus, HubPort, InboundMessage, OutboundMessage, SendResult
from hub.actions import SYSTEM, Actions
from hub.app import create_app
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.events import InProcessBus
from hub.keys import ACTIONS, DATABASE, QUERIES
from hub.storage.tables import Message


class FlakyProvider:
    """A provider that fails a set number of times, then accepts (a test stand-in for SMS)."""

    kind: ClassVar[str] = "sms"
    capabilities: ClassVar[Capabilities] = Capabilities(max_text_length=1600)

    def __init__(self, failures: int, retryable: bool = True, retry_after: float | None = None) -> None:
        self.failures = failures
        self.retryable = retryable
        self.retry_after = retry_after
        self.sent: list[OutboundMessage] = []
        self.calls = 0

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    async def start(self, hub: HubPort) -> None:
        self.hub = hub

    async def stop(self) -> None:
        return None

    async def send(self, message: OutboundMessage) -> SendResult:
        self.calls += 1
        if self.calls <= self.failures:
            return SendResult(DeliveryStatus.FAILED, error="503 provider unavailable", retryable=self.retryable,
                              retry_after=self.retry_after)
        self.sent.append(message)
        return SendResult(DeliveryStatus.SENT, external_id=f"SM-out-{self.calls}")


async def start_hub(aiohttp_client: Any, settings: Settings, provider: FlakyProvider) -> TestClient:
    return await aiohttp_client(create_app(settings, extra_channels=[provider]))


async def wait_for_status(hub: TestClient, message_id: int, wanted: str, timeout: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            message = await hub.app[QUERIES].message(message_id)
            if message and message["delivery_status"] == wanted:
                return message
            await asyncio.sleep(0.02)


async def reply_to_new_sms(hub: TestClient, text: str = "Your parcel left the warehouse") -> int:
    actions: Actions = hub.app[ACTIONS]
    stored = await actions.receive_inbound(
        InboundMessage(channel="sms", external_id="SMin1", sender="+15557654321", text="where is it?")
    )
    return await actions.post_reply(stored.conversation_id, SYSTEM, text)


async def test_a_provider_outage_delays_a_reply_but_it_is_sent_once(aiohttp_client: Any, settings: Settings) -> None:
    provider = FlakyProvider(failures=2)
    hub = await start_hub(aiohttp_client, settings, provider)
    message_id = await reply_to_new_sms(hub)
    message = await wait_for_status(hub, message_id, "sent")
    assert provider.calls == 3
    assert [m.text for m in provider.sent] == ["Your parcel left the warehouse"]
    assert provider.sent[0].recipient == "+15557654321"
    assert message["delivery_error"] is None


async def test_a_permanent_failure_is_recorded_for_the_agent(aiohttp_client: Any, settings: Settings) -> None:
    provider = FlakyProvider(failures=1, retryable=False)
    hub = await start_hub(aiohttp_client, settings, provider)
    message_id = await reply_to_new_sms(hub)
    message = await wait_for_status(hub, message_id, "failed")
    assert message["delivery_error"] == "503 provider unavailable"
    await asyncio.sleep(0.2)
    assert provider.calls == 1


async def test_retries_stop_after_the_limit(aiohttp_client: Any, settings: Settings) -> None:
    provider = FlakyProvider(failures=100)
    hub = await start_hub(aiohttp_client, settings, provider)
    message_id = await reply_to_new_sms(hub)
    await wait_for_status(hub, message_id, "failed")
    assert provider.calls == settings.outbox_max_attempts


async def test_a_provider_asking_to_wait_is_not_tried_again_sooner(aiohttp_client: Any, settings: Settings) -> None:
    provider = FlakyProvider(failures=1, retry_after=0.6)  # e.g. Telegram's flood control, 429 retry_after
    hub = await start_hub(aiohttp_client, settings, provider)
    message_id = await reply_to_new_sms(hub)
    started = asyncio.get_running_loop().time()
    await wait_for_status(hub, message_id, "sent")
    # The backoff alone would have retried after ~0.05 s; the provider's wait is kept, and one retry does it.
    assert asyncio.get_running_loop().time() - started >= 0.55 and provider.calls == 2


async def test_a_send_interrupted_by_a_crash_is_picked_up_again(aiohttp_client: Any, settings: Settings) -> None:
    provider = FlakyProvider(failures=0)
    hub = await start_hub(aiohttp_client, settings, provider)
    # Another hub process stored a reply, claimed it and died mid-send: the row is left "sending"
    # with a lease that has run out. Write exactly that state.
    other = Actions(hub.app[DATABASE], InProcessBus(), settings, AttachmentStore(settings.data_dir / "other"))
    stored = await other.receive_inbound(
        InboundMessage(channel="sms", external_id="SMin2", sender="+15550009999", text="hello?")
    )
    now = other.clock()
    stuck = (
        insert(Message.__table__)
        .returning(Message.__table__.c.id)
        .values(
            conversation_id=stored.conversation_id,
            seq=2,
            direction="out",
            author="system",
            channel="sms",
            text="We are here",
            attachments=[],
            buttons=[],
            meta={},
            automated=False,
            delivery_status="sending",
            attempts=1,
            next_attempt_at=now - timedelta(seconds=1),
            created_at=now,
        )
    )
    message_id = await hub.app[DATABASE].run_write(lambda conn: conn.execute(stuck).scalar_one())

    await wait_for_status(hub, message_id, "sent")
    assert provider.calls == 1
    assert [m.text for m in provider.sent] == ["We are here"]


async def test_a_reply_on_an_unconfigured_channel_waits_in_the_outbox(aiohttp_client: Any, settings: Settings) -> None:
    hub = await aiohttp_client(create_app(settings))
    actions: Actions = hub.app[ACTIONS]
    stored = await actions.receive_inbound(
        InboundMessage(channel="telegram", external_id="tg-1", sender="12345", text="hi")
    )
    message_id = await actions.post_reply(stored.conversation_id, SYSTEM, "hello")
    message = await wait_for_status(hub, message_id, "failed")
    assert message["delivery_error"] == "channel telegram is not configured"
