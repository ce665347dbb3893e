"""An MTA delivering straight to Kefu's SMTP listener can encrypt the mail with STARTTLS, and an operator
can insist on it; a certificate that cannot be loaded stops the start with the reason."""
from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest

from channels.email.adapter import EmailChannel
from channels.email.config import ConfigError, EmailConfig, ListenerTls
from tests.channels.email.conftest import RecordingHub, fixture
from tests.fakes.dovecot import self_signed_certificate


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("listener-tls")
    cert, key = root / "cert.pem", root / "key.pem"
    self_signed_certificate(cert, key, name="mx.kefu.example")
    return cert, key


async def listening(hub: RecordingHub, tls: ListenerTls) -> EmailChannel:
    channel = EmailChannel(EmailConfig(from_address="support@kefu.example", listen=("127.0.0.1", 0), listen_tls=tls))
    await channel.start(hub.port)
    return channel


@pytest.fixture
async def optional_tls(hub: RecordingHub, certificate: tuple[Path, Path]) -> AsyncIterator[EmailChannel]:
    channel = await listening(hub, ListenerTls(*certificate))
    yield channel
    await channel.stop()


@pytest.fixture
async def required_tls(hub: RecordingHub, certificate: tuple[Path, Path]) -> AsyncIterator[EmailChannel]:
    channel = await listening(hub, ListenerTls(*certificate, required=True))
    yield channel
    await channel.stop()


def trusting(cert: Path) -> ssl.SSLContext:
    """The sending MTA's context, trusting our throwaway certificate."""
    context = ssl.create_default_context(cafile=str(cert))
    context.check_hostname = False  # the MTA connects by IP in this test
    return context


async def send(channel: EmailChannel, *, start_tls: bool, cert: Path | None = None) -> bool:
    """Relay one mail; whether it travelled encrypted."""
    host, port = channel.listen_address  # type: ignore[misc]
    client = aiosmtplib.SMTP(
        hostname=host, port=port, timeout=10, start_tls=start_tls, tls_context=trusting(cert) if cert else None
    )
    await client.connect()
    try:
        await client.sendmail("lina@qq.example", ["support@kefu.example"], fixture("gbk_foxmail_reply.eml"))
        return client.get_transport_info("ssl_object") is not None
    finally:
        if client.is_connected:
            await client.quit()


async def test_mail_sent_over_starttls_reaches_the_hub(
    optional_tls: EmailChannel, hub: RecordingHub, certificate: tuple[Path, Path]
) -> None:
    host, port = optional_tls.listen_address  # type: ignore[misc]
    async with aiosmtplib.SMTP(hostname=host, port=port, timeout=10, start_tls=False) as probe:
        await probe.ehlo()
        assert probe.supports_extension("starttls")
    assert await send(optional_tls, start_tls=True, cert=certificate[0]) is True
    (message,) = hub.delivered
    assert "内胆有划痕" in message.text


async def test_without_a_requirement_plain_mail_is_still_taken(optional_tls: EmailChannel, hub: RecordingHub) -> None:
    assert await send(optional_tls, start_tls=False) is False
    assert len(hub.delivered) == 1


async def test_when_tls_is_required_plain_mail_is_refused_and_nothing_is_stored(
    required_tls: EmailChannel, hub: RecordingHub, certificate: tuple[Path, Path]
) -> None:
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(required_tls, start_tls=False)
    assert refused.value.code == 530
    assert hub.delivered == []
    assert await send(required_tls, start_tls=True, cert=certificate[0]) is True
    assert len(hub.delivered) == 1


async def test_a_certificate_that_cannot_be_loaded_stops_the_start_with_the_reason(
    hub: RecordingHub, tmp_path: Path
) -> None:
    missing = ListenerTls(tmp_path / "nope.pem", tmp_path / "nope.key")
    with pytest.raises(ConfigError, match="nope.pem"):
        await listening(hub, missing)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEFU_EMAIL_LISTEN_TLS_CERT": "/etc/kefu/mx.pem"}, "KEFU_EMAIL_LISTEN_TLS_KEY"),
        ({"KEFU_EMAIL_LISTEN_REQUIRE_TLS": "1"}, "KEFU_EMAIL_LISTEN_REQUIRE_TLS"),
        ({"KEFU_EMAIL_LISTEN_TLS_CERT": "a", "KEFU_EMAIL_LISTEN_TLS_KEY": "b",
          "KEFU_EMAIL_LISTEN_REQUIRE_TLS": "maybe"}, "KEFU_EMAIL_LISTEN_REQUIRE_TLS"),
    ],
)
def test_half_a_tls_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        EmailConfig.from_env({"KEFU_EMAIL_FROM": "support@kefu.example", **env})


def test_the_tls_settings_are_read_from_the_environment() -> None:
    config = EmailConfig.from_env({
        "KEFU_EMAIL_FROM": "support@kefu.example",
        "KEFU_EMAIL_LISTEN": "0.0.0.0:25",
        "KEFU_EMAIL_LISTEN_TLS_CERT": "/etc/letsencrypt/live/mx/fullchain.pem",
        "KEFU_EMAIL_LISTEN_TLS_KEY": "/etc/letsencrypt/live/mx/privkey.pem",
        "KEFU_EMAIL_LISTEN_REQUIRE_TLS": "yes",
    })
    assert config.listen_tls == ListenerTls(
        Path("/etc/letsencrypt/live/mx/fullchain.pem"), Path("/etc/letsencrypt/live/mx/privkey.pem"), True
    )
