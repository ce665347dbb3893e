"""Fetch the files an inbound message refers to (getFile, then the file URL) into Attachment.data."""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from channels.base import Attachment, InboundMessage
from channels.telegram.redact import redact

log = logging.getLogger(__name__)


async def fetch_attachments(
    bot: Bot, message: InboundMessage, *, max_bytes: int, timeout: float
) -> InboundMessage:
    """`message` with bytes filled in; files that are too big or fail keep data=None and say why."""
    refs: list[dict[str, Any]] = list(message.metadata.get("files") or ())
    if not refs:
        return message
    attachments: list[Attachment] = []
    noted: list[dict[str, Any]] = []
    for attachment, ref in zip(message.attachments, refs, strict=True):
        status, fetched = await _fetch(bot, attachment, ref["file_id"], max_bytes, timeout)
        attachments.append(fetched)
        noted.append({**ref, **status})
    return replace(message, attachments=tuple(attachments), metadata={**message.metadata, "files": noted})


async def _fetch(
    bot: Bot, attachment: Attachment, file_id: str, max_bytes: int, timeout: float
) -> tuple[dict[str, str], Attachment]:
    if attachment.size > max_bytes:
        return {"status": "too_large"}, attachment
    try:
        file = await bot.get_file(file_id, read_timeout=timeout)
        if file.file_size is not None and file.file_size > max_bytes:
            return {"status": "too_large"}, replace(attachment, size=file.file_size)
        data = bytes(await file.download_as_bytearray(read_timeout=timeout))
    except TelegramError as exc:
        # The message still reaches the hub; the file_id stays in metadata for a later fetch.
        reason = redact(exc.message, bot.token)
        log.warning("telegram: could not fetch %s: %s", attachment.filename, reason)
        return {"status": "failed", "error": reason}, attachment
    if len(data) > max_bytes:
        return {"status": "too_large"}, replace(attachment, size=len(data))
    return {"status": "fetched"}, replace(attachment, data=data, size=len(data))
