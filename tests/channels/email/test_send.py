"""Replies go out through the SMTP relay; what the relay says decides whether the outbox retries."""
from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import replace
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from channels.base import Attachment, Button, DeliveryStatus, OutboundMessage, ThreadHint
from channels.email.adapter import EmailChannel
from channels.email.compose import outbound_message_id
from channels.email.config import EmailConfig, Mailbox, SmtpSettings
from tests.channels.email.conftest import RecordingHub, SinkServer, envelope_text, free_port
from tests.fakes.dovecot import self_signed_certificate


def config_for(sink_port: int) -> EmailConfig:
    return EmailConfig(
        from_address="support@kefu.example",
        from_name="Kefu Support",
        smtp=SmtpSettings(host="127.0.0.1", port=sink_port, timeout=5),
        mailboxes=(Mailbox("support@kefu.example"), Mailbox("sales@kefu.example", name="Sales Team")),
    )


@pytest.fixture
async def channel(smtp_sink: SinkServer, hub: RecordingHub) -> AsyncIterator[EmailChannel]:
    email = EmailChannel(config_for(smtp_sink.port))
    await email.start(hub.port)
    yield email
    await email.stop()


def answer(**changes: object) -> OutboundMessage:
    fields: dict[str, object] = dict(
        message_id=1207, conversation_id=1207, channel="email", recipient="alice.chen@gmail.example",
        text="Thanks! A replacement kettle ships tomorrow.",
        thread=ThreadHint(subject="Your ticket about the blue kettle", message_id="CAB+abc123=XyZ@mail.gmail.example",
                          in_reply_to="CAB+abc123=XyZ@mail.gmail.example",
                          references=("CAB+first@mail.gmail.example", "kefu.1207.5012.0a0b0c@kefu.example"),
                          conversation_tag=1207),
    )
    fields.update(changes)
    return OutboundMessage(**fields)  # type: ignore[arg-type]


async def test_an_agents_reply_arrives_threaded_with_the_customers_mail(
    channel: EmailChannel, smtp_sink: SinkServer,
) -> None:
    result = await channel.send(answer())
    assert result.ok and result.status is DeliveryStatus.SENT
    assert result.external_id == outbound_message_id(answer(), "kefu.example")
    (envelope,) = smtp_sink.received
    assert envelope.mail_from == "support@kefu.example"
    assert envelope.rcpt_tos == ["alice.chen@gmail.example"]
    mail = message_from_bytes(envelope_text(envelope), policy=default)
    assert mail["Message-ID"] == f"<{result.external_id}>"
    assert mail["In-Reply-To"] == "<CAB+abc123=XyZ@mail.gmail.example>"
    assert mail["References"].split() == [
        "<CAB+first@mail.gmail.example>", "<kefu.1207.5012.0a0b0c@kefu.example>", "<CAB+abc123=XyZ@mail.gmail.example>",
    ]
    assert str(mail["Subject"]) == "Re: Your ticket about the blue kettle [#1207]"
    assert mail["X-Kefu-Message"] == "1207; conversation=1207"


async def test_a_reply_leaves_from_the_mailbox_the_customer_wrote_to(
    channel: EmailChannel, smtp_sink: SinkServer,
) -> None:
    assert (await channel.send(answer(metadata={"mailbox": "sales@kefu.example"}))).ok
    (envelope,) = smtp_sink.received
    assert envelope.mail_from == "sales@kefu.example"
    assert str(message_from_bytes(envelope_text(envelope), policy=default)["From"]) == "Sales Team <sales@kefu.example>"


async def test_buttons_become_numbered_text_and_files_are_attached(
    channel: EmailChannel, smtp_sink: SinkServer,
) -> None:
    message = answer(
        text="Which colour would you like?",
        buttons=(Button("Blue", "blue"), Button("Red", "red")),
        attachments=(Attachment("说明书.pdf", "application/pdf", 9, data=b"%PDF-1.4\n"),),
        html="<p>Which colour would you like?</p>",
    )
    assert (await channel.send(message)).ok
    mail = message_from_bytes(envelope_text(smtp_sink.received[0]), policy=default)
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None and "1. Blue\n2. Red" in plain.get_content().replace("\r\n", "\n")
    assert [p.get_filename() for p in mail.iter_attachments()] == ["说明书.pdf"]


