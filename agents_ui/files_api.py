"""Files in the console: agents upload with a reply (multipart), open any stored attachment, and the
signed `/files/...` links customers and providers fetch."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from sqlalchemy import select

from agents_ui.security import public, requires
from channels.base import Attachment
from hub.attachments import AttachmentStore
from hub.domain import DomainError, NotFound
from hub.files import INLINE, MAX_FILES, check_upload, file_links, max_bytes_from_env, read_part_limited, signed
from hub.http import path_int
from hub.keys import ACTIONS, DATABASE, SETTINGS
from hub.storage.tables import Message

routes = web.RouteTableDef()
messages = Message.__table__

MAX_BYTES: web.AppKey[int] = web.AppKey("kefu.attachment_max_bytes", int)
_SAFETY = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
}


async def read_reply_form(request: web.Request, max_text: int) -> tuple[str, list[Attachment]]:
    """A multipart reply: one `text` field and up to MAX_FILES `file` parts, each checked."""
    max_bytes = request.app[MAX_BYTES]
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError) as exc:
        raise DomainError(f"the form cannot be read: {exc}", code="bad_form") from exc
    text = ""
    files: list[Attachment] = []
    links = await file_links(request.app[SETTINGS].data_dir)
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise DomainError("nested multipart bodies are not accepted", code="bad_form")
        if part.name == "text":
            raw = await read_part_limited(part, max_text * 4 + 1)
            if len(raw) > max_text * 4:
                raise DomainError(f"'text' is longer than {max_text} characters", code="too_long")
            text = raw.decode("utf-8", errors="replace")
        elif part.name == "file":
            if len(files) >= MAX_FILES:
                raise DomainError(f"at most {MAX_FILES} files per reply", code="too_many_files")
            data = await read_part_limited(part, max_bytes + 1)
            # Browsers send the name as UTF-8 with " as %22; aiohttp's client percent-encodes it all.
            name = unquote(part.filename or "")
            checked = check_upload(name, part.headers.get("Content-Type", ""), data, max_bytes)
            files.append(signed(checked, links))
        else:
            raise DomainError(f"unknown form field {part.name!r}; send text and file", code="unknown_field")
    return text, files


def _file_response(data: bytes, content_type: str, name: str) -> web.Response:
    disposition = "inline" if content_type in INLINE else "attachment"
    safe = name.replace('"', "")
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            **_SAFETY,
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(safe, safe='')}",
            "Cache-Control": "private, max-age=86400",
        },
    )


async def _load(store: AttachmentStore, sha256: str) -> bytes:
    try:
        data = await store.load(sha256)
    except ValueError as exc:
        raise NotFound("no such file") from exc
    if data is None:
        raise NotFound("the file is no longer stored")
    return data


@routes.get("/files/{sha256}/{sig}")
@public
async def signed_file(request: web.Request) -> web.StreamResponse:
    """A file behind a signed link (the customer's web chat, Twilio's MediaUrl fetch)."""
    sha256, sig = request.match_info["sha256"], request.match_info["sig"]
    name, kind = request.query.get("name", ""), request.query.get("type", "")
    links = await file_links(request.app[SETTINGS].data_dir)
    if not name or not kind or not links.check(sha256, sig, kind, name):
        raise NotFound("no such file")
    return _file_response(await _load(request.app[ACTIONS].attachments, sha256), kind, name)


@routes.get("/api/messages/{id}/attachments/{index}")
@requires()
async def message_attachment(request: web.Request) -> web.StreamResponse:
    """An attachment of any stored message (customer's or agent's), for the console."""
    message_id, index = path_int(request, "id"), path_int(request, "index")
    async with request.app[DATABASE].read() as conn:
        found: Any = (await conn.execute(select(messages.c.attachments).where(messages.c.id == message_id))).scalar()
    if found is None or not 0 <= index < len(found):
        raise NotFound("no such attachment")
    meta = found[index]
    if not meta.get("sha256"):
        raise NotFound("this attachment's bytes were not kept (only its name)", code="not_stored")
    return _file_response(
        await _load(request.app[ACTIONS].attachments, meta["sha256"]),
        str(meta.get("content_type") or "application/octet-stream"),
        str(meta.get("filename") or "attachment"),
    )


def install_files(app: web.Application) -> None:
    """Add the file routes and the upload limit (KEFU_ATTACHMENT_MAX_BYTES)."""
    app[MAX_BYTES] = max_bytes_from_env()
    app.router.add_routes(routes)
