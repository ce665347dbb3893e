"""Email channel: SMTP listener and IMAP polling in, SMTP relay out; pure MIME parsing and composing."""
from channels.email.adapter import EmailChannel, channels_from_env
from channels.email.compose import ComposeSettings, compose_email, outbound_message_id
from channels.email.config import ConfigError, EmailConfig, ImapSettings, Mailbox, SmtpSettings
from channels.email.ingest import Outcome
from channels.email.parse import MalformedEmail, OwnEmail, classify_email, malformed_to_inbound, parse_email
from channels.email.reports import DeliveryReport, parse_delivery_report

__all__ = [
    "ComposeSettings",
    "ConfigError",
    "DeliveryReport",
    "EmailChannel",
    "EmailConfig",
    "ImapSettings",
    "Mailbox",
    "MalformedEmail",
    "Outcome",
    "OwnEmail",
    "SmtpSettings",
    "channels_from_env",
    "classify_email",
    "compose_email",
    "malformed_to_inbound",
    "outbound_message_id",
    "parse_delivery_report",
    "parse_email",
]