async def test_a_relay_that_says_try_later_gets_a_retry_and_the_retry_is_sent(
    channel: EmailChannel, smtp_sink: SinkServer,
) -> None:
    smtp_sink.data_replies.append("451 4.3.0 Mail server temporarily rejected message")
    first = await channel.send(answer())
    assert first.status is DeliveryStatus.FAILED and first.retryable
    assert first.error is not None and "451" in first.error
    second = await channel.send(answer())
    assert second.ok and second.external_id == outbound_message_id(answer(), "kefu.example")
    assert len(smtp_sink.received) == 1


async def test_a_permanent_refusal_is_not_retried(channel: EmailChannel, smtp_sink: SinkServer) -> None:
    smtp_sink.rcpt_replies.append("550 5.1.1 User unknown")
    result = await channel.send(answer())
    assert result.status is DeliveryStatus.FAILED and not result.retryable
    assert result.error is not None and "550" in result.error
    smtp_sink.data_replies.append("554 5.7.1 Message rejected as spam")
    result = await channel.send(answer())
    assert not result.retryable and "554" in (result.error or "")


async def test_a_recipient_deferred_with_4xx_is_retried(channel: EmailChannel, smtp_sink: SinkServer) -> None:
    smtp_sink.rcpt_replies.append("450 4.2.1 Mailbox busy")
    result = await channel.send(answer())
    assert result.status is DeliveryStatus.FAILED and result.retryable


async def test_an_unreachable_relay_is_retryable(hub: RecordingHub) -> None:
    email = EmailChannel(config_for(free_port()))  # nothing listens there
    await email.start(hub.port)
    try:
        result = await email.send(answer())
    finally:
        await email.stop()
    assert result.status is DeliveryStatus.FAILED and result.retryable
    assert result.error


@pytest.mark.parametrize("recipient", ["victim@example.com\r\nBcc: everyone@example.com", "not an address",
                                       "a@example.com, b@example.com"])
async def test_a_recipient_that_is_not_one_address_fails_for_good_and_nothing_is_sent(
    channel: EmailChannel, smtp_sink: SinkServer, recipient: str,
) -> None:
    result = await channel.send(answer(recipient=recipient))
    assert result.status is DeliveryStatus.FAILED and not result.retryable
    assert result.error is not None and result.error.startswith("cannot compose")
    assert smtp_sink.received == []


@pytest.fixture
def certificate(tmp_path: Path) -> ssl.SSLContext:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    self_signed_certificate(cert, key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_replies_go_out_over_starttls_or_implicit_tls(
    hub: RecordingHub, certificate: ssl.SSLContext, security: str,
) -> None:
    sink = SinkServer(host="127.0.0.1", port=free_port())
    if security == "starttls":
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(sink, tls_context=certificate, require_starttls=True), sink.host, sink.port)
    else:
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(sink), sink.host, sink.port, ssl=certificate)
    try:
        results = []
        for validate in (True, False):  # the relay's certificate is self-signed
            smtp = SmtpSettings(host=sink.host, port=sink.port, security=security, timeout=5,
                                validate_certs=validate)
            email = EmailChannel(replace(config_for(sink.port), smtp=smtp))
            await email.start(hub.port)
            results.append(await email.send(answer()))
            await email.stop()
    finally:
        server.close()
        await server.wait_closed()
    refused, sent = results
    assert refused.status is DeliveryStatus.FAILED and refused.retryable
    assert refused.error is not None and "CERTIFICATE_VERIFY_FAILED" in refused.error
    assert sent.ok
    assert len(sink.received) == 1
