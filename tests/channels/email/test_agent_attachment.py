"""An agent attaches a file in the console; the customer's email reply carries it as a MIME part."""

from __future__ import annotations

import email
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from hub.keys import QUERIES
from tests.channels.email.conftest import SinkServer, envelope_text
from tests.channels.email.test_hub_roundtrip import (  # noqa: F401  (mail_hub is a fixture)
    conversation_with,
    customer_mail,
    mail_hub,
    send_to_kefu,
    until_true,
)
from tests.support import add_agent, login

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


async def test_a_file_from_the_console_is_attached_to_the_email(
    mail_hub: TestClient,  # noqa: F811
    smtp_sink: SinkServer,
) -> None:
    await send_to_kefu(mail_hub, customer_mail("发票", "请把发票发给我"))
    conv = await until_true(lambda: conversation_with(mail_hub.app[QUERIES], "发票发给我"))
    await add_agent(mail_hub, "mei@example.com")
    mei = await login(mail_hub, "mei@example.com")
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("text", "发票在附件里。")
    data.add_field("file", PDF, filename="发票-1042.pdf", content_type="application/pdf")
    resp = await mei.client.post(
        f"/api/conversations/{conv['id']}/messages", data=data, headers={"X-CSRF-Token": mei.csrf}
    )
    assert resp.status == 201, await resp.text()

    async def received() -> Any:
        return smtp_sink.received[0] if smtp_sink.received else None

    mail = email.message_from_bytes(envelope_text(await until_true(received)), policy=email.policy.default)
    parts = [p for p in mail.iter_attachments()]  # type: ignore[attr-defined]
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [("发票-1042.pdf", "application/pdf")]
    assert parts[0].get_content() == PDF
    assert "发票在附件里。" in mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[attr-defined]
    await mei.client.close()
