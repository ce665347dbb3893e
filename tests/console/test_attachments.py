"""Agents send files from the composer: checked on upload, sent on the conversation's channel, fetched
by the customer through a signed link and by agents through their session."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from channels.base import Attachment, OutboundMessage
from hub.attachments import AttachmentStore
from hub.files import FileLinks, check_upload, prepare_outbound, signed
from tests.support import add_agent, next_frame


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KEFU_ATTACHMENT_MAX_BYTES", "4096")
    yield


def form(text: str | None, *files: tuple[str, bytes, str]) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    if text is not None:
        data.add_field("text", text)
    for name, body, kind in files:
        data.add_field("file", body, filename=name, content_type=kind)
    return data


async def send_form(agent: Any, conversation_id: int, data: Any, content_type: str | None = None) -> tuple[int, Any]:
    headers = {"X-CSRF-Token": agent.csrf, **({"Content-Type": content_type} if content_type else {})}
    resp = await agent.client.post(f"/api/conversations/{conversation_id}/messages", data=data, headers=headers)
    return resp.status, await resp.json()


async def open_chat(hub: TestClient) -> tuple[Any, int, str]:
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    token = str((await next_frame(ws, "welcome"))["token"])
    await ws.send_json({"type": "message", "client_id": "c-1", "text": "能发一下发票吗？"})
    ack = await next_frame(ws, "ack")
    return ws, int(ack["conversation_id"]), token


async def test_an_image_reaches_the_web_chat_and_both_sides_can_open_it(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    customer, conv, token = await open_chat(hub)
    picture = png()
    status, body = await send_form(mei, conv, form("这是您的发票截图", ("发票 1.png", picture, "image/png")))
    assert status == 201, body
    stored = body["message"]["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in stored] == [
        ("发票 1.png", "image/png", len(picture))
    ]
    assert stored[0]["source_url"].startswith("/files/")

    frame = await next_frame(customer, "message")
    assert frame["text"] == "这是您的发票截图"
    link = frame["attachments"][0]["url"]
    assert link == stored[0]["source_url"]
    # The customer has no session: the signed link alone opens the file.
    resp = await hub.get(link)
    assert resp.status == 200 and resp.content_type == "image/png" and await resp.read() == picture
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    tampered = link.replace("type=image%2Fpng", "type=text%2Fhtml")
    assert tampered != link and (await hub.get(tampered)).status == 404
    forged = link.split("?")[0][:-4] + "0000?" + link.split("?")[1]
    resp = await hub.get(forged)
    assert resp.status == 404 and (await resp.json())["error"] == "not_found"

    # Reloaded web chat: the stored history carries the link too.
    again = await hub.ws_connect("/webchat/ws")
    await again.send_json({"type": "hello", "token": token})
    welcome = await next_frame(again, "welcome")
    assert [a["url"] for m in welcome["messages"] for a in m["attachments"]] == [link]

    message_id = body["message"]["id"]
    resp = await mei.client.get(f"/api/messages/{message_id}/attachments/0")
    assert resp.status == 200 and await resp.read() == picture
    for path in (f"/api/messages/{message_id}/attachments/1", "/api/messages/999999/attachments/0"):
        resp = await mei.client.get(path)
        assert resp.status == 404, path
    resp = await hub.get(f"/api/messages/{message_id}/attachments/0")
    assert resp.status == 401
    await customer.close()
    await again.close()


async def test_bad_uploads_are_refused_with_json_errors(hub: TestClient, login_as: Any) -> None:
    await add_agent(hub, "mei@example.com")
    mei = await login_as("mei@example.com")
    customer, conv, _ = await open_chat(hub)
    cases = [
        (form("x", ("run.exe", b"MZ\x90\x00", "application/x-msdownload")), 415, "unsupported_file_type"),
        (form("x", ("page.html", b"<script>alert(1)</script>", "text/html")), 415, "unsupported_file_type"),
        (form("x", ("fake.png", b"<svg onload=alert(1)>", "image/png")), 415, "file_type_mismatch"),
        (form("x", ("notes.txt", b"\xff\xfe\x00bad", "text/plain")), 415, "file_type_mismatch"),
        (form("x", ("big.png", png() + b"\x00" * 5000, "image/png")), 413, "file_too_large"),
        (form("x", ("empty.pdf", b"", "application/pdf")), 400, "empty_file"),
        (form("x", *[(f"{i}.txt", b"hi", "text/plain") for i in range(6)]), 400, "too_many_files"),
        (form(""), 400, "empty_reply"),
        (form(None), 400, "empty_reply"),
    ]
    for data, status_code, code in cases:
        status, body = await send_form(mei, conv, data)
        assert (status, body["error"]) == (status_code, code), body
    extra = form("x")
    extra.add_field("colour", "red")
    status, body = await send_form(mei, conv, extra)
    assert (status, body["error"]) == (400, "unknown_field")
    status, body = await send_form(mei, conv, b"--nope", "multipart/form-data")
    assert (status, body["error"]) == (400, "bad_form")
    status, body = await send_form(mei, 999999, form("x", ("a.txt", b"hi", "text/plain")))
    assert status == 404
    resp = await mei.client.post(f"/api/conversations/{conv}/messages", data=form("x", ("a.txt", b"hi", "text/plain")))
    assert resp.status == 403 and (await resp.json())["error"] == "csrf_failed"
    # A browser's octet-stream for a known ending is judged by the ending (and the content).
    status, body = await send_form(mei, conv, form("", ("report.pdf", b"%PDF-1.4 tiny", "application/octet-stream")))
    assert status == 201 and body["message"]["attachments"][0]["content_type"] == "application/pdf"
    await customer.close()


async def test_outbound_preparation_per_channel(tmp_path: Path) -> None:
    store = AttachmentStore(tmp_path / "attachments")
    links = FileLinks.load_sync(tmp_path)
    again = FileLinks.load_sync(tmp_path)
    assert again.path("a" * 64, "image/png", "x.png") == links.path("a" * 64, "image/png", "x.png")
    picture = png()
    attachment = signed(check_upload("shot.png", "image/png", picture, 4096), links)
    meta = await store.store(attachment)
    message = OutboundMessage(
        message_id=1,
        conversation_id=1,
        channel="sms",
        recipient="+15550100",
        text="see picture",
        attachments=(Attachment(meta["filename"], meta["content_type"], meta["size"], url=meta["source_url"]),),
        metadata={"attachment_hashes": [meta["sha256"]]},
    )
    # Twilio needs a public URL (KEFU_PUBLIC_URL); without one the link is dropped and the adapter says why.
    public = await prepare_outbound(message, store, "https://kefu.example.com/", relative_ok=False)
    assert public.attachments[0].url == "https://kefu.example.com" + meta["source_url"]
    assert public.attachments[0].data == picture
    private = await prepare_outbound(message, store, "", relative_ok=False)
    assert private.attachments[0].url is None and private.attachments[0].data == picture
    webchat = await prepare_outbound(message, store, "", relative_ok=True)
    assert webchat.attachments[0].url == meta["source_url"]
