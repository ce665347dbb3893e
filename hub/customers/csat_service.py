"""CSAT in a running hub: plan the question when a conversation is resolved, send it when due, thank, rate by page."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from channels.base import Capabilities, Channel
from hub.actions import SYSTEM, Actions
from hub.customers import csat_store
from hub.customers.config import CustomerSettings
from hub.customers.csat import Rating, question, thanks
from hub.events import Bus, ConversationChanged, Event
from hub.storage.database import Database

log = logging.getLogger(__name__)

SWEEP_BATCH = 50


class CsatService:
    """Asks for a 1-5 rating after resolution on the conversation's channel and records the answer."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        actions: Actions,
        channels: Mapping[str, Channel],
        settings: CustomerSettings,
        public_url: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.bus = bus
        self.actions = actions
        self.channels = channels
        self.settings = settings
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self._wake = asyncio.Event()
        self._timers: set[asyncio.TimerHandle] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def link(self, token: str) -> str:
        """The rating page for one question."""
        return f"{self.public_url}/csat/{token}"

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: a resolution plans a question; a rating by reply gets a thank-you."""
        if not isinstance(event, ConversationChanged):
            return
        if event.change in csat_store.ASK_AFTER and event.status == "resolved":
            if self.settings.csat_enabled:
                await self.arm(event.conversation_id)
        elif event.change == "rated":
            await self.thank(event.conversation_id)

    async def arm(self, conversation_id: int) -> bool:
        """Plan the question KEFU_CSAT_DELAY_SECONDS from now; False if the conversation does not qualify."""
        now = self.clock()
        due = now + timedelta(seconds=self.settings.csat_delay_s)
        token = secrets.token_urlsafe(24)
        armed = await self.db.run_write(lambda conn: csat_store.arm_tx(conn, conversation_id, token, due, now))
        if armed:
            if self.settings.csat_delay_s <= 0:
                self._wake.set()
            else:
                self._wake_later(self.settings.csat_delay_s)
        return bool(armed)

    def _wake_later(self, delay_s: float) -> None:
        # The sweeper would find the question on its next pass anyway; this makes it prompt.
        def fire() -> None:
            self._timers.discard(timer)
            self._wake.set()

        timer = asyncio.get_running_loop().call_later(delay_s, fire)
        self._timers.add(timer)

    async def sweep_once(self) -> int:
        """Send every question that is due; returns how many were sent."""
        now = self.clock()
        window = timedelta(hours=self.settings.csat_answer_hours)
        skip_locked = not self.db.is_sqlite
        claimed = await self.db.run_write(
            lambda conn: csat_store.claim_due_tx(conn, now, SWEEP_BATCH, window, skip_locked)
        )
        for item in claimed:
            try:
                await self._ask(item)
            except Exception:
                log.exception("could not send the CSAT question for conversation %s", item.conversation_id)
        return len(claimed)

    async def _ask(self, item: csat_store.Claimed) -> None:
        channel = self.channels.get(item.channel)
        capabilities = channel.capabilities if channel is not None else Capabilities()
        asked = question(
            item.language,
            self.settings.csat_questions[item.language],
            buttons=capabilities.buttons,
            html_links=capabilities.html,
            link=self.link(item.token),
        )
        message_id = await self.actions.post_reply(
            item.conversation_id,
            SYSTEM,
            asked.text,
            buttons=asked.buttons,
            html=asked.html,
            automated=True,
            meta={"csat": {"request_id": item.request_id}},
        )
        await self.db.run_write(lambda conn: csat_store.asked_tx(conn, item.request_id, message_id))

    async def thank(self, conversation_id: int) -> None:
        """Thank a customer who rated by reply (once per question); invite a comment if they gave none."""
        now = self.clock()
        request = await self.db.run_write(lambda conn: csat_store.claim_thanks_tx(conn, conversation_id, now))
        if request is None:
            return
        invite = None if request.comment else self.link(request.token)
        text = thanks(request.language or "en", comment_link=invite)
        await self.actions.post_reply(
            conversation_id, SYSTEM, text, automated=True, meta={"csat": {"request_id": request.id, "thanks": True}}
        )

    async def rate_by_page(self, token: str, rating: Rating) -> csat_store.Rated:
        """Record a rating sent from the rating page, then tell subscribers."""
        now = self.clock()
        rated = await self.db.run_write(lambda conn: csat_store.rate_page_tx(conn, token, rating, now))
        await self.bus.publish(
            ConversationChanged(rated.conversation_id, rated.customer_id, rated.status, rated.assignee_id, "rated")
        )
        return rated

    async def _sweep_forever(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.sweep_once()
            except Exception:
                log.exception("CSAT sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.csat_sweep_s)

    async def start(self) -> None:
        """Start sending due questions (also those planned by a process that stopped)."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="csat-sweeper")

    async def stop(self) -> None:
        """Stop the sweeper and the wake-up timers."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
