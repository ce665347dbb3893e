"""Email channel settings: outbound SMTP, the inbound SMTP listener, and IMAP mailboxes, from KEFU_EMAIL_* variables."""
from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

SECURITY_MODES = ("none", "starttls", "tls")
_SMTP_PORTS = {"none": 25, "starttls": 587, "tls": 465}
_IMAP_PORTS = {"none": 143, "starttls": 143, "tls": 993}
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class ConfigError(ValueError):
    """A KEFU_EMAIL_* setting is missing or wrong; the message names the setting, never a secret."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The SMTP server Kefu sends through (a relay or the provider's submission port)."""

    host: str = "localhost"
    port: int = 25
    security: str = "none"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30.0
    validate_certs: bool = True


@dataclass(frozen=True, slots=True)
class ListenerTls:
    """STARTTLS on the SMTP listener: a PEM certificate chain and its key; `required` refuses mail without it."""

    cert_path: Path
    key_path: Path
    required: bool = False


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """Where one mailbox's mail is read from; IDLE when the server offers it, else every poll_interval seconds."""

    host: str
    username: str
    password: str = field(repr=False)
    port: int = 993
    security: str = "tls"
    folder: str = "INBOX"
    poll_interval: float = 60.0
    idle: bool = True
    timeout: float = 30.0
    validate_certs: bool = True


