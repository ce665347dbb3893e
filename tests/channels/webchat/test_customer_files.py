"""A customer sends a photo from the web chat: it is stored once as their message, shown in their open
tabs with a link only they (and the agent) have, and seen by the agent; bad uploads get a clear 4xx."""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from channels.webchat.protocol import sign_identity
from hub.config import Settings
from tests.channels.webchat.test_webchat_story import open_chat, say
from tests.support import add_agent, next_frame, no_frame

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200  # starts like a PNG, as the upload check demands


@pytest.fixture(autouse=True)
def small_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files up to 16 KiB for these stories (read when the hub starts)."""
    monkeypatch.setenv("KEFU_ATTACHMENT_MAX_BYTES", str(16 * 1024))


def _form(file: tuple[str, bytes, str] | None = None, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)  # as a browser sends FormData
    for name, value in fields.items():
        form.add_field(name, value)
    if file is not None:
        name, data, kind = file
        form.add_field("file", data, filename=name, content_type=kind)
    return form


async def _upload(hub: TestClient, form: aiohttp.FormData, **headers: str) -> tuple[int, dict[str, Any], Any]:
    resp = await hub.post("/webchat/upload", data=form, headers=headers)
    return resp.status, await resp.json(), resp.headers


async def test_a_customer_sends_a_photo_and_the_agent_and_their_open_chat_see_it(
    hub: TestClient, login_as: Any
) -> None:
    await add_agent(hub, "mei@example.com")
    agent = await login_as("mei@example.com")
    tab, welcome = await open_chat(hub)
    token = welcome["token"]
    first = await say(tab, "c-1", "My parcel arrived broken")

    status, ack, headers = await _upload(
        hub,
        _form(("破损照片.png", PNG, "image/png"), token=token, client_id="c-2", text="this is how it looks"),
        Origin="https://shop.example.com",
    )

    assert status == 200, ack
    assert headers["Access-Control-Allow-Origin"] == "*"  # the widget's page may read the answer
    assert (ack["conversation_id"], ack["seq"], ack["duplicate"]) == (first["conversation_id"], 2, False)
    shown = ack["message"]
    assert shown["text"] == "this is how it looks" and shown["author"] == "customer"
    [photo] = shown["attachments"]
    assert (photo["filename"], photo["content_type"], photo["size"]) == ("破损照片.png", "image/png", len(PNG))
    assert photo["url"].startswith("/files/")

    pushed = await next_frame(tab, "message")  # the open tab shows it without a reload
    assert pushed["id"] == ack["message_id"] and pushed["attachments"] == shown["attachments"]
    fetched = await hub.get(photo["url"])
    assert fetched.status == 200 and await fetched.read() == PNG

    status, detail = await agent.get(f"/api/conversations/{ack['conversation_id']}")
    [stored] = [m for m in detail["messages"] if m["id"] == ack["message_id"]]
    assert [a["filename"] for a in stored["attachments"]] == ["破损照片.png"]

    # The widget retries after a network error: the same client_id is stored once.
    status, again, _ = await _upload(hub, _form(("破损照片.png", PNG, "image/png"), token=token, client_id="c-2"))
    assert status == 200 and again["duplicate"] is True and again["message_id"] == ack["message_id"]
    await no_frame(tab, "message")

    # A reload shows the photo in the history, with its link.
    await tab.close()
    reloaded, welcome = await open_chat(hub, token=token)
    assert [m["attachments"][0]["url"] for m in welcome["messages"] if m["attachments"]] == [photo["url"]]
    await reloaded.close()


async def test_a_signed_in_customer_sends_a_file_under_their_identity(
    hub: TestClient, settings: Settings
) -> None:
    user_hash = sign_identity(settings.webchat_identity_secret, "user-42")
    tab, _ = await open_chat(hub, identity={"user_id": "user-42", "user_hash": user_hash})

    pdf = ("invoice.pdf", b"%PDF-1.4 ...", "application/pdf")
    form = _form(pdf, user_id="user-42", user_hash=user_hash, client_id="f-1")
    status, ack, _ = await _upload(hub, form)

    assert status == 200, ack
    pushed = await next_frame(tab, "message")
    assert pushed["attachments"][0]["filename"] == "invoice.pdf"
    forged = _form(pdf, user_id="user-42", user_hash="0" * 64, client_id="f-2")
    status, body, _ = await _upload(hub, forged)
    assert (status, body["error"]) == (400, "identity_rejected")
    await tab.close()


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        (lambda t: _form(("a.png", PNG, "image/png"), token=t), 400, "invalid_client_id"),
        (lambda t: _form(("a.png", PNG, "image/png"), client_id="x-1"), 400, "missing_visitor"),
        (lambda t: _form(("a.png", PNG, "image/png"), token="short", client_id="x-1"), 400, "invalid_token"),
        (lambda t: _form(token=t, client_id="x-1"), 400, "missing_file"),
        (lambda t: _form(("run.exe", b"MZ\x90\x00", "application/x-msdownload"), token=t, client_id="x-1"), 415,
         "unsupported_file_type"),
        (lambda t: _form(("fake.png", b"<script>", "image/png"), token=t, client_id="x-1"), 415, "file_type_mismatch"),
        (lambda t: _form(("big.png", PNG + b"\x00" * 20_000, "image/png"), token=t, client_id="x-1"), 413,
         "file_too_large"),
        (lambda t: _form(("a.png", PNG, "image/png"), token=t, client_id="x-1", colour="red"), 400, "unknown_field"),
    ],
    ids=["no-client-id", "no-visitor", "bad-token", "no-file", "exe", "renamed-script", "too-big", "odd-field"],
)
async def test_a_bad_upload_gets_a_clear_error_and_stores_nothing(
    hub: TestClient, login_as: Any, form: Any, status: int, error: str
) -> None:
    tab, welcome = await open_chat(hub)
    got, body, headers = await _upload(hub, form(welcome["token"]))

    assert (got, body["error"]) == (status, error), body
    assert body["message"] and headers["Access-Control-Allow-Origin"] == "*"
    await no_frame(tab, "message")
    await add_agent(hub, "lu@example.com")
    agent = await login_as("lu@example.com")
    _, inbox = await agent.get("/api/conversations?view=all")
    assert inbox["conversations"] == []
    await tab.close()


async def test_not_a_form_is_refused(hub: TestClient) -> None:
    resp = await hub.post("/webchat/upload", json={"file": "aGVsbG8="})
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_form"


async def test_a_flood_of_files_is_turned_away_before_it_is_read(
    aiohttp_client: Any, settings: Settings
) -> None:
    from hub.app import create_app

    hub = await aiohttp_client(create_app(dataclasses.replace(settings, webchat_uploads_per_minute=2)))
    tab, welcome = await open_chat(hub)
    token = welcome["token"]
    for n in (1, 2):
        status, ack, _ = await _upload(hub, _form((f"{n}.png", PNG, "image/png"), token=token, client_id=f"f-{n}"))
        assert status == 200, ack

    status, body, headers = await _upload(hub, _form(("3.png", PNG, "image/png"), token=token, client_id="f-3"))

    assert (status, body["error"]) == (429, "too_many_uploads")
    assert 1 <= int(headers["Retry-After"]) <= 60 and headers["Access-Control-Allow-Origin"] == "*"
    assert "try again in" in body["message"]
    # Typing still works, and only the two files were stored.
    await say(tab, "t-1", "sorry, that was a lot of photos")
    reloaded, welcome = await open_chat(hub, token=token)
    assert [len(m["attachments"]) for m in welcome["messages"]] == [1, 1, 0]
    await reloaded.close()
    await tab.close()
