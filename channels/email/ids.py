"""Message-IDs without their angle brackets, conversation tags in subjects, and stable synthetic ids."""
from __future__ import annotations

import hashlib
import re
from email.message import Message

_ANGLED = re.compile(r"<([^<>\s]+)>")
_TAG = re.compile(r"\[#(\d{1,12})\]")
# Trace headers differ between copies of one message (listener vs IMAP, retries), so the hash skips them.
_TRACE = frozenset(
    {"received", "return-path", "delivered-to", "x-original-to", "x-received", "arc-seal",
     "arc-message-signature", "arc-authentication-results", "authentication-results", "received-spf",
     "x-spam-status", "x-spam-score", "x-spam-flag", "x-virus-scanned", "status", "x-uid", "x-keywords"}
)
SYNTHETIC_DOMAIN = "synthetic.kefu.invalid"


def bare_message_id(value: str | None) -> str | None:
    """The first Message-ID in a header value without angle brackets ("<a@b>" -> "a@b"), or None."""
    if not value:
        return None
    match = _ANGLED.search(value)
    if match:
        return match.group(1)
    token = value.strip().split()
    return token[0].strip("<>") if token and "@" in token[0] else None


def message_id_list(value: str | None) -> tuple[str, ...]:
    """Every Message-ID in a References-style header, bare, in order, without repeats."""
    if not value:
        return ()
    seen: dict[str, None] = {}
    for found in _ANGLED.findall(value):
        seen.setdefault(found, None)
    return tuple(seen)


def angled(message_id: str) -> str:
    """A bare Message-ID put back in angle brackets for a header."""
    return f"<{message_id.strip().strip('<>')}>"


def conversation_tag(subject: str | None) -> int | None:
    """The conversation number from a subject tag like "[#123]", the last one when there are several."""
    if not subject:
        return None
    found = _TAG.findall(subject)
    return int(found[-1]) if found else None


def tag_subject(subject: str, conversation: int) -> str:
    """The subject with exactly one "[#n]" tag for this conversation at its end."""
    cleaned = _TAG.sub("", subject).strip()
    cleaned = re.sub(r"\s{2,}", " ", cleaned)
    return f"{cleaned} [#{conversation}]".strip()


def synthetic_message_id(message: Message, raw: bytes) -> str:
    """A stable id for mail without a Message-ID: a hash of its non-trace headers and its body."""
    digest = hashlib.sha256()
    for name, value in message.items():
        if name.lower() in _TRACE:
            continue
        digest.update(name.lower().encode("ascii", "replace"))
        digest.update(b":")
        digest.update(str(value).encode("utf-8", "surrogateescape").strip())
        digest.update(b"\n")
    body = _body_bytes(raw)
    digest.update(body)
    return f"{digest.hexdigest()[:40]}@{SYNTHETIC_DOMAIN}"


def raw_hash_id(raw: bytes) -> str:
    """A stable id for bytes that could not be parsed as mail at all."""
    return f"{hashlib.sha256(raw).hexdigest()[:40]}@{SYNTHETIC_DOMAIN}"


def _body_bytes(raw: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            return body.replace(b"\r\n", b"\n")
    return raw.replace(b"\r\n", b"\n")