@dataclass(frozen=True, slots=True)
class Mailbox:
    """One support address; with `imap` its mail is fetched, without it only the SMTP listener accepts it."""

    address: str
    name: str | None = None
    imap: ImapSettings | None = None


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """Everything the email channel needs; build it directly or with `EmailConfig.from_env()`."""

    from_address: str
    domain: str = ""
    from_name: str | None = None
    smtp: SmtpSettings = SmtpSettings()
    listen: tuple[str, int] | None = None
    listen_tls: ListenerTls | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES
    mailboxes: tuple[Mailbox, ...] = ()
    default_subject: str = "Your support request"

    def __post_init__(self) -> None:
        if "@" not in self.from_address:
            raise ConfigError("the from address must be an email address (KEFU_EMAIL_FROM)")
        if not self.domain:
            # frozen dataclass: the Message-ID domain defaults to the from address's domain
            object.__setattr__(self, "domain", self.from_address.rsplit("@", 1)[1].lower())
        if self.smtp.security not in SECURITY_MODES:
            raise ConfigError(f"KEFU_EMAIL_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}")

    @property
    def accepted_addresses(self) -> frozenset[str]:
        """Recipients the SMTP listener takes mail for; empty means any."""
        return frozenset(m.address.lower() for m in self.mailboxes)

    def mailbox_for(self, address: str | None) -> Mailbox | None:
        """The configured mailbox with this address, if any."""
        if not address:
            return None
        wanted = address.lower()
        return next((m for m in self.mailboxes if m.address.lower() == wanted), None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmailConfig:
        """Read KEFU_EMAIL_* variables (see docs/channels-email.md)."""
        env = os.environ if environ is None else environ
        mailboxes = _mailboxes(env)
        name, address = parseaddr(env.get("KEFU_EMAIL_FROM", ""))
        if not address and mailboxes:
            name, address = mailboxes[0].name or "", mailboxes[0].address
        if "@" not in address:
            raise ConfigError("KEFU_EMAIL_FROM must be set to the support address, e.g. 'Support <help@example.com>'")
        security = env.get("KEFU_EMAIL_SMTP_SECURITY", "none").strip().lower()
        if security not in SECURITY_MODES:
            raise ConfigError(f"KEFU_EMAIL_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}")
        smtp = SmtpSettings(
            host=env.get("KEFU_EMAIL_SMTP_HOST", "localhost"),
            port=_int(env, "KEFU_EMAIL_SMTP_PORT", _SMTP_PORTS[security]),
            security=security,
            username=env.get("KEFU_EMAIL_SMTP_USERNAME") or None,
            password=env.get("KEFU_EMAIL_SMTP_PASSWORD") or None,
            timeout=_float(env, "KEFU_EMAIL_SMTP_TIMEOUT", 30.0),
            validate_certs=_bool(env, "KEFU_EMAIL_SMTP_VALIDATE_CERTS", True),
        )
        return cls(
            from_address=address.lower(),
            from_name=name or None,
            domain=env.get("KEFU_EMAIL_DOMAIN", "").strip().lower(),
            smtp=smtp,
            listen=_listen(env.get("KEFU_EMAIL_LISTEN")),
            listen_tls=_listen_tls(env),
            max_message_bytes=_int(env, "KEFU_EMAIL_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES),
            max_attachment_bytes=_int(env, "KEFU_EMAIL_MAX_ATTACHMENT_BYTES", DEFAULT_MAX_ATTACHMENT_BYTES),
            mailboxes=mailboxes,
            default_subject=env.get("KEFU_EMAIL_DEFAULT_SUBJECT", "Your support request"),
        )


def is_configured(environ: Mapping[str, str] | None = None) -> bool:
    """True when any KEFU_EMAIL_* setting says the email channel should run."""
    env = os.environ if environ is None else environ
    return any(env.get(k) for k in ("KEFU_EMAIL_FROM", "KEFU_EMAIL_LISTEN", "KEFU_EMAIL_IMAP_MAILBOXES"))


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{key} must be a whole number") from None
    if number <= 0:
        raise ConfigError(f"{key} must be positive")
    return number


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{key} must be a number of seconds") from None


def _bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false")


def _listen_tls(env: Mapping[str, str]) -> ListenerTls | None:
    cert = env.get("KEFU_EMAIL_LISTEN_TLS_CERT", "").strip()
    key = env.get("KEFU_EMAIL_LISTEN_TLS_KEY", "").strip()
    required = _bool(env, "KEFU_EMAIL_LISTEN_REQUIRE_TLS", False)
    if bool(cert) != bool(key):
        raise ConfigError("set both KEFU_EMAIL_LISTEN_TLS_CERT and KEFU_EMAIL_LISTEN_TLS_KEY, or neither")
    if not cert:
        if required:
            raise ConfigError("KEFU_EMAIL_LISTEN_REQUIRE_TLS needs KEFU_EMAIL_LISTEN_TLS_CERT and _KEY")
        return None
    return ListenerTls(Path(cert).expanduser(), Path(key).expanduser(), required)


def _listen(value: str | None) -> tuple[str, int] | None:
    if not value or not value.strip():
        return None
    host, sep, port = value.strip().rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError("KEFU_EMAIL_LISTEN must be host:port, e.g. 127.0.0.1:2525")
    return host.strip("[]") or "0.0.0.0", int(port)


def _mailboxes(env: Mapping[str, str]) -> tuple[Mailbox, ...]:
    value = env.get("KEFU_EMAIL_IMAP_MAILBOXES", "").strip()
    if not value:
        return ()
    try:
        entries = json.loads(value)
    except json.JSONDecodeError as error:
        raise ConfigError(f"KEFU_EMAIL_IMAP_MAILBOXES is not valid JSON (line {error.lineno})") from None
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise ConfigError("KEFU_EMAIL_IMAP_MAILBOXES must be a JSON list of mailboxes")
    return tuple(_mailbox(entry, env, index) for index, entry in enumerate(entries))


def _mailbox(entry: Any, env: Mapping[str, str], index: int) -> Mailbox:
    where = f"KEFU_EMAIL_IMAP_MAILBOXES[{index}]"
    if not isinstance(entry, dict) or "@" not in str(entry.get("address", "")):
        raise ConfigError(f"{where} needs an \"address\"")
    address = str(entry["address"]).strip().lower()
    imap = None
    if entry.get("host"):
        security = str(entry.get("security", "tls")).lower()
        if security not in _IMAP_PORTS:
            raise ConfigError(f"{where}.security must be tls, starttls or none")
        password = entry.get("password")
        if entry.get("password_env"):
            # keeps the secret out of the JSON: the mailbox names another variable that holds it
            password = env.get(str(entry["password_env"]))
        if not password:
            raise ConfigError(f"{where} needs \"password\" or \"password_env\" naming a set variable")
        try:
            imap = ImapSettings(
                host=str(entry["host"]),
                port=int(entry.get("port", _IMAP_PORTS[security])),
                security=security,
                username=str(entry.get("username", address)),
                password=str(password),
                folder=str(entry.get("folder", "INBOX")),
                poll_interval=float(entry.get("poll_interval", 60.0)),
                idle=bool(entry.get("idle", True)),
                timeout=float(entry.get("timeout", 30.0)),
                validate_certs=bool(entry.get("validate_certs", True)),
            )
        except (TypeError, ValueError):
            raise ConfigError(f"{where} has a port, poll_interval or timeout that is not a number") from None
    return Mailbox(address=address, name=entry.get("name"), imap=imap)
