"""An operator configures the email channel with KEFU_EMAIL_* variables."""
from __future__ import annotations

import json

import pytest

from channels.base import Channel
from channels.email.adapter import channels_from_env
from channels.email.config import ConfigError, EmailConfig, is_configured


def test_a_full_configuration_from_the_environment() -> None:
    env = {
        "KEFU_EMAIL_FROM": "客服中心 <Support@Kefu.example>",
        "KEFU_EMAIL_SMTP_HOST": "smtp.provider.example",
        "KEFU_EMAIL_SMTP_SECURITY": "starttls",
        "KEFU_EMAIL_SMTP_USERNAME": "support@kefu.example",
        "KEFU_EMAIL_SMTP_PASSWORD": "smtp-secret",
        "KEFU_EMAIL_LISTEN": "0.0.0.0:2525",
        "KEFU_EMAIL_MAX_MESSAGE_BYTES": "10485760",
        "KEFU_EMAIL_MAX_ATTACHMENT_BYTES": "5242880",
        "KEFU_EMAIL_SALES_PASSWORD": "imap-secret-2",
        "KEFU_EMAIL_IMAP_MAILBOXES": json.dumps([
            {"address": "support@kefu.example", "host": "imap.provider.example", "password": "imap-secret-1"},
            {"address": "sales@kefu.example", "name": "Sales", "host": "10.0.0.5", "port": 143, "security": "none",
             "username": "sales", "password_env": "KEFU_EMAIL_SALES_PASSWORD", "poll_interval": 30, "idle": False},
            {"address": "billing@kefu.example"},
        ]),
    }
    config = EmailConfig.from_env(env)
    assert (config.from_address, config.from_name) == ("support@kefu.example", "客服中心")
    assert config.domain == "kefu.example"
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("smtp.provider.example", 587, "starttls")
    assert config.smtp.password == "smtp-secret"
    assert config.listen == ("0.0.0.0", 2525)
    assert (config.max_message_bytes, config.max_attachment_bytes) == (10_485_760, 5_242_880)
    support, sales, billing = config.mailboxes
    assert support.imap is not None and (support.imap.port, support.imap.security) == (993, "tls")
    assert support.imap.username == "support@kefu.example"
    assert sales.imap is not None and sales.imap.password == "imap-secret-2" and sales.imap.idle is False
    assert (sales.imap.host, sales.imap.port, sales.imap.poll_interval) == ("10.0.0.5", 143, 30.0)
    assert billing.imap is None
    assert config.accepted_addresses == {"support@kefu.example", "sales@kefu.example", "billing@kefu.example"}
    assert config.mailbox_for("SALES@kefu.example") == sales


def test_secrets_never_show_in_reprs_or_errors() -> None:
    env = {
        "KEFU_EMAIL_FROM": "support@kefu.example",
        "KEFU_EMAIL_SMTP_PASSWORD": "smtp-secret",
        "KEFU_EMAIL_IMAP_MAILBOXES": json.dumps(
            [{"address": "a@kefu.example", "host": "h", "password": "imap-secret"}]
        ),
    }
    assert "secret" not in repr(EmailConfig.from_env(env))
    broken = dict(env, KEFU_EMAIL_IMAP_MAILBOXES='[{"address": "a@kefu.example", "password": "imap-secret", ')
    with pytest.raises(ConfigError) as error:
        EmailConfig.from_env(broken)
    assert "secret" not in str(error.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "KEFU_EMAIL_FROM"),
        ({"KEFU_EMAIL_FROM": "support@kefu.example", "KEFU_EMAIL_LISTEN": "2525"}, "KEFU_EMAIL_LISTEN"),
        ({"KEFU_EMAIL_FROM": "support@kefu.example", "KEFU_EMAIL_SMTP_SECURITY": "ssl"}, "KEFU_EMAIL_SMTP_SECURITY"),
        ({"KEFU_EMAIL_FROM": "support@kefu.example", "KEFU_EMAIL_SMTP_PORT": "x"}, "KEFU_EMAIL_SMTP_PORT"),
        ({"KEFU_EMAIL_FROM": "support@kefu.example",
          "KEFU_EMAIL_IMAP_MAILBOXES": '[{"address": "a@b", "host": "h"}]'}, "password"),
        ({"KEFU_EMAIL_FROM": "support@kefu.example",
          "KEFU_EMAIL_IMAP_MAILBOXES": '[{"address": "a@b", "host": "h", "password": "p", "security": "ssl3"}]'},
         "security must be tls, starttls or none"),
    ],
)
def test_mistakes_are_reported_by_the_setting_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        EmailConfig.from_env(env)


def test_the_first_mailbox_stands_in_for_a_missing_from_address() -> None:
    env = {"KEFU_EMAIL_IMAP_MAILBOXES": '[{"address": "help@shop.example", "name": "Help"}]'}
    config = EmailConfig.from_env(env)
    assert (config.from_address, config.from_name, config.domain) == ("help@shop.example", "Help", "shop.example")
    assert config.listen is None and config.smtp.port == 25
    assert is_configured(env) and not is_configured({})


def test_ipv6_listen_address() -> None:
    config = EmailConfig.from_env({"KEFU_EMAIL_FROM": "a@b.example", "KEFU_EMAIL_LISTEN": "[::1]:2525"})
    assert config.listen == ("::1", 2525)


def test_the_hub_finds_the_channel_only_when_it_is_configured() -> None:
    assert channels_from_env({}) == []
    (channel,) = channels_from_env({"KEFU_EMAIL_FROM": "help@shop.example", "KEFU_EMAIL_LISTEN": "127.0.0.1:2525"})
    assert channel.kind == "email" and channel.config.listen == ("127.0.0.1", 2525)
    assert isinstance(channel, Channel) and channel.routes() == []


def test_imap_with_starttls_defaults_to_the_plain_port() -> None:
    config = EmailConfig.from_env({
        "KEFU_EMAIL_FROM": "support@kefu.example",
        "KEFU_EMAIL_IMAP_MAILBOXES": '[{"address": "support@kefu.example", "host": "imap.kefu.example",'
                                     ' "password": "p", "security": "starttls"}]',
    })
    imap = config.mailboxes[0].imap
    assert imap is not None and (imap.port, imap.security) == (143, "starttls")
