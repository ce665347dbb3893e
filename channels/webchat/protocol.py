"""The web chat wire protocol, pure: parse client frames, build server frames, check identities."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hub.wire import loads

CLIENT_ID = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")
TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,128}$")


class FrameError(Exception):
    """A client frame Kefu will not accept; becomes an error frame, the socket stays open."""

    def __init__(
        self, code: str, message: str, client_id: str | None = None, *, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id
        self.retry_after = retry_after

    def frame(self) -> dict[str, Any]:
        """The error frame sent back."""
        data: dict[str, Any] = {"type": "error", "code": self.code, "message": self.message}
        if self.client_id:
            data["client_id"] = self.client_id
        if self.retry_after is not None:
            data["retry_after"] = self.retry_after
        return data


@dataclass(frozen=True, slots=True)
class Identity:
    """A signed statement from the customer's site that this visitor is a known user."""

    user_id: str
    user_hash: str
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Hello:
    """The first frame: who the visitor is and what they saw last."""

    token: str | None
    cursor: tuple[int, int] | None
    identity: Identity | None


@dataclass(frozen=True, slots=True)
class SendText:
    """A customer message with its client-generated id."""

    client_id: str
    text: str


@dataclass(frozen=True, slots=True)
class TypingFrame:
    """The customer started or stopped typing."""

    active: bool


@dataclass(frozen=True, slots=True)
class Ping:
    """Keep-alive."""


ClientFrame = Hello | SendText | TypingFrame | Ping


@dataclass(frozen=True, slots=True)
class UploadFields:
    """The form fields that come with a customer's file: who sends it, its message id, a caption."""

    client_id: str
    text: str
    token: str | None
    identity: Identity | None


UPLOAD_FIELDS = frozenset({"client_id", "text", "token", "user_id", "user_hash", "email", "name"})


def parse_frame(raw: str, *, max_text: int) -> ClientFrame:
    """Parse one client text frame or raise FrameError with a reason."""
    try:
        data = loads(raw)
    except ValueError as exc:
        raise FrameError("bad_json", "frames must be JSON") from exc
    if not isinstance(data, dict):
        raise FrameError("bad_json", "frames must be JSON objects")
    kind = data.get("type")
    if kind == "hello":
        return _hello(data)
    if kind == "message":
        return _message(data, max_text)
    if kind == "typing":
        return TypingFrame(active=bool(data.get("active", True)))
    if kind == "ping":
        return Ping()
    raise FrameError("unknown_type", f"unknown frame type {kind!r}")


def _hello(data: dict[str, Any]) -> Hello:
    token = data.get("token")
    if token is not None and (not isinstance(token, str) or not TOKEN.match(token)):
        raise FrameError("invalid_token", "token must be the string Kefu gave you")
    cursor = None
    raw_cursor = data.get("cursor")
    if raw_cursor is not None:
        if (
            not isinstance(raw_cursor, dict)
            or not isinstance(raw_cursor.get("conversation_id"), int)
            or not isinstance(raw_cursor.get("seq"), int)
        ):
            raise FrameError("invalid_cursor", "cursor must be {conversation_id: int, seq: int}")
        cursor = (raw_cursor["conversation_id"], raw_cursor["seq"])
    identity = None
    raw_identity = data.get("identity")
    if raw_identity is not None:
        identity = _identity(raw_identity)
    return Hello(token=token, cursor=cursor, identity=identity)


def _identity(raw: Any) -> Identity:
    if not isinstance(raw, dict):
        raise FrameError("invalid_identity", "identity must be an object")
    user_id, user_hash = raw.get("user_id"), raw.get("user_hash")
    if not isinstance(user_id, str) or not user_id or len(user_id) > 200:
        raise FrameError("invalid_identity", "identity.user_id must be a non-empty string")
    if not isinstance(user_hash, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", user_hash):
        raise FrameError("invalid_identity", "identity.user_hash must be a hex HMAC-SHA256")
    email, name = raw.get("email"), raw.get("name")
    if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 320):
        raise FrameError("invalid_identity", "identity.email must be an email address")
    if name is not None and (not isinstance(name, str) or len(name) > 200):
        raise FrameError("invalid_identity", "identity.name must be a string")
    return Identity(user_id, user_hash.lower(), email.strip().lower() if email else None, name)


