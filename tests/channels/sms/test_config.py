"""An operator configures Twilio through KEFU_TWILIO_* variables; mistakes are named, secrets stay hidden."""
from __future__ import annotations

import pytest

from channels.sms.adapter import TwilioSmsChannel, TwilioWhatsAppChannel, channels_from_env
from channels.sms.config import TwilioConfig, TwilioConfigError
from tests.channels.sms.conftest import ACCOUNT_SID, AUTH_TOKEN

BASE = {"KEFU_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "KEFU_TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def test_sms_and_whatsapp_come_up_for_the_senders_configured() -> None:
    env = BASE | {
        "KEFU_TWILIO_SMS_FROM": "+14155550100",
        "KEFU_TWILIO_WHATSAPP_FROM": "+14155238886",
        "KEFU_PUBLIC_URL": "https://support.example.com/",
    }
    sms, whatsapp = channels_from_env(env)
    assert isinstance(sms, TwilioSmsChannel) and isinstance(whatsapp, TwilioWhatsAppChannel)
    assert whatsapp.config.from_ == "whatsapp:+14155238886"
    assert sms.config.status_callback_url == "https://support.example.com/channels/twilio/sms/status"
    assert [r.path for r in whatsapp.routes()] == [  # type: ignore[attr-defined]
        "/channels/twilio/whatsapp/inbound",
        "/channels/twilio/whatsapp/status",
    ]


def test_nothing_comes_up_without_an_account_or_a_sender() -> None:
    assert channels_from_env({}) == []
    assert channels_from_env(BASE) == []
    [only] = channels_from_env(BASE | {"KEFU_TWILIO_WHATSAPP_MESSAGING_SERVICE_SID": "MG" + "1" * 32})
    assert only.kind == "whatsapp" and only.config.from_ is None


def test_the_twilio_public_url_wins_over_kefus() -> None:
    env = BASE | {
        "KEFU_TWILIO_SMS_FROM": "+14155550100",
        "KEFU_PUBLIC_URL": "https://internal.example.com",
        "KEFU_TWILIO_PUBLIC_URL": "https://hooks.example.com/kefu",
        "KEFU_TWILIO_TRUST_FORWARDED": "yes",
        "KEFU_TWILIO_SMS_MAX_SEGMENTS": "1",
    }
    config = TwilioConfig.from_env("sms", env)
    assert (config.public_url, config.trust_forwarded, config.max_segments) == (
        "https://hooks.example.com/kefu",
        True,
        1,
    )


def test_the_auth_token_never_shows_in_repr() -> None:
    config = TwilioConfig.from_env("sms", BASE | {"KEFU_TWILIO_SMS_FROM": "+14155550100"})
    assert AUTH_TOKEN not in repr(config) and AUTH_TOKEN not in repr(TwilioSmsChannel(config).config)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"KEFU_TWILIO_SMS_FROM": "+1415"}, "KEFU_TWILIO_AUTH_TOKEN"),
        (BASE, "KEFU_TWILIO_SMS_FROM"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_SMS_MAX_SEGMENTS": "11"}, "MAX_SEGMENTS"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_TIMEOUT": "soon"}, "KEFU_TWILIO_TIMEOUT"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_PUBLIC_URL": "example.com"}, "PUBLIC_URL"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_API_KEY_SID": "SK1"}, "API_KEY_SECRET"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_MAX_MEDIA_BYTES": "-1"}, "MAX_MEDIA_BYTES"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_MAX_MEDIA_BYTES": "5MB"}, "MAX_MEDIA_BYTES"),
        (BASE | {"KEFU_TWILIO_SMS_FROM": "+1415", "KEFU_TWILIO_MEDIA_TIMEOUT": "30"}, "MEDIA_TIMEOUT"),
    ],
)
def test_broken_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(TwilioConfigError, match=named):
        TwilioConfig.from_env("sms", env)


def test_a_whatsapp_config_cannot_drive_the_sms_channel() -> None:
    config = TwilioConfig.from_env("whatsapp", BASE | {"KEFU_TWILIO_WHATSAPP_FROM": "+14155238886"})
    with pytest.raises(TwilioConfigError, match="needs a 'sms' config"):
        TwilioSmsChannel(config)


def test_media_limits_come_from_the_environment_and_api_keys_fetch_media_too() -> None:
    env = BASE | {
        "KEFU_TWILIO_SMS_FROM": "+14155550100",
        "KEFU_TWILIO_MAX_MEDIA_BYTES": "5242880",
        "KEFU_TWILIO_MEDIA_TIMEOUT": "4.5",
        "KEFU_TWILIO_DELETE_MEDIA": "1",
    }
    config = TwilioConfig.from_env("sms", env)
    assert (config.max_media_bytes, config.media_timeout, config.delete_media) == (5 * 1024 * 1024, 4.5, True)
    assert TwilioConfig.from_env("sms", BASE | {"KEFU_TWILIO_SMS_FROM": "+14155550100"}).delete_media is False
    assert config.credentials == (ACCOUNT_SID, AUTH_TOKEN)
    keyed = TwilioConfig.from_env(
        "sms", env | {"KEFU_TWILIO_API_KEY_SID": "SK" + "2" * 32, "KEFU_TWILIO_API_KEY_SECRET": "s3cret"}
    )
    assert keyed.credentials == ("SK" + "2" * 32, "s3cret")
