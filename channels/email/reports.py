"""Bounces, delay and delivery notices, and read receipts: which of our messages they are about, and what happened."""
from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser

from channels.base import DeliveryStatus, DeliveryUpdate
from channels.email.charsets import RAW_HEADERS, decode_bytes, decode_header_value, param
from channels.email.ids import bare_message_id

KEFU_HEADER = "X-Kefu-Message"

_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|returned mail|failure notice|delivery (status notification|failure|failed|has failed"
    r"|notification|incomplete)|mail delivery (failed|subsystem|system)|could not be delivered|non.?delivery"
    r"|退信|投递失败|投遞失敗|发送失败|發送失敗|无法投递|無法投遞|未能送达|系统退信|系統退信",
    re.IGNORECASE,
)
_MESSAGE_ID_LINE = re.compile(r"^\s*Message-ID\s*:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_KEFU_LINE = re.compile(rf"^\s*{KEFU_HEADER}\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_STATUS_CODE = re.compile(r"\b([45]\.\d{1,3}\.\d{1,3})\b")
_ACTIONS_BY_RANK = ("failed", "delayed", "delivered", "relayed", "expanded")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A report about a message we sent: a bounce (action "failed"), a delay, a success, or "displayed" (read)."""

    action: str
    original_message_id: str | None
    kefu_message: str | None = None
    recipient: str | None = None
    status: str | None = None
    diagnostic: str | None = None

    def to_update(self, channel: str = "email") -> DeliveryUpdate | None:
        """The DeliveryUpdate the hub should record, or None when the report changes nothing (a delay)."""
        if not self.original_message_id:
            return None
        status = _STATUS_FOR_ACTION.get(self.action)
        if status is None:
            return None
        error = None
        if status is DeliveryStatus.FAILED:
            parts = [p for p in (self.status, self.recipient, self.diagnostic) if p]
            error = " ".join(parts) or "bounced"
        return DeliveryUpdate(channel=channel, external_id=self.original_message_id, status=status, error=error)


_STATUS_FOR_ACTION = {
    "failed": DeliveryStatus.FAILED,
    "delivered": DeliveryStatus.DELIVERED,
    "relayed": DeliveryStatus.DELIVERED,
    "expanded": DeliveryStatus.DELIVERED,
    "displayed": DeliveryStatus.READ,
}


def parse_delivery_report(raw: bytes) -> DeliveryReport | None:
    """The delivery report in raw mail bytes (DSN, non-standard bounce, or read receipt), else None."""
    return delivery_report_of(message_from_bytes(raw, policy=RAW_HEADERS))


def delivery_report_of(message: Message) -> DeliveryReport | None:
    """The delivery report a parsed message carries, or None when it is ordinary mail."""
    if message.get_content_type() == "multipart/report":
        report_type = param(message, "report-type")
        if report_type == "delivery-status" or _find_part(message, "message/delivery-status"):
            return _from_dsn(message)
        if report_type == "disposition-notification" or _find_part(message, "message/disposition-notification"):
            return _from_mdn(message)
    if _looks_like_bounce(message):
        return _from_plain_bounce(message)
    return None


def _find_part(message: Message, content_type: str) -> Message | None:
    for part in message.walk():
        if part.get_content_type() == content_type:
            return part
    return None


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # some MTAs send the status fields as plain text, which the parser leaves as text
    text = payload if isinstance(payload, str) else ""
    chunks = [chunk for chunk in re.split(r"\r?\n\s*\r?\n", text) if chunk]
    return [HeaderParser(policy=RAW_HEADERS).parsestr(chunk + "\n") for chunk in chunks]


def _field(block: Message, name: str) -> str | None:
    value = block.get(name)
    return " ".join(str(value).split()) if value else None


def _after_type(value: str | None) -> str | None:
    # "rfc822; bob@example.com" -> "bob@example.com"
    if not value:
        return None
    return value.split(";", 1)[-1].strip() or None


def _from_dsn(message: Message) -> DeliveryReport:
    status_part = _find_part(message, "message/delivery-status")
    chosen: Message | None = None
    if status_part is not None:
        recipients = [b for b in _status_blocks(status_part) if b.get("Action") or b.get("Final-Recipient")]
        recipients.sort(key=lambda b: _rank((_field(b, "Action") or "failed").lower()))
        chosen = recipients[0] if recipients else None
    original_id, kefu = _returned_ids(message)
    if chosen is None:
        return DeliveryReport(action="failed", original_message_id=original_id, kefu_message=kefu)
    return DeliveryReport(
        action=(_field(chosen, "Action") or "failed").lower(),
        original_message_id=original_id,
        kefu_message=kefu,
        recipient=_after_type(_field(chosen, "Final-Recipient") or _field(chosen, "Original-Recipient")),
        status=_field(chosen, "Status"),
        diagnostic=_after_type(_field(chosen, "Diagnostic-Code")),
    )


def _rank(action: str) -> int:
    return _ACTIONS_BY_RANK.index(action) if action in _ACTIONS_BY_RANK else len(_ACTIONS_BY_RANK)


def _from_mdn(message: Message) -> DeliveryReport:
    part = _find_part(message, "message/disposition-notification")
    blocks = _status_blocks(part) if part is not None else []
    fields = blocks[0] if blocks else Message()
    original = bare_message_id(_field(fields, "Original-Message-ID"))
    returned, kefu = _returned_ids(message)
    disposition = (_field(fields, "Disposition") or "").lower()
    kind = disposition.rsplit(";", 1)[-1].strip() or "unknown"
    action = "displayed" if "displayed" in disposition else f"mdn-{kind}"
    return DeliveryReport(
        action=action,
        original_message_id=original or returned,
        kefu_message=kefu,
        recipient=_after_type(_field(fields, "Final-Recipient")),
    )


def _looks_like_bounce(message: Message) -> bool:
    sender = decode_header_value(message.get("From")).lower()
    address = sender[sender.find("<") + 1 : sender.rfind(">")] if "<" in sender else sender
    null_path = "Return-Path" in message and (message.get("Return-Path") or "").strip() in ("<>", "")
    subject = decode_header_value(message.get("Subject"))
    daemon = bool(_DAEMONS.match(address.strip()))
    bouncy_subject = bool(_BOUNCE_SUBJECT.search(subject))
    returned = any(
        p.get_content_type() in ("message/rfc822", "text/rfc822-headers") for p in message.walk()
    ) or bool(message.get("X-Failed-Recipients"))
    if daemon:
        return bouncy_subject or returned or not subject
    return null_path and bouncy_subject


def _from_plain_bounce(message: Message) -> DeliveryReport:
    original_id, kefu = _returned_ids(message)
    text = _all_text(message)
    code = _STATUS_CODE.search(text)
    recipient = _field(message, "X-Failed-Recipients")
    return DeliveryReport(
        action="failed",
        original_message_id=original_id,
        kefu_message=kefu,
        recipient=recipient,
        status=code.group(1) if code else None,
        diagnostic=_first_reason(text),
    )


def _returned_ids(message: Message) -> tuple[str | None, str | None]:
    """Message-ID and X-Kefu-Message of the returned original, from its attached copy or quoted headers."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return bare_message_id(inner.get("Message-ID")), _field(inner, KEFU_HEADER)
        elif kind == "text/rfc822-headers":
            headers = HeaderParser(policy=RAW_HEADERS).parsestr(_part_text(part))
            if headers.get("Message-ID"):
                return bare_message_id(headers.get("Message-ID")), _field(headers, KEFU_HEADER)
    # non-standard bounces quote the original headers in the body text
    text = _all_text(message)
    found = _MESSAGE_ID_LINE.search(text)
    kefu = _KEFU_LINE.search(text)
    return (bare_message_id(found.group(1)) if found else None, kefu.group(1) if kefu else None)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        return decode_bytes(payload, part.get_content_charset())
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _all_text(message: Message) -> str:
    chunks = [
        _part_text(part)
        for part in message.walk()
        if not part.is_multipart() and part.get_content_maintype() == "text"
    ]
    return "\n".join(chunks)


def _first_reason(text: str) -> str | None:
    for line in text.splitlines():
        stripped = line.strip()
        if re.match(r"^[45]\d\d[ -]", stripped) or _STATUS_CODE.search(stripped):
            return stripped[:300]
    return None
