"""Fetch the media an inbound Twilio message points at (MediaUrlN) into Attachment.data, before delivery."""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any, Protocol

from yarl import URL

from channels.base import Attachment, InboundMessage

log = logging.getLogger(__name__)


class MediaTooLarge(Exception):
    """The media is bigger than the channel keeps; `size` is what Twilio said or what was read."""

    def __init__(self, size: int) -> None:
        super().__init__(f"larger than the limit ({size} bytes or more)")
        self.size = size


class MediaFetchError(Exception):
    """Twilio (or the storage it redirected to) would not give the media; the message says why."""


class MediaDownloader(Protocol):
    """What fetches one URL's bytes (TwilioHttpClient.download)."""

    async def download(
        self, url: str, *, auth: tuple[str, str] | None, max_bytes: int, timeout: float
    ) -> bytes: ...


def sends_credentials(url: str) -> bool:
    """Twilio's own https hosts get the account's credentials; a URL anywhere else never does."""
    parsed = URL(url)
    host = (parsed.host or "").lower()
    return parsed.scheme == "https" and (host == "twilio.com" or host.endswith(".twilio.com"))


async def fetch_media(
    downloader: MediaDownloader,
    message: InboundMessage,
    *,
    auth: tuple[str, str],
    max_bytes: int,
    timeout: float,
) -> InboundMessage:
    """`message` with the media's bytes; media that are too big or fail keep their URL and say why.

    All media of one message are fetched together within `timeout`, so Twilio's webhook (which gives
    up after 15 s) is answered in time; the message is delivered whatever happens to its media.
    """
    if not message.attachments:
        return message
    if max_bytes <= 0:
        noted = [{"url": a.url, "status": "not_fetched"} for a in message.attachments]
        return replace(message, metadata={**message.metadata, "media": noted})
    outcomes = await asyncio.gather(
        *(_fetch_one(downloader, a, auth=auth, max_bytes=max_bytes, timeout=timeout) for a in message.attachments)
    )
    attachments = tuple(attachment for attachment, _ in outcomes)
    noted = [note for _, note in outcomes]
    return replace(message, attachments=attachments, metadata={**message.metadata, "media": noted})


async def _fetch_one(
    downloader: MediaDownloader, attachment: Attachment, *, auth: tuple[str, str], max_bytes: int, timeout: float
) -> tuple[Attachment, dict[str, Any]]:
    url = attachment.url or ""
    note: dict[str, Any] = {"url": url}
    try:
        data = await downloader.download(
            url, auth=auth if sends_credentials(url) else None, max_bytes=max_bytes, timeout=timeout
        )
    except MediaTooLarge as exc:
        return replace(attachment, size=exc.size), {**note, "status": "too_large"}
    except (MediaFetchError, TimeoutError) as exc:
        reason = str(exc) or "timed out"
        # The URL stays on the attachment and in metadata, so someone can still fetch it by hand.
        log.warning("twilio: could not fetch %s: %s", attachment.filename, reason)
        return attachment, {**note, "status": "failed", "error": reason}
    # Fetched: the bytes are kept by the hub; the Twilio URL (which needs our credentials) is only noted.
    return replace(attachment, data=data, size=len(data), url=None), {**note, "status": "fetched"}


_MEDIA_PATH = re.compile(r"/Messages/(MM[0-9a-fA-F]{32})/Media/(ME[0-9a-fA-F]{32})$")


def fetched_media_sids(message: InboundMessage) -> list[tuple[str, str]]:
    """(message SID, media SID) of every media item the hub now keeps, the only ones safe to delete at Twilio."""
    sids = []
    for note in message.metadata.get("media") or ():
        found = _MEDIA_PATH.search(str(note.get("url") or "").split("?", 1)[0])
        if note.get("status") == "fetched" and found:
            sids.append((found.group(1), found.group(2)))
    return sids
