"""Mail relayed to Kefu's SMTP listener over a real socket reaches the hub, or is refused the way MTAs expect."""
from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import aiosmtplib
import pytest

from channels.base import DeliveryStatus
from channels.email.adapter import EmailChannel
from channels.email.config import EmailConfig, Mailbox
from tests.channels.email.conftest import RecordingHub, fixture


@pytest.fixture
async def channel(hub: RecordingHub) -> AsyncIterator[EmailChannel]:
    config = EmailConfig(
        from_address="support@kefu.example",
        listen=("127.0.0.1", 0),
        max_message_bytes=600_000,
        mailboxes=(Mailbox("support@kefu.example"), Mailbox("sales@kefu.example")),
    )
    email = EmailChannel(config)
    await email.start(hub.port)
    yield email
    await email.stop()


async def relay(channel: EmailChannel, raw: bytes, *, sender: str = "lina@qq.example",
                recipients: tuple[str, ...] = ("support@kefu.example",)) -> None:
    """What the company's MTA does: one SMTP transaction to the listener."""
    address = channel.listen_address
    assert address is not None
    async with aiosmtplib.SMTP(hostname=address[0], port=address[1], timeout=10) as client:
        await client.sendmail(sender, list(recipients), raw)  # sender "" is the null path bounces use


async def test_a_chinese_customer_mail_relayed_by_the_mta_reaches_the_hub(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    await relay(channel, fixture("gbk_foxmail_reply.eml"))
    (message,) = hub.delivered
    assert message.channel == "email"
    assert message.sender == "lina@qq.example" and message.sender_name == "李娜"
    assert "内胆有划痕" in message.text and "原始邮件" not in message.text
    assert message.thread is not None and message.thread.conversation_tag == 4821
    assert message.metadata["mailbox"] == "support@kefu.example"
    assert message.metadata["envelope_from"] == "lina@qq.example"


async def test_mail_for_the_second_mailbox_remembers_which_address_it_came_to(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    await relay(channel, fixture("big5_quoted_printable.eml"), recipients=("Sales@kefu.example",))
    assert hub.delivered[0].metadata["mailbox"] == "sales@kefu.example"


async def test_unknown_recipients_are_refused_with_550(channel: EmailChannel, hub: RecordingHub) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await relay(channel, fixture("gbk_foxmail_reply.eml"), recipients=("nobody@kefu.example",))
    assert refused.value.recipients[0].code == 550
    assert hub.delivered == []


async def test_oversized_mail_is_refused_with_552(hub: RecordingHub) -> None:
    small = EmailChannel(EmailConfig(from_address="support@kefu.example", listen=("127.0.0.1", 0),
                                     max_message_bytes=20_000))
    await small.start(hub.port)
    try:
        with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
            await relay(small, fixture("attachments_mixed.eml"))
        assert refused.value.code == 552
        assert hub.delivered == []
        await relay(small, fixture("gbk_foxmail_reply.eml"))  # the next, smaller mail is fine
        assert len(hub.delivered) == 1
    finally:
        await small.stop()


async def test_a_bounce_reports_a_failed_delivery_instead_of_opening_a_conversation(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    await relay(channel, fixture("bounce_postfix_dsn.eml"), sender="")
    assert hub.delivered == []
    (update,) = hub.reports
    assert update.external_id == "kefu.77.1500.c0ffee@kefu.example"
    assert update.status is DeliveryStatus.FAILED


async def test_our_own_mail_is_accepted_and_dropped(channel: EmailChannel, hub: RecordingHub) -> None:
    await relay(channel, fixture("kefu_echo.eml"), sender="support@kefu.example")
    assert hub.delivered == [] and hub.reports == []


async def test_while_the_hub_is_down_the_mta_is_told_to_retry_and_the_retry_lands(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    hub.failures_left = 1
    with pytest.raises(aiosmtplib.SMTPDataError) as deferred:
        await relay(channel, fixture("gmail_reply_quoted.eml"))
    assert deferred.value.code == 451
    await relay(channel, fixture("gmail_reply_quoted.eml"))
    assert [m.external_id for m in hub.delivered] == ["CAB+abc123=XyZ@mail.gmail.example"]


async def test_unreadable_mail_is_kept_when_we_know_the_sender_and_refused_when_we_do_not(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    garbage = fixture("malformed_garbage.eml")
    await relay(channel, garbage, sender="Someone@Example.com")
    (kept,) = hub.delivered
    assert kept.sender == "someone@example.com"
    assert kept.metadata["malformed"] == "no mail headers"
    assert kept.attachments[0].data == garbage
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await relay(channel, garbage, sender="")
    assert refused.value.code == 550


async def test_large_mail_is_parsed_off_the_event_loop_and_still_arrives(
    channel: EmailChannel, hub: RecordingHub,
) -> None:
    payload = base64.encodebytes(bytes(range(256)) * 1200).decode()  # ~300 KB attachment
    raw = (
        "From: Dave <dave@example.net>\r\nTo: support@kefu.example\r\nSubject: big scan\r\n"
        "Message-ID: <big-1@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nScan attached.\r\n"
        "--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=scan.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{payload}\r\n--B--\r\n"
    ).encode()
    await relay(channel, raw)
    (message,) = hub.delivered
    assert message.text == "Scan attached."
    assert message.attachments[0].size == 256 * 1200


async def test_many_mta_connections_at_once(channel: EmailChannel, hub: RecordingHub) -> None:
    raws = [fixture("newsletter_bulk.eml").replace(b"news-2024-03@", f"news-{i}@".encode()) for i in range(20)]
    await asyncio.gather(*(relay(channel, raw) for raw in raws))
    assert len(hub.delivered) == 20
    assert all(m.automated for m in hub.delivered)
