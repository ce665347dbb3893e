"""Twilio Messaging webhooks (inbound messages, status callbacks) to Kefu's types, and opt-out keywords (pure)."""
from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from typing import Any, Literal

from channels.base import Attachment, DeliveryStatus, DeliveryUpdate, InboundMessage

WHATSAPP_PREFIX = "whatsapp:"
MAX_MEDIA = 10  # Twilio sends at most ten media items per message.

OptOut = Literal["stop", "start", "help"]

# Twilio's default keywords (single-word messages only, any case); Advanced Opt-Out may add more,
# which Twilio then reports in the OptOutType parameter.
_KEYWORDS: dict[str, OptOut] = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), "stop"),
    **dict.fromkeys(("START", "YES", "UNSTOP"), "start"),
    **dict.fromkeys(("HELP", "INFO"), "help"),
}
_OPT_OUT_TYPES: dict[str, OptOut] = {"STOP": "stop", "START": "start", "HELP": "help"}

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")

_STATUSES: dict[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.PENDING,
    "scheduled": DeliveryStatus.PENDING,
    "queued": DeliveryStatus.PENDING,
    "sending": DeliveryStatus.SENDING,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}

# What agents see for the error codes that come up most; anything else shows the bare code.
ERROR_TEXT: dict[str, str] = {
    "21211": "invalid 'To' phone number",
    "21408": "sending to this region is not enabled",
    "21610": "recipient has opted out (replied STOP)",
    "21612": "this number cannot reach the recipient",
    "21614": "'To' number is not a mobile number",
    "21617": "message body exceeds 1600 characters",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered by the carrier",
    "30008": "unknown error",
    "63016": "outside the WhatsApp 24-hour window; a template is required",
}


class TwilioPayloadError(ValueError):
    """A webhook body Kefu cannot use; the message is the reason sent back with HTTP 400."""


def opt_out_keyword(text: str) -> OptOut | None:
    """The opt-out/opt-in/help intent of a message that is exactly one of Twilio's keywords, else None."""
    return _KEYWORDS.get(text.strip().upper())


def channel_of(address: str) -> str:
    """Which channel an address is on: whatsapp for a whatsapp:-prefixed one, else sms."""
    return "whatsapp" if address.lower().startswith(WHATSAPP_PREFIX) else "sms"


def bare_address(address: str) -> str:
    """The address without its channel prefix (whatsapp:+86138... -> +86138...)."""
    if address.lower().startswith(WHATSAPP_PREFIX):
        return address[len(WHATSAPP_PREFIX):]
    return address


def error_text(code: str | int | None, message: str | None = None) -> str:
    """A one-line error for agents: "twilio 21610: recipient has opted out (replied STOP)"."""
    if code in (None, ""):
        return f"twilio: {message}" if message else "twilio: unknown error"
    known = ERROR_TEXT.get(str(code))
    return f"twilio {code}: {message or known or 'see https://www.twilio.com/docs/api/errors/' + str(code)}"


