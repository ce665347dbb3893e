"""The webhook endpoint: check Telegram's secret header, read the Update, hand it on."""
from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import Update

from channels.telegram.parse import MalformedUpdate, read_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

Receive = Callable[[Update], Awaitable[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def secret_matches(expected: str, given: str | None) -> bool:
    """True when the header carries the configured secret (compared in constant time)."""
    if given is None:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def webhook_handler(secret: str, receive: Receive) -> Handler:
    """An aiohttp handler: 403 bad secret, 400 bad body, 500 hub failure (Telegram retries), else 200."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if not secret_matches(secret, request.headers.get(SECRET_HEADER)):
            return _answer(403, "missing or wrong secret token")
        body = await request.read()
        try:
            data = json.loads(body)
        except ValueError:
            return _answer(400, "body is not JSON")
        try:
            update = read_update(data)
        except MalformedUpdate as exc:
            return _answer(400, exc.reason)
        if update is None:
            return web.json_response({"ok": True, "ignored": True})
        try:
            await receive(update)
        except Exception:
            # A non-2xx makes Telegram deliver the update again; the hub dedupes by external_id.
            log.exception("telegram: update %s could not be handed to the hub", update.update_id)
            return _answer(500, "update not stored; Telegram will retry")
        return web.json_response({"ok": True})

    return handle


def _answer(status: int, error: str) -> web.Response:
    return web.json_response({"ok": False, "error": error}, status=status)
