"""Mail in an IMAP mailbox (a real dovecot on loopback) reaches the hub once, and is then marked \\Seen."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from channels.base import DeliveryStatus
from channels.email.adapter import EmailChannel
from channels.email.config import EmailConfig, ImapSettings, Mailbox
from tests.channels.email.conftest import RecordingHub, fixture, until
from tests.fakes.dovecot import Dovecot, dovecot_binary, running_dovecot


def channel_for(server: Dovecot, *, idle: bool = True, poll_interval: float = 0.3,
                password: str | None = None, timeout: float = 5, port: int | None = None,
                security: str = "none", validate_certs: bool = True) -> EmailChannel:
    imap = ImapSettings(
        host=server.host, port=port or server.port, security=security, username=server.user,
        password=password or server.password, poll_interval=poll_interval, idle=idle, timeout=timeout,
        validate_certs=validate_certs,
    )
    config = EmailConfig(from_address="support@example.com", mailboxes=(Mailbox(server.user, imap=imap),))
    return EmailChannel(config, reconnect_min=0.1, reconnect_max=0.5)


async def refused_with(channel: EmailChannel, hub: RecordingHub, caplog: pytest.LogCaptureFixture,
                       reason: str) -> None:
    """Start the channel until its log gives `reason` for not reading, then stop it."""
    with caplog.at_level(logging.WARNING):
        await channel.start(hub.port)
        try:
            await until(lambda: reason in caplog.text)
        finally:
            await channel.stop()


@pytest.fixture
async def reading(dovecot: Dovecot, hub: RecordingHub) -> AsyncIterator[EmailChannel]:
    channel = channel_for(dovecot)
    await channel.start(hub.port)
    yield channel
    await channel.stop()


async def test_mail_waiting_at_startup_is_delivered_and_marked_seen(dovecot: Dovecot, hub: RecordingHub) -> None:
    waiting = dovecot.deliver(fixture("gbk_foxmail_reply.eml"))
    channel = channel_for(dovecot)
    await channel.start(hub.port)
    try:
        await until(lambda: dovecot.flags_of(waiting) == "S")
    finally:
        await channel.stop()
    (message,) = hub.delivered
    assert message.sender_name == "李娜" and "内胆有划痕" in message.text
    assert message.metadata["mailbox"] == dovecot.user


async def test_new_mail_arrives_while_idling(reading: EmailChannel, dovecot: Dovecot, hub: RecordingHub) -> None:
    await until(lambda: bool(reading.pollers) and reading.pollers[0].sessions == 1)
    await asyncio.sleep(0.3)  # the poller is idling now
    arriving = dovecot.deliver(fixture("big5_quoted_printable.eml"))
    await until(lambda: dovecot.flags_of(arriving) == "S", timeout=15)
    assert [m.sender_name for m in hub.delivered] == ["陳大文"]


async def test_a_server_without_idle_is_polled(hub: RecordingHub) -> None:
    if dovecot_binary() is None:
        pytest.skip("Debian's dovecot is not installed (apt-get install -y dovecot-imapd)")
    with running_dovecot(capabilities="IMAP4rev1 LITERAL+ UIDPLUS") as server:
        channel = channel_for(server, poll_interval=0.2)
        await channel.start(hub.port)
        try:
            await until(lambda: bool(channel.pollers) and channel.pollers[0].sessions == 1)
            await asyncio.sleep(0.3)
            later = server.deliver(fixture("gmail_reply_quoted.eml"))
            await until(lambda: server.flags_of(later) == "S")
        finally:
            await channel.stop()
    assert [m.external_id for m in hub.delivered] == ["CAB+abc123=XyZ@mail.gmail.example"]


async def test_bounces_echoes_and_unreadable_mail_are_each_handled(
    reading: EmailChannel, dovecot: Dovecot, hub: RecordingHub,
) -> None:
    bounce = dovecot.deliver(fixture("bounce_postfix_dsn.eml"))
    echo = dovecot.deliver(fixture("kefu_echo.eml"))
    garbage = dovecot.deliver(fixture("malformed_garbage.eml"))
    await until(lambda: all(dovecot.flags_of(n) for n in (bounce, echo, garbage)))
    assert hub.delivered == []
    assert [(u.external_id, u.status) for u in hub.reports] == [
        ("kefu.77.1500.c0ffee@kefu.example", DeliveryStatus.FAILED)
    ]
    assert dovecot.flags_of(echo) == "S"
    # no sender to answer: left in the mailbox, flagged for a person to look at
    assert dovecot.flags_of(garbage) == "FS"


async def test_while_the_hub_fails_mail_stays_unseen_and_is_delivered_later(
    dovecot: Dovecot, hub: RecordingHub,
) -> None:
    hub.failures_left = 2
    name = dovecot.deliver(fixture("apple_mail_zh_html.eml"))
    channel = channel_for(dovecot)
    await channel.start(hub.port)
    try:
        await until(lambda: dovecot.flags_of(name) == "S")
        assert channel.pollers[0].sessions >= 3  # one session per failure, then the one that worked
    finally:
        await channel.stop()
    assert [m.text for m in hub.delivered] == ["新地址是：上海市浦东新区世纪大道 100 号。"]


async def test_the_poller_survives_a_server_restart(reading: EmailChannel, dovecot: Dovecot, hub: RecordingHub) -> None:
    first = dovecot.deliver(fixture("gmail_zh_reply_flowed.eml"))
    await until(lambda: dovecot.flags_of(first) == "S")
    dovecot.stop()
    await asyncio.sleep(0.5)  # the poller notices and starts reconnecting
    dovecot.start()
    second = dovecot.deliver(fixture("html_only_outlook.eml"))
    await until(lambda: dovecot.flags_of(second) == "S", timeout=15)
    assert reading.pollers[0].sessions >= 2
    assert [m.sender for m in hub.delivered] == ["zhangsan@gmail.example", "bob.smith@acme.example"]


async def test_a_wrong_password_delivers_nothing_keeps_trying_and_never_logs_the_password(
    dovecot: Dovecot, hub: RecordingHub, caplog: pytest.LogCaptureFixture,
) -> None:
    name = dovecot.deliver(fixture("gbk_foxmail_reply.eml"))
    # dovecot slows down repeated failures from one address, so the second try times out quickly here
    channel = channel_for(dovecot, password="wrong-password-123", timeout=1)
    with caplog.at_level(logging.DEBUG):
        await channel.start(hub.port)
        try:
            await until(lambda: "login refused" in caplog.text)
            await until(lambda: sum("reconnecting" in r.getMessage() for r in caplog.records) >= 2)
            assert channel.pollers[0].sessions == 0
        finally:
            await channel.stop()
    assert hub.delivered == [] and dovecot.flags_of(name) is None
    assert "wrong-password-123" not in caplog.text


async def test_imap_over_tls_reads_mail_and_refuses_an_unverified_certificate(
    hub: RecordingHub, caplog: pytest.LogCaptureFixture,
) -> None:
    if dovecot_binary() is None:
        pytest.skip("Debian's dovecot is not installed (apt-get install -y dovecot-imapd)")
    with running_dovecot(tls=True) as server:
        assert server.tls_port is not None
        name = server.deliver(fixture("gb18030_alternative.eml"))

        def over_tls(validate: bool) -> EmailChannel:
            return channel_for(server, port=server.tls_port, security="tls", validate_certs=validate)

        # self-signed: the handshake must fail, and nothing is read
        await refused_with(over_tls(validate=True), hub, caplog, "CERTIFICATE_VERIFY_FAILED")
        assert hub.delivered == [] and server.flags_of(name) is None

        trusting = over_tls(validate=False)
        await trusting.start(hub.port)
        try:
            await until(lambda: server.flags_of(name) == "S")
        finally:
            await trusting.stop()
    assert [m.text for m in hub.delivered] == ["发票抬头写错了：应为「𠀾鑫科技有限公司」😀，请重开。"]


async def test_imap_with_starttls_reads_mail_encrypted_and_never_falls_back_to_plain_text(
    hub: RecordingHub, caplog: pytest.LogCaptureFixture,
) -> None:
    if dovecot_binary() is None:
        pytest.skip("Debian's dovecot is not installed (apt-get install -y dovecot-imapd)")

    def over_starttls(server: Dovecot, validate: bool) -> EmailChannel:
        return channel_for(server, security="starttls", validate_certs=validate)

    with running_dovecot(tls=False) as plain:  # a server that cannot encrypt: no login at all
        name = plain.deliver(fixture("gb18030_alternative.eml"))
        await refused_with(over_starttls(plain, validate=False), hub, caplog, "does not offer STARTTLS")
        assert hub.delivered == [] and plain.flags_of(name) is None
        assert "Login: user=" not in (plain.root / "dovecot.log").read_text(errors="replace")

    with running_dovecot(tls=True) as server:  # the plain port, upgraded
        name = server.deliver(fixture("gb18030_alternative.eml"))
        # self-signed: refused after STARTTLS, nothing read
        await refused_with(over_starttls(server, validate=True), hub, caplog, "CERTIFICATE_VERIFY_FAILED")
        assert hub.delivered == [] and server.flags_of(name) is None

        trusting = over_starttls(server, validate=False)
        await trusting.start(hub.port)
        try:
            await until(lambda: server.flags_of(name) == "S")
        finally:
            await trusting.stop()
        logins = [line for line in (server.root / "dovecot.log").read_text(errors="replace").splitlines()
                  if "Login: user=" in line]
        assert logins and all("TLS" in line for line in logins), logins
    assert [m.text for m in hub.delivered] == ["发票抬头写错了：应为「𠀾鑫科技有限公司」😀，请重开。"]