def _required(form: Mapping[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise TwilioPayloadError(f"missing {name}")
    return value


def _sid(form: Mapping[str, str], name: str) -> str:
    value = _required(form, name)
    if not _SID.match(value):
        raise TwilioPayloadError(f"{name} is not a Twilio SID: {value[:40]!r}")
    return value


def _media(form: Mapping[str, str]) -> tuple[Attachment, ...]:
    raw = (form.get("NumMedia") or "0").strip()
    if not raw.isdigit() or int(raw) > MAX_MEDIA:
        raise TwilioPayloadError(f"NumMedia must be 0..{MAX_MEDIA}, got {raw[:10]!r}")
    attachments = []
    for i in range(int(raw)):
        url = _required(form, f"MediaUrl{i}")
        if not url.startswith(("https://", "http://")):
            raise TwilioPayloadError(f"MediaUrl{i} is not an http(s) URL")
        content_type = (form.get(f"MediaContentType{i}") or "application/octet-stream").strip()
        # Twilio media URLs end in the Media SID; the extension makes downloads open sensibly.
        name = url.rstrip("/").rsplit("/", 1)[-1] or f"media{i}"
        ext = mimetypes.guess_extension(content_type.split(";")[0]) or ""
        # Twilio does not say how big media is; 0 means unknown until someone fetches it.
        attachments.append(Attachment(filename=name + ext, content_type=content_type, size=0, url=url))
    return tuple(attachments)


def _location(form: Mapping[str, str]) -> dict[str, Any] | None:
    lat, lon = form.get("Latitude"), form.get("Longitude")
    if not lat or not lon:
        return None
    try:
        where: dict[str, Any] = {"latitude": float(lat), "longitude": float(lon)}
    except ValueError as exc:
        raise TwilioPayloadError("Latitude/Longitude are not numbers") from exc
    for key in ("Address", "Label"):
        if form.get(key):
            where[key.lower()] = form[key]
    return where


def _location_text(where: Mapping[str, Any]) -> str:
    name = where.get("label") or where.get("address") or ""
    coords = f"({where['latitude']}, {where['longitude']})"
    return f"Location: {name} {coords}" if name else f"Location: {coords}"


def parse_inbound(form: Mapping[str, str]) -> InboundMessage:
    """Twilio's incoming-message webhook form -> InboundMessage; raises TwilioPayloadError with the reason."""
    sid = _sid(form, "MessageSid")
    account_sid = _sid(form, "AccountSid")
    sender = _required(form, "From")
    to = _required(form, "To")
    channel = channel_of(sender)
    text = form.get("Body") or ""
    attachments = _media(form)
    where = _location(form)
    if where and not text.strip():
        text = _location_text(where)
    if not text.strip() and not attachments:
        raise TwilioPayloadError("message has no Body, media or location")

    metadata: dict[str, Any] = {"account_sid": account_sid, "to": to}
    for key, name in (
        ("MessagingServiceSid", "messaging_service_sid"),
        ("NumSegments", "num_segments"),
        ("WaId", "wa_id"),
        ("ButtonPayload", "button_payload"),
        ("ButtonText", "button_text"),
        ("OriginalRepliedMessageSid", "in_reply_to_sid"),
    ):
        if form.get(key):
            metadata[name] = form[key]
    if where:
        metadata["location"] = where
    if form.get("Forwarded", "").lower() == "true":
        metadata["forwarded"] = True
    # Advanced Opt-Out tells us outright (custom keywords too); otherwise match the defaults ourselves.
    opt = _OPT_OUT_TYPES.get((form.get("OptOutType") or "").strip().upper()) or opt_out_keyword(text)
    if opt:
        metadata["opt_out"] = opt

    phone = bare_address(sender)
    return InboundMessage(
        channel=channel,
        external_id=sid,
        sender=phone,
        text=text,
        sender_name=(form.get("ProfileName") or None) if channel == "whatsapp" else None,
        attachments=attachments,
        verified_addresses=(("phone", phone),) if phone.startswith("+") else (),
        metadata=metadata,
    )


def parse_status(
    form: Mapping[str, str], channel: str, parent: str | None = None
) -> DeliveryUpdate | None:
    """A status callback -> DeliveryUpdate (under `parent`'s SID for later parts of a split reply), or None."""
    sid = _sid(form, "MessageSid")
    raw = _required(form, "MessageStatus").lower()
    status = _STATUSES.get(raw)
    if status is None:
        return None
    if parent:
        if not _SID.match(parent):
            raise TwilioPayloadError("parent is not a Twilio SID")
        sid = parent
    code = (form.get("ErrorCode") or "").strip()
    error = None
    if status is DeliveryStatus.FAILED:
        error = error_text(code or None, form.get("ErrorMessage") or ("canceled" if raw == "canceled" else None))
    elif code:
        error = error_text(code, form.get("ErrorMessage"))
    for address in (form.get("To") or "", form.get("From") or ""):
        if address:
            channel = channel_of(address)
            break
    return DeliveryUpdate(channel=channel, external_id=sid, status=status, error=error)
