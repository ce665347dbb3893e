"""Turn a Telegram Update into an InboundMessage: pure, no I/O, no Bot needed."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)

from channels.base import Attachment, InboundMessage

KIND = "telegram"
# The update kinds Kefu reads; asking Telegram for only these keeps the others off the wire.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")

_MEDIA_KINDS = ("animation", "document", "audio", "voice", "video", "video_note")
_DEFAULT_NAMES: dict[str, tuple[str, str]] = {
    "photo": ("photo.jpg", "image/jpeg"),
    "animation": ("animation.mp4", "video/mp4"),
    "document": ("document", "application/octet-stream"),
    "audio": ("audio.mp3", "audio/mpeg"),
    "voice": ("voice.ogg", "audio/ogg"),
    "video": ("video.mp4", "video/mp4"),
    "video_note": ("video_note.mp4", "video/mp4"),
}
_PHONE_NOISE = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9]\d{5,14}$")

Json = Mapping[str, Any]


class MalformedUpdate(ValueError):
    """The payload is not a Telegram Update Kefu can read; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_update(data: object) -> InboundMessage | None:
    """A webhook body (decoded JSON) as an InboundMessage, or None for updates Kefu ignores."""
    update = read_update(data)
    return None if update is None else inbound_from_update(update)


def read_update(data: object) -> Update | None:
    """Check the fields Kefu relies on, then let PTB build the typed Update (None if irrelevant)."""
    if not isinstance(data, Mapping):
        raise MalformedUpdate("an update must be a JSON object")
    _int(data, "update_id", "update")
    present = {key: data[key] for key in ALLOWED_UPDATES if data.get(key) is not None}
    if not present:
        return None
    for key, value in present.items():
        if key == "callback_query":
            _check_callback_query(value, key)
        else:
            _check_message(value, key)
    try:
        # Only the kinds we read go to PTB, so odd fields in ignored kinds never fail a request.
        return Update.de_json({"update_id": data["update_id"], **present}, None)
    except Exception as exc:  # PTB raises whatever the constructor hits; all mean "not an Update"
        raise MalformedUpdate(f"not a Telegram update: {exc}") from exc


def inbound_from_update(update: Update) -> InboundMessage | None:
    """The customer's message in a typed Update, or None when it carries nothing to store."""
    if update.callback_query is not None:
        return _from_callback(update.update_id, update.callback_query)
    if update.message is not None:
        return _from_message(update.update_id, update.message, edited=False)
    if update.edited_message is not None:
        return _from_message(update.update_id, update.edited_message, edited=True)
    return None


def message_external_id(chat_id: int | str, message_id: int) -> str:
    """The id a Telegram message has in Kefu: unique per chat, stable across redeliveries."""
    return f"{chat_id}:{message_id}"


def normalize_phone(raw: str) -> str | None:
    """A shared contact's phone as E.164 ('+8613800138000'), or None if it is not one."""
    compact = _PHONE_NOISE.sub("", raw)
    if compact.isdigit():
        # Telegram gives the user's own number without the plus sign.
        compact = "+" + compact
    return compact if _E164.match(compact) else None


