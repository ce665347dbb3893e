"""An agent's files from the console reach a Telegram customer: a picture as a photo, a PDF as a document."""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp

from tests.channels.telegram.conftest import fixture
from tests.channels.telegram.test_hub_roundtrip import ADA, RunningHub, running_hub  # noqa: F401 (fixture)
from tests.console.test_attachments import png
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.support import add_agent, login

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def test_files_go_as_photo_and_document(running_hub: RunningHub, api: FakeTelegramAPI) -> None:  # noqa: F811
    assert await running_hub.post_update(fixture("text")) == 200
    conversation = await running_hub.conversation_of(ADA)
    hub = SimpleNamespace(server=running_hub.server, app=running_hub.server.app)
    await add_agent(hub, "mei@example.com")  # type: ignore[arg-type]
    mei = await login(hub, "mei@example.com")  # type: ignore[arg-type]
    picture = png(32, 32)
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("text", "Here is the label and the invoice.")
    form.add_field("file", picture, filename="label.png", content_type="image/png")
    form.add_field("file", PDF, filename="invoice.pdf", content_type="application/pdf")
    resp = await mei.client.post(
        f"/api/conversations/{conversation}/messages", data=form, headers={"X-CSRF-Token": mei.csrf}
    )
    assert resp.status == 201, await resp.text()
    await running_hub.wait_for_status((await resp.json())["message"]["id"], "sent")

    assert [c.method for c in api.calls if c.method.startswith("send")] == ["sendMessage", "sendPhoto", "sendDocument"]
    [photo] = api.calls_to("sendPhoto")
    assert photo.uploads["photo"].data == picture
    [document] = api.calls_to("sendDocument")
    assert (document.uploads["document"].filename, document.uploads["document"].data) == ("invoice.pdf", PDF)
    await mei.client.close()
