"""Plan the Bot API calls one OutboundMessage needs: text chunks, files, and where the keyboard goes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.base import Attachment, Button, OutboundMessage
from channels.render import numbered_options

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
# sendPhoto takes these up to 10 MB; anything else goes as a document so it arrives unaltered.
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
MAX_PHOTO_BYTES = 10 * 1024 * 1024

# Places to break a long text, best first; CJK text has no spaces, so its punctuation counts too.
_BREAKS = ("\n\n", "\n", "。", "！", "？", "；", ". ", "! ", "? ", "，", "、", " ")


class UnsendableMessage(ValueError):
    """The message cannot be expressed as Bot API calls; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TextPart:
    """One sendMessage call."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class FilePart:
    """One sendPhoto or sendDocument call."""

    method: Literal["photo", "document"]
    attachment: Attachment
    keyboard: InlineKeyboardMarkup | None = None


Part = TextPart | FilePart


def plan(message: OutboundMessage) -> list[Part]:
    """The calls that deliver `message`, in order; the keyboard rides on the last one."""
    text = message.text
    keyboard = keyboard_for(message.buttons)
    if message.buttons and keyboard is None:
        # A payload Telegram cannot carry: offer the choices as numbered text, as simpler
        # channels do, so the hub's numbered-reply resolution still works.
        options = numbered_options(message.buttons)
        text = f"{text}\n{options}" if text.strip() else options
    parts: list[Part] = [TextPart(chunk) for chunk in split_text(text) if chunk.strip()]
    for attachment in message.attachments:
        if attachment.data is None and not attachment.url:
            raise UnsendableMessage(f"attachment {attachment.filename!r} has neither bytes nor a URL")
        parts.append(FilePart(_file_method(attachment), attachment))
    if not parts:
        raise UnsendableMessage("nothing to send: no text and no attachments")
    if keyboard is not None:
        last = parts[-1]
        parts[-1] = (
            TextPart(last.text, keyboard)
            if isinstance(last, TextPart)
            else FilePart(last.method, last.attachment, keyboard)
        )
    return parts


def keyboard_for(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button per row (long titles stay readable on phones); None if a payload is too long."""
    if not buttons:
        return None
    if any(not 1 <= len(b.payload.encode("utf-8")) <= MAX_CALLBACK_DATA for b in buttons):
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text=b.title, callback_data=b.payload)] for b in buttons]
    )


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji count double."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most `limit` UTF-16 units that join back to `text`, broken at natural places."""
    if limit < 2:
        raise ValueError("limit must leave room for one character outside the BMP (2 units)")
    chunks: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: _fit(rest, limit)]
        cut = _break_point(window)
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        chunks.append(rest)
    return chunks


def _fit(text: str, limit: int) -> int:
    """How many code points of `text` fit in `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def _break_point(window: str) -> int:
    """Index just after the best separator in the second half of `window`, else its end."""
    floor = len(window) // 2
    for separator in _BREAKS:
        at = window.rfind(separator)
        if at >= floor:
            return at + len(separator)
    return len(window)


def _file_method(attachment: Attachment) -> Literal["photo", "document"]:
    size = len(attachment.data) if attachment.data is not None else attachment.size
    if attachment.content_type.lower() in PHOTO_TYPES and size <= MAX_PHOTO_BYTES:
        return "photo"
    return "document"