def _message(data: dict[str, Any], max_text: int) -> SendText:
    client_id = data.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise FrameError("invalid_client_id", "client_id must be 1-64 letters, digits, - _ : .")
    text = data.get("text")
    if not isinstance(text, str):
        raise FrameError("invalid_text", "text must be a string", client_id)
    text = text.strip()
    if not text:
        raise FrameError("empty_text", "text is empty", client_id)
    if len(text) > max_text:
        raise FrameError("text_too_long", f"text is longer than {max_text} characters", client_id)
    return SendText(client_id=client_id, text=text)


def parse_upload_fields(fields: dict[str, str], *, max_text: int) -> UploadFields:
    """Check a file upload's form fields as the hello and message frames are checked; raise FrameError."""
    unknown = set(fields) - UPLOAD_FIELDS
    if unknown:
        raise FrameError("unknown_field", f"unknown form fields: {', '.join(sorted(unknown))}")
    client_id = fields.get("client_id")
    if client_id is None or not CLIENT_ID.match(client_id):
        raise FrameError("invalid_client_id", "client_id must be 1-64 letters, digits, - _ : .")
    text = fields.get("text", "").strip()
    if len(text) > max_text:
        raise FrameError("text_too_long", f"text is longer than {max_text} characters", client_id)
    identity_fields = {k: fields[k] for k in ("user_id", "user_hash", "email", "name") if k in fields}
    hello = _hello({"token": fields.get("token"), "identity": identity_fields or None})
    if hello.token is None and hello.identity is None:
        raise FrameError("missing_visitor", "send the token Kefu gave the widget, or a signed identity", client_id)
    return UploadFields(client_id, text, hello.token, hello.identity)


def identity_payload(user_id: str, email: str | None) -> bytes:
    """What the customer's server signs: the user id, and the email when one is given."""
    return (user_id if email is None else f"{user_id}|{email}").encode()


def sign_identity(secret: str, user_id: str, email: str | None = None) -> str:
    """The user_hash a customer's server computes (documented in docs/webchat-protocol.md)."""
    return hmac.new(secret.encode(), identity_payload(user_id, email), hashlib.sha256).hexdigest()


def verify_identity(secret: str, identity: Identity) -> bool:
    """True when the identity's hash was made with the shared secret."""
    expected = sign_identity(secret, identity.user_id, identity.email)
    return hmac.compare_digest(expected, identity.user_hash)


def visitor_address(token: str) -> str:
    """The identity address for an anonymous visitor: a hash, so the database never holds tokens."""
    return "v:" + hashlib.sha256(token.encode()).hexdigest()


def user_address(user_id: str) -> str:
    """The identity address for a verified user, the same on every device."""
    return "u:" + hashlib.sha256(user_id.encode()).hexdigest()


def customer_view(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the customer's widget sees it (no agent ids, no notes)."""
    return {
        "type": "message",
        "id": message["id"],
        "conversation_id": message["conversation_id"],
        "seq": message["seq"],
        "author": message["author"],
        "text": message["text"],
        "buttons": message.get("buttons", []),
        "attachments": [
            {
                "filename": a.get("filename"),
                "content_type": a.get("content_type"),
                "size": a.get("size"),
                # Only Kefu's own signed links (an agent's file); never a provider's URL.
                "url": _file_link(a.get("url") or a.get("source_url")),
            }
            for a in message.get("attachments", [])
        ],
        "created_at": message["created_at"],
        "client_id": (message.get("meta") or {}).get("client_id"),
    }


def ack_frame(
    client_id: str, message_id: int, conversation_id: int, seq: int | None, duplicate: bool
) -> dict[str, Any]:
    """The answer to a customer message once it is stored (committed)."""
    return {
        "type": "ack",
        "client_id": client_id,
        "message_id": message_id,
        "conversation_id": conversation_id,
        "seq": seq,
        "duplicate": duplicate,
    }


def _file_link(url: str | None) -> str | None:
    if not isinstance(url, str) or not urlsplit(url).path.startswith("/files/"):
        return None
    return url
