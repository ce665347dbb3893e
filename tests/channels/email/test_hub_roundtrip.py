"""The whole trip through a running hub: mail comes in over SMTP, an agent answers, the reply threads."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
import pytest
from aiohttp.test_utils import TestClient

from channels.email.adapter import EmailChannel
from channels.email.config import EmailConfig, SmtpSettings
from hub.actions import SYSTEM, Actions
from hub.config import Settings
from hub.keys import ACTIONS, CHANNELS, QUERIES
from hub.queries import Queries
from tests.channels.email.conftest import SinkServer, envelope_text, free_port

SUPPORT = "support@kefu.test"


async def until_true(check: Any, timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.03)


@pytest.fixture
async def mail_hub(aiohttp_client: Any, settings: Settings, smtp_sink: SinkServer) -> AsyncIterator[TestClient]:
    from hub.app import create_app

    config = EmailConfig(
        from_address=SUPPORT,
        domain="kefu.test",
        smtp=SmtpSettings(host=smtp_sink.host, port=smtp_sink.port, timeout=5),
        listen=("127.0.0.1", free_port()),
    )
    yield await aiohttp_client(create_app(settings, extra_channels=[EmailChannel(config)]))


def customer_mail(subject: str, body: str, *, in_reply_to: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Wei Zhang <wei@example.cn>"
    msg["To"] = SUPPORT
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.cn")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body, charset="gbk")
    return msg


async def send_to_kefu(hub: TestClient, msg: EmailMessage) -> None:
    channel = hub.app[CHANNELS]["email"]
    host, port = channel.listen_address
    await aiosmtplib.send(msg, hostname=host, port=port, timeout=10)


async def conversation_with(queries: Queries, text: str) -> dict[str, Any] | None:
    customer = await queries.visitor_customer("email", "wei@example.cn")
    if customer is None:
        return None
    record = await queries.customer(customer)
    for conv in record["conversations"]:
        for message in await queries.messages(conv["id"]):
            if text in message["text"]:
                return conv
    return None


async def test_mail_threads_both_ways_through_the_hub(mail_hub: TestClient, smtp_sink: SinkServer) -> None:
    queries: Queries = mail_hub.app[QUERIES]
    actions: Actions = mail_hub.app[ACTIONS]
    first = customer_mail("订单 1042 还没收到", "你好，我的订单一周了还没到。")
    await send_to_kefu(mail_hub, first)
    conv = await until_true(lambda: conversation_with(queries, "一周了还没到"))
    assert conv["subject"] == "订单 1042 还没收到"

    reply_id = await actions.post_reply(conv["id"], SYSTEM, "您好，包裹明天送达。")
    await until_true(lambda: _received(smtp_sink, 1))
    # Kefu threads the customer's answer by the Message-ID it recorded when the relay took the reply.
    await until_true(lambda: _status(queries, reply_id, "sent"))
    reply = email.message_from_bytes(envelope_text(smtp_sink.received[0]))
    assert reply["In-Reply-To"].strip("<>") == first["Message-ID"].strip("<>")
    assert f"[#{conv['id']}]" in str(email.header.make_header(email.header.decode_header(reply["Subject"])))
    kefu_id = reply["Message-ID"]

    await send_to_kefu(mail_hub, customer_mail("Re: 订单", "谢谢！", in_reply_to=kefu_id))
    threaded = await until_true(lambda: conversation_with(queries, "谢谢！"))
    assert threaded["id"] == conv["id"]

    # A client that drops In-Reply-To still threads by the [#n] tag in the subject.
    await send_to_kefu(mail_hub, customer_mail(f"Re: 订单 [#{conv['id']}]", "还有一个问题"))
    tagged = await until_true(lambda: conversation_with(queries, "还有一个问题"))
    assert tagged["id"] == conv["id"]

    # A new subject from the same customer is a new conversation.
    await send_to_kefu(mail_hub, customer_mail("发票", "请开发票"))
    invoice = await until_true(lambda: conversation_with(queries, "请开发票"))
    assert invoice["id"] != conv["id"]


async def test_a_refusing_smtp_relay_delays_the_reply_until_it_recovers(
    mail_hub: TestClient, smtp_sink: SinkServer
) -> None:
    queries: Queries = mail_hub.app[QUERIES]
    await send_to_kefu(mail_hub, customer_mail("Question", "Can I pay by invoice?"))
    conv = await until_true(lambda: conversation_with(queries, "pay by invoice"))
    smtp_sink.data_replies.extend(["451 4.3.0 try again later", "451 4.3.0 try again later"])
    message_id = await mail_hub.app[ACTIONS].post_reply(conv["id"], SYSTEM, "Yes, invoices are fine.")
    await until_true(lambda: _received(smtp_sink, 1))
    stored = await until_true(lambda: _status(queries, message_id, "sent"))
    assert stored["delivery_error"] is None
    assert len(smtp_sink.received) == 1


async def _received(sink: SinkServer, n: int) -> bool:
    return len(sink.received) >= n


async def _status(queries: Queries, message_id: int, wanted: str) -> dict[str, Any] | None:
    message = await queries.message(message_id)
    return message if message and message["delivery_status"] == wanted else None
