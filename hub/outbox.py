"""The outbox dispatcher: sends stored replies through their channel, retrying with backoff."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from channels.base import Channel, DeliveryStatus, SendResult
from channels.render import render_for
from hub.actions import Actions
from hub.events import Event, MessageQueued
from hub.files import prepare_outbound
from hub.queries import Queries

log = logging.getLogger(__name__)


class OutboxDispatcher:
    """Sends a reply as soon as it is queued, and sweeps for retries and stuck sends."""

    def __init__(
        self,
        actions: Actions,
        queries: Queries,
        channels: Mapping[str, Channel],
        *,
        sweep_interval_s: float = 1.0,
        concurrency: int = 32,
    ) -> None:
        self.actions = actions
        self.queries = queries
        self.channels = channels
        self.sweep_interval_s = sweep_interval_s
        self._slots = asyncio.Semaphore(concurrency)
        self._sweeper: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: a newly queued reply is sent at once."""
        if isinstance(event, MessageQueued) and not event.note:
            if await self.actions.claim_outbound(event.message_id):
                self._spawn(event.message_id)

    def _spawn(self, message_id: int) -> None:
        task = asyncio.create_task(self._send(message_id), name=f"outbox:{message_id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _send(self, message_id: int) -> None:
        async with self._slots:
            try:
                outbound = await self.queries.outbound(message_id)
                channel = self.channels.get(outbound.channel)
                if channel is None:
                    result = SendResult(
                        DeliveryStatus.FAILED, error=f"channel {outbound.channel} is not configured", retryable=True
                    )
                elif outbound.metadata.get("opted_out"):
                    result = SendResult(DeliveryStatus.FAILED, error="recipient opted out", retryable=False)
                else:
                    outbound = await prepare_outbound(
                        outbound,
                        self.actions.attachments,
                        self.actions.settings.public_url,
                        relative_ok=channel.kind == "webchat",
                    )
                    result = await channel.send(render_for(channel.capabilities, outbound))
            except Exception as exc:
                log.exception("sending message %s failed", message_id)
                result = SendResult(DeliveryStatus.FAILED, error=f"{type(exc).__name__}: {exc}", retryable=True)
            await self.actions.record_send_result(message_id, result)

    async def sweep_once(self) -> int:
        """Claim and send every due message; returns how many were claimed."""
        claimed = await self.actions.claim_due_outbound()
        for message_id in claimed:
            self._spawn(message_id)
        return len(claimed)

    async def _sweep_forever(self) -> None:
        while True:
            try:
                await self.sweep_once()
            except Exception:
                log.exception("outbox sweep failed")
            await asyncio.sleep(self.sweep_interval_s)

    async def start(self) -> None:
        """Start the periodic sweep."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="outbox-sweeper")

    async def stop(self) -> None:
        """Stop sweeping and let in-flight sends finish."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
