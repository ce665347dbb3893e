"""TelegramChannel: the Channel protocol over python-telegram-bot's Bot, by webhook or long polling."""
from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar

from aiohttp import web
from telegram import Bot, Message, Update
from telegram.constants import ChatAction
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from channels.base import (
    Capabilities,
    DeliveryStatus,
    HubPort,
    OutboundMessage,
    SendResult,
)
from channels.telegram.compose import (
    MAX_TEXT,
    FilePart,
    Part,
    TextPart,
    UnsendableMessage,
    plan,
)
from channels.telegram.config import ConfigError, TelegramConfig
from channels.telegram.download import fetch_attachments
from channels.telegram.errors import classify
from channels.telegram.parse import (
    ALLOWED_UPDATES,
    inbound_from_update,
    message_external_id,
)
from channels.telegram.polling import Poller
from channels.telegram.redact import protect, redact
from channels.telegram.webhook import webhook_handler

log = logging.getLogger(__name__)

# Multi-part sends remembered for a retry in this process, so parts Telegram took are not resent.
_PROGRESS_LIMIT = 1024


class TelegramChannel:
    """A Telegram bot as a Kefu channel: inbound by webhook or getUpdates, outbound by the Bot API."""

    kind: ClassVar[str] = "telegram"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=True, attachments=True, html=False, typing=True, max_text_length=MAX_TEXT
    )
    webhook_path: ClassVar[str] = "/channels/telegram/webhook"

    def __init__(
        self, config: TelegramConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._clock = clock
        protect(config.token)  # before Bot(), which logs its token-bearing URLs
        self._bot = Bot(
            config.token,
            base_url=config.api_url,
            base_file_url=config.file_url,
            request=HTTPXRequest(
                connection_pool_size=8,
                read_timeout=config.request_timeout,
                write_timeout=config.request_timeout,
                connect_timeout=config.request_timeout,
                pool_timeout=config.request_timeout,
            ),
            # A separate connection for the long poll, so it never waits behind sends (PTB adds
            # the poll timeout to this read timeout itself).
            get_updates_request=HTTPXRequest(
                connection_pool_size=1,
                read_timeout=config.request_timeout,
                connect_timeout=config.request_timeout,
            ),
        )
        self._hub: HubPort | None = None
        self._poller: Poller | None = None
        self._flood_until: dict[str, float] = {}
        self._progress: OrderedDict[int, tuple[int, str | None]] = OrderedDict()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramChannel:
        """A channel configured from KEFU_TELEGRAM_* variables."""
        return cls(TelegramConfig.from_env(os.environ if environ is None else environ))

    def __repr__(self) -> str:
        # PTB's Bot repr shows the token; ours must not.
        return f"TelegramChannel(mode={self.config.mode!r}, api_url={self.config.api_url!r})"

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """The webhook route in webhook mode, nothing when polling."""
        if self.config.mode != "webhook":
            return []
        assert self.config.webhook_secret  # TelegramConfig refuses webhook mode without one
        return [web.post(self.webhook_path, webhook_handler(self.config.webhook_secret, self._receive))]

    async def start(self, hub: HubPort) -> None:
        """Connect to the Bot API and start polling (or register the webhook when a URL is set)."""
        self._hub = hub
        try:
            await self._bot.initialize()
        except InvalidToken:
            await self._bot.shutdown()
            self._hub = None
            # `from None`: PTB's message quotes the token.
            raise ConfigError("the Bot API rejected KEFU_TELEGRAM_TOKEN") from None
        except TelegramError as exc:
            # Telegram unreachable at boot is not fatal: sends and polling retry on their own.
            log.warning("telegram: getMe failed at start (%s)", self._redact(exc.message))
        if self.config.mode == "polling":
            self._poller = Poller(
                self._bot,
                self._receive,
                timeout=self.config.poll_timeout,
                backoff_initial=self.config.backoff_initial,
                backoff_max=self.config.backoff_max,
            )
            self._poller.start()
        elif self.config.webhook_url:
            await self._register_webhook()

    async def stop(self) -> None:
        """Stop polling, close the HTTP clients (mirrors start)."""
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        await self._bot.shutdown()
        self._hub = None

    @property
    def offset(self) -> int | None:
        """The next update id the poller asks for (None before the first update or in webhook mode)."""
        return self._poller.offset if self._poller is not None else None

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send text (split at 4096), files and an inline keyboard; provider errors become results."""
        chat = message.recipient
        remaining = self._flood_until.get(chat, 0.0) - self._clock()
        if remaining > 0:
            # Telegram asked us to hold off this chat; calling now would only extend the ban.
            return _failed(f"Too Many Requests: retry after {remaining:.0f}s", retryable=True, retry_after=remaining)
        try:
            parts = plan(message)
        except UnsendableMessage as exc:
            return _failed(exc.reason, retryable=False)
        done, last_id = self._progress.pop(message.message_id, (0, None))
        for index in range(done, len(parts)):
            try:
                sent = await self._send_part(_chat_id(chat), parts[index])
            except TelegramError as exc:
                failure = classify(exc)
                if failure.retry_after:
                    self._hold_off(chat, failure.retry_after)
                if failure.retryable and index > 0:
                    self._remember(message.message_id, index, last_id)
                return _failed(self._redact(failure.error), retryable=failure.retryable,
                               retry_after=failure.retry_after)
            last_id = message_external_id(sent.chat_id, sent.message_id)
        self._flood_until.pop(chat, None)
        # The last part carries the keyboard, so a button tap's reply_to matches this id.
        return SendResult(status=DeliveryStatus.SENT, external_id=last_id)

    async def send_typing(self, chat_id: str | int, active: bool = True) -> bool:
        """Show "typing…" in the chat for about 5 s; False if Telegram refused."""
        if not active:
            # Telegram has no "stopped typing": the indicator lapses by itself or on the next message.
            return True
        try:
            return bool(await self._bot.send_chat_action(_chat_id(str(chat_id)), ChatAction.TYPING))
        except TelegramError as exc:
            log.debug("telegram: sendChatAction failed: %s", self._redact(exc.message))
            return False

    async def _receive(self, update: Update) -> None:
        """Parse, fetch files, deliver; acknowledge a button tap once the hub has it."""
        hub = self._hub
        if hub is None:
            raise RuntimeError("telegram channel received an update before start()")
        try:
            inbound = inbound_from_update(update)
        except Exception:
            # Unreadable now means unreadable on every retry: skip it rather than stall the poll.
            log.exception("telegram: skipping update %s that could not be read", update.update_id)
            return
        if inbound is None:
            return
        inbound = await fetch_attachments(
            self._bot,
            inbound,
            max_bytes=self.config.max_download_bytes,
            timeout=self.config.download_timeout,
        )
        await hub.deliver(inbound)
        query_id = inbound.metadata.get("callback_query_id")
        if query_id:
            await self._answer_callback(str(query_id))

    async def _answer_callback(self, query_id: str) -> None:
        # Until answered, the customer's app shows a spinner on the button they tapped.
        try:
            await self._bot.answer_callback_query(query_id)
        except TelegramError as exc:
            log.debug("telegram: answerCallbackQuery failed: %s", self._redact(exc.message))

    async def _send_part(self, chat_id: int | str, part: Part) -> Message:
        if isinstance(part, TextPart):
            return await self._bot.send_message(chat_id, part.text, reply_markup=part.keyboard)
        assert isinstance(part, FilePart)
        attachment = part.attachment
        # plan() refuses attachments with neither, so url is set whenever data is not.
        content: bytes | str = attachment.data if attachment.data is not None else attachment.url or ""
        if part.method == "photo":
            return await self._bot.send_photo(
                chat_id, content, filename=attachment.filename, reply_markup=part.keyboard
            )
        return await self._bot.send_document(
            chat_id, content, filename=attachment.filename, reply_markup=part.keyboard
        )

    async def _register_webhook(self) -> None:
        try:
            await self._bot.set_webhook(
                url=self.config.webhook_url,  # type: ignore[arg-type]
                secret_token=self.config.webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
        except TelegramError as exc:
            log.error("telegram: setWebhook failed (%s)", self._redact(exc.message))

    def _hold_off(self, chat: str, seconds: float) -> None:
        now = self._clock()
        for other in [c for c, until in self._flood_until.items() if until <= now]:
            del self._flood_until[other]
        self._flood_until[chat] = now + seconds

    def _remember(self, message_id: int, done: int, last_id: str | None) -> None:
        self._progress[message_id] = (done, last_id)
        while len(self._progress) > _PROGRESS_LIMIT:
            self._progress.popitem(last=False)

    def _redact(self, text: str) -> str:
        return redact(text, self.config.token)


def _chat_id(recipient: str) -> int | str:
    """Numeric chat ids as int; '@channelname' stays a string."""
    return int(recipient) if recipient.lstrip("-").isdigit() else recipient


def _failed(error: str, *, retryable: bool, retry_after: float | None = None) -> SendResult:
    return SendResult(status=DeliveryStatus.FAILED, error=error, retryable=retryable, retry_after=retry_after)


def channels_from_env(env: Mapping[str, str] | None = None) -> list[TelegramChannel]:
    """The Telegram channel the environment configures (none when KEFU_TELEGRAM_TOKEN is unset)."""
    environ = os.environ if env is None else env
    if not environ.get("KEFU_TELEGRAM_TOKEN", "").strip():
        return []
    return [TelegramChannel.from_env(environ)]