def _from_message(update_id: int, message: Message, *, edited: bool) -> InboundMessage | None:
    chat = message.chat
    user = message.from_user
    attachments, files = _media(message)
    text = message.text or message.caption or ""
    metadata: dict[str, Any] = {
        "update_id": update_id,
        "chat_id": chat.id,
        "chat_type": str(chat.type),
        "message_id": message.message_id,
        **_user_metadata(user),
    }
    verified: tuple[tuple[str, str], ...] = ()
    if files:
        metadata["files"] = files
    if message.contact is not None:
        contact = message.contact
        phone = normalize_phone(contact.phone_number)
        metadata["contact"] = {
            "phone_number": contact.phone_number,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "user_id": contact.user_id,
        }
        metadata["phone_number"] = phone or contact.phone_number
        # Telegram fills user_id when the contact is a Telegram user; equal to the sender's id
        # means the customer shared their own number, which Telegram itself has verified.
        if phone and user is not None and contact.user_id == user.id:
            verified = (("phone", phone),)
        name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        text = text or f"{name} {metadata['phone_number']}".strip()
    if message.location is not None:
        lat, lon = message.location.latitude, message.location.longitude
        metadata["location"] = {"latitude": lat, "longitude": lon}
        text = text or f"📍 {lat:.6f}, {lon:.6f}"
    if message.sticker is not None:
        metadata["sticker"] = True
        text = text or (message.sticker.emoji or "")
    if not text and not attachments:
        # Service messages (joins, pins, title changes) and kinds Kefu does not show.
        return None
    if message.reply_to_message is not None:
        metadata["reply_to"] = message_external_id(chat.id, message.reply_to_message.message_id)
    external_id = message_external_id(chat.id, message.message_id)
    received_at = message.date
    if edited:
        metadata["edited"] = True
        stamp = int(message.edit_date.timestamp()) if message.edit_date else update_id
        # Same chat and message id as the original, so the edit needs its own suffix to be stored.
        external_id = f"{external_id}:edited:{stamp}"
        received_at = message.edit_date or message.date
    return InboundMessage(
        channel=KIND,
        external_id=external_id,
        sender=str(chat.id),
        sender_name=_display_name(user) or chat.effective_name,
        text=text,
        attachments=attachments,
        received_at=received_at,
        automated=bool(user and user.is_bot),
        verified_addresses=verified,
        metadata=metadata,
    )


def _from_callback(update_id: int, query: CallbackQuery) -> InboundMessage | None:
    if query.data is None:
        # Game buttons carry a game short name, not a payload a conversation can use.
        return None
    user = query.from_user
    metadata: dict[str, Any] = {
        "update_id": update_id,
        "button": True,
        "callback_query_id": query.id,
        **_user_metadata(user),
    }
    chat_id: int = user.id
    if query.message is not None:
        chat_id = query.message.chat.id
        metadata["chat_id"] = chat_id
        metadata["chat_type"] = str(query.message.chat.type)
        metadata["message_id"] = query.message.message_id
        metadata["reply_to"] = message_external_id(chat_id, query.message.message_id)
        title = _button_title(query)
        if title is not None:
            metadata["button_title"] = title
    return InboundMessage(
        channel=KIND,
        external_id=f"cb:{query.id}",
        sender=str(chat_id),
        sender_name=_display_name(user),
        text=query.data,
        automated=user.is_bot,
        metadata=metadata,
    )


def _media(message: Message) -> tuple[tuple[Attachment, ...], list[dict[str, str]]]:
    """Attachments without bytes (the adapter fetches them) and the file ids to fetch them by."""
    found: list[tuple[str, Any]] = []
    if message.photo:
        found.append(("photo", max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))))
    for kind in _MEDIA_KINDS:
        item = getattr(message, kind)
        if item is not None:
            found.append((kind, item))
    if message.animation is not None:
        # Telegram repeats an animation as a document for old clients; keep one copy.
        found = [(k, i) for k, i in found if k != "document"]
    attachments: list[Attachment] = []
    files: list[dict[str, str]] = []
    for kind, item in found:
        attachments.append(_attachment(kind, item))
        files.append({"kind": kind, "file_id": item.file_id, "file_unique_id": item.file_unique_id})
    return tuple(attachments), files


def _attachment(kind: str, item: Any) -> Attachment:
    default_name, default_type = _DEFAULT_NAMES[kind]
    stem, dot, ext = default_name.partition(".")
    filename = getattr(item, "file_name", None) or f"{stem}_{item.file_unique_id}{dot}{ext}"
    content_type = getattr(item, "mime_type", None) or default_type
    return Attachment(filename=filename, content_type=content_type, size=item.file_size or 0)


def _button_title(query: CallbackQuery) -> str | None:
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    if not isinstance(markup, InlineKeyboardMarkup):
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


def _user_metadata(user: User | None) -> dict[str, Any]:
    if user is None:
        return {}
    meta: dict[str, Any] = {"user_id": user.id}
    if user.username:
        meta["username"] = user.username
    if user.language_code:
        meta["language_code"] = user.language_code
    return meta


