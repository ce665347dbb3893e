"""Long polling: getUpdates in a loop, confirming each update only after it was handled."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram import Bot, Update
from telegram.error import Conflict, RetryAfter, TelegramError

from channels.telegram.errors import classify
from channels.telegram.parse import ALLOWED_UPDATES
from channels.telegram.redact import redact

log = logging.getLogger(__name__)

T = TypeVar("T")
Handle = Callable[[Update], Awaitable[None]]

# How long stop() waits for an update that is being handled before cancelling it.
STOP_GRACE = 10.0


class Poller:
    """Runs the getUpdates loop as one task; `offset` is the next update id it wants."""

    def __init__(
        self,
        bot: Bot,
        handle: Handle,
        *,
        timeout: int,
        backoff_initial: float,
        backoff_max: float,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._timeout = timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.offset: int | None = None

    def start(self) -> None:
        """Begin polling in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="telegram-getUpdates")

    async def stop(self) -> None:
        """Interrupt a waiting long poll, let an update being handled finish, then return."""
        self._stopping.set()
        if self._task is None:
            return
        task, self._task = self._task, None
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_GRACE)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        delay = self._backoff_initial
        webhook_cleared = False
        while not self._stopping.is_set():
            try:
                if not webhook_cleared:
                    # getUpdates answers 409 while a webhook is set; polling mode means no webhook.
                    await self._bot.delete_webhook()
                    webhook_cleared = True
                updates = await self._unless_stopping(
                    self._bot.get_updates(
                        offset=self.offset, timeout=self._timeout, allowed_updates=ALLOWED_UPDATES
                    )
                )
                if updates is None:
                    break
                for update in updates:
                    await self._handle(update)
                    # Only now is the update confirmed: the next getUpdates carries this offset.
                    self.offset = update.update_id + 1
                delay = self._backoff_initial
                continue
            except RetryAfter as exc:
                wait = classify(exc).retry_after or delay
                log.warning("telegram: flood control on getUpdates, waiting %.0fs", wait)
            except Conflict as exc:
                wait, delay = delay, min(delay * 2, self._backoff_max)
                log.error(
                    "telegram: getUpdates conflict (%s); is another process polling this bot?",
                    redact(exc.message, self._bot.token),
                )
            except TelegramError as exc:
                wait, delay = delay, min(delay * 2, self._backoff_max)
                log.warning(
                    "telegram: getUpdates failed (%s); retrying in %.1fs",
                    redact(exc.message, self._bot.token),
                    wait,
                )
            except Exception:
                # The hub could not take an update: keep it unconfirmed so Telegram serves it again.
                wait, delay = delay, min(delay * 2, self._backoff_max)
                log.exception("telegram: handling update failed; retrying in %.1fs", wait)
            await self._sleep(wait)
        await self._confirm()

    async def _unless_stopping(self, call: Coroutine[Any, Any, T]) -> T | None:
        """The call's result, or None if stop() came first (the call is then cancelled)."""
        fetch = asyncio.ensure_future(call)
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if fetch.done():
            return fetch.result()
        fetch.cancel()
        await asyncio.gather(fetch, return_exceptions=True)
        return None

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _confirm(self) -> None:
        """Tell Telegram what was handled, so a restart does not replay the last batch."""
        if self.offset is None:
            return
        # Best effort: if this fails the next start replays the batch and the hub dedupes it.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self._bot.get_updates(offset=self.offset, limit=1, timeout=0), 2.0
            )
