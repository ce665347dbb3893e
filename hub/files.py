"""Files agents send: upload checks (size, count, type by name and by content), signed links, outbox preparation.

The bytes live in the AttachmentStore (content-addressed, on disk under the data dir). A reply's stored
attachment keeps, as its `source_url`, a signed path `/files/<sha256>/<sig>?name=…&type=…`: whoever has
the link (the customer's web chat, Twilio fetching a MediaUrl) may fetch those bytes and nothing else.
The signing key is a file beside the attachments, so every hub process sharing the data dir agrees.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import BodyPartReader

from channels.base import Attachment, OutboundMessage
from hub.attachments import AttachmentStore, safe_filename
from hub.domain import DomainError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
LINK_PREFIX = "/files/"

# What agents may send, by content type, with the file-name endings that go with it.
ALLOWED: dict[str, tuple[str, ...]] = {
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
    "text/plain": (".txt", ".log"),
    "text/csv": (".csv",),
    "application/zip": (".zip",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
}
# Content must start like its type says (a script renamed to .png is refused).
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (b"PK\x03\x04",),
}
INLINE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def max_bytes_from_env(env: Mapping[str, str] | None = None) -> int:
    """KEFU_ATTACHMENT_MAX_BYTES: the largest file an agent may send (1 KiB to 50 MiB; default 10 MiB)."""
    raw = (os.environ if env is None else env).get("KEFU_ATTACHMENT_MAX_BYTES")
    if not raw:
        return DEFAULT_MAX_BYTES
    value = int(raw)
    if not 1024 <= value <= 50 * 1024 * 1024:
        raise ValueError("KEFU_ATTACHMENT_MAX_BYTES must be between 1024 and 52428800")
    return value


def check_upload(filename: str, content_type: str, data: bytes, max_bytes: int) -> Attachment:
    """An Attachment for an agent's file, or a 4xx DomainError saying what is wrong with it."""
    name = safe_filename(filename or "")
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("", "application/octet-stream"):
        # Browsers send octet-stream for endings they do not know: go by the ending then.
        kind = next((t for t, endings in ALLOWED.items() if name.lower().endswith(endings)), kind)
    if kind not in ALLOWED:
        raise DomainError(
            f"{name}: files of type {kind or 'unknown'} cannot be sent (images, PDF, text, CSV, ZIP and Office files)",
            code="unsupported_file_type",
            status=415,
        )
    if not name.lower().endswith(ALLOWED[kind]):
        name = f"{name}{ALLOWED[kind][0]}"
    if not data:
        raise DomainError(f"{name} is empty", code="empty_file")
    if len(data) > max_bytes:
        raise DomainError(f"{name} is larger than {max_bytes} bytes", code="file_too_large", status=413)
    magic = _MAGIC.get(kind)
    if magic is not None and not data.startswith(magic):
        raise DomainError(f"{name} is not really {kind}", code="file_type_mismatch", status=415)
    if kind.startswith("text/"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DomainError(f"{name} is not UTF-8 text", code="file_type_mismatch", status=415) from exc
    return Attachment(name, kind, len(data), data=data)


async def read_part_limited(part: BodyPartReader, limit: int) -> bytes:
    """A multipart part's bytes, reading no more than `limit` (so a huge upload is refused, not buffered)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await part.read_chunk(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]


class FileLinks:
    """Signs and checks `/files/...` links with a key kept in the data dir."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def load_sync(cls, data_dir: Path) -> FileLinks:
        """Read the key, creating it once (several processes starting together agree on one)."""
        path = data_dir / "attachments" / "links.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(secrets.token_bytes(32))
        key = path.read_bytes()
        if len(key) < 32:
            raise RuntimeError(f"{path} is truncated; delete it to make a new one (old links stop working)")
        return cls(key)

    def _sig(self, sha256: str, content_type: str, name: str) -> str:
        msg = f"{sha256}\n{content_type}\n{name}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()[:32]

    def path(self, sha256: str, content_type: str, name: str) -> str:
        """The signed path for stored bytes (relative to Kefu's own address)."""
        query = urlencode({"name": name, "type": content_type}, quote_via=quote)
        return f"{LINK_PREFIX}{sha256}/{self._sig(sha256, content_type, name)}?{query}"

    def check(self, sha256: str, sig: str, content_type: str, name: str) -> bool:
        """True when the link was signed here."""
        return hmac.compare_digest(self._sig(sha256, content_type, name), sig)


_LINKS: dict[Path, FileLinks] = {}


async def file_links(data_dir: Path) -> FileLinks:
    """The process's FileLinks for a data dir (the key is read once, off the event loop)."""
    found = _LINKS.get(data_dir)
    if found is None:
        found = await asyncio.get_running_loop().run_in_executor(None, FileLinks.load_sync, data_dir)
        _LINKS[data_dir] = found
    return found


def signed(attachment: Attachment, links: FileLinks) -> Attachment:
    """The attachment with its signed link as `url` (kept by the store as the attachment's source_url)."""
    assert attachment.data is not None
    digest = hashlib.sha256(attachment.data).hexdigest()
    return replace(attachment, url=links.path(digest, attachment.content_type, attachment.filename))


def is_file_link(url: str | None) -> bool:
    """True for Kefu's own signed links."""
    return bool(url) and str(url).startswith(LINK_PREFIX)


async def prepare_outbound(
    message: OutboundMessage, store: AttachmentStore, public_url: str, *, relative_ok: bool
) -> OutboundMessage:
    """Give a reply's attachments what channels need: the bytes (email, Telegram) and a fetchable link.

    A signed link becomes absolute with KEFU_PUBLIC_URL; without one it stays relative where the
    channel resolves it against Kefu's address (web chat), and is dropped elsewhere (Twilio cannot
    fetch it, and the SMS adapter then says so).
    """
    if not message.attachments:
        return message
    hashes = list(message.metadata.get("attachment_hashes") or [])
    prepared = []
    for i, attachment in enumerate(message.attachments):
        digest = hashes[i] if i < len(hashes) else None
        if not digest or not is_file_link(attachment.url):
            prepared.append(attachment)
            continue
        data = await store.load(digest)
        url: str | None = attachment.url
        if public_url:
            url = public_url.rstrip("/") + str(attachment.url)
        elif not relative_ok:
            url = None
        prepared.append(replace(attachment, data=data, url=url))
    return replace(message, attachments=tuple(prepared))


def customer_file_acceptor(data_dir: Path, max_bytes: int) -> Callable[[str, str, bytes], Awaitable[Attachment]]:
    """What the web chat calls with a customer's file: the same checks as an agent's file (type by name
    and by content, size), and a signed link so the customer's own tabs can show it."""

    async def accept(filename: str, content_type: str, data: bytes) -> Attachment:
        checked = check_upload(filename, content_type, data, max_bytes)
        return signed(checked, await file_links(data_dir))

    return accept