def _display_name(user: User | None) -> str | None:
    if user is None:
        return None
    full = " ".join(p for p in (user.first_name, user.last_name) if p)
    return full or (f"@{user.username}" if user.username else None)


# --- shape checks: Telegram's documented field types, so a forged body fails with a reason ---


def _check_message(value: object, path: str) -> None:
    msg = _obj(value, path)
    _int(msg, "message_id", path)
    _int(msg, "date", path)
    _int(msg, "edit_date", path, required=False)
    chat = _obj(msg.get("chat"), f"{path}.chat")
    _int(chat, "id", f"{path}.chat")
    _str(chat, "type", f"{path}.chat")
    for key in ("text", "caption"):
        _str(msg, key, path, required=False)
    if msg.get("from") is not None:
        _check_user(msg["from"], f"{path}.from")
    if msg.get("photo") is not None:
        photos = msg["photo"]
        if not isinstance(photos, list) or not photos:
            raise MalformedUpdate(f"{path}.photo must be a non-empty array of PhotoSize")
        for i, size in enumerate(photos):
            where = f"{path}.photo[{i}]"
            _check_file(size, where)
            _int(_obj(size, where), "width", where)
            _int(_obj(size, where), "height", where)
    for kind in _MEDIA_KINDS:
        if msg.get(kind) is not None:
            where = f"{path}.{kind}"
            _check_file(msg[kind], where)
            _str(msg[kind], "file_name", where, required=False)
            _str(msg[kind], "mime_type", where, required=False)
    if msg.get("contact") is not None:
        contact = _obj(msg["contact"], f"{path}.contact")
        _str(contact, "phone_number", f"{path}.contact")
        _str(contact, "first_name", f"{path}.contact")
        _str(contact, "last_name", f"{path}.contact", required=False)
        _int(contact, "user_id", f"{path}.contact", required=False)
    if msg.get("location") is not None:
        location = _obj(msg["location"], f"{path}.location")
        for key in ("latitude", "longitude"):
            if not _is_number(location.get(key)):
                raise MalformedUpdate(f"{path}.location.{key} must be a number")
    if msg.get("sticker") is not None:
        _check_file(msg["sticker"], f"{path}.sticker")
        _str(msg["sticker"], "emoji", f"{path}.sticker", required=False)
    if msg.get("reply_to_message") is not None:
        _int(_obj(msg["reply_to_message"], f"{path}.reply_to_message"), "message_id",
             f"{path}.reply_to_message")


def _check_callback_query(value: object, path: str) -> None:
    query = _obj(value, path)
    _str(query, "id", path)
    _str(query, "chat_instance", path)
    _str(query, "data", path, required=False)
    _check_user(query.get("from"), f"{path}.from")
    if query.get("message") is not None:
        where = f"{path}.message"
        message = _obj(query["message"], where)
        _int(message, "message_id", where)
        _int(message, "date", where)
        _int(_obj(message.get("chat"), f"{where}.chat"), "id", f"{where}.chat")
        _str(message["chat"], "type", f"{where}.chat")


def _check_user(value: object, path: str) -> None:
    user = _obj(value, path)
    _int(user, "id", path)
    _str(user, "first_name", path)
    _str(user, "last_name", path, required=False)
    _str(user, "username", path, required=False)
    if not isinstance(user.get("is_bot", False), bool):
        raise MalformedUpdate(f"{path}.is_bot must be a boolean")


def _check_file(value: object, path: str) -> None:
    item = _obj(value, path)
    _str(item, "file_id", path)
    _str(item, "file_unique_id", path)
    _int(item, "file_size", path, required=False)


def _obj(value: object, path: str) -> Json:
    if not isinstance(value, Mapping):
        raise MalformedUpdate(f"{path} must be an object")
    return value


def _int(obj: Json, key: str, path: str, *, required: bool = True) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedUpdate(_wrong(path, key, value, "an integer"))


def _str(obj: Json, key: str, path: str, *, required: bool = True) -> None:
    value = obj.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise MalformedUpdate(_wrong(path, key, value, "a string"))


def _wrong(path: str, key: str, value: object, expected: str) -> str:
    return f"{path}.{key} is missing" if value is None else f"{path}.{key} must be {expected}"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
