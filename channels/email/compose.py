"""A stored reply as an email that mail clients thread with the customer's: ids, tags, alternatives, attachments."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from channels.base import OutboundMessage, utcnow
from channels.email.ids import angled, tag_subject
from channels.email.reports import KEFU_HEADER

_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|antw|回复|回覆|答复|答覆)\s*[:：]", re.IGNORECASE)
# 7-bit transfer encodings (base64/quoted-printable) reach every server, with or without 8BITMIME.
_POLICY = SMTP.clone(cte_type="7bit")
# Long threads would grow References without bound; keep the root and the most recent ids (RFC 5322 3.6.4).
MAX_REFERENCES = 20


@dataclass(frozen=True, slots=True)
class ComposeSettings:
    """Who Kefu's mail comes from and which domain names its Message-IDs."""

    from_address: str
    domain: str
    from_name: str | None = None
    default_subject: str = "Your support request"


def outbound_message_id(message: OutboundMessage, domain: str) -> str:
    """The bare Message-ID for a stored reply; the same on every retry so recipients can drop duplicates."""
    digest = hashlib.sha256(
        f"{message.message_id}|{message.conversation_id}|{message.recipient}|{message.text}".encode()
    ).hexdigest()[:12]
    return f"kefu.{message.conversation_id}.{message.message_id}.{digest}@{domain}"


def is_automatic(message: OutboundMessage) -> bool:
    """True when nobody typed this reply (a bot answer, an acknowledgement): metadata["automated"]."""
    return bool(message.metadata.get("automated"))


def reply_subject(message: OutboundMessage, default: str) -> str:
    """The subject: the thread's, prefixed "Re:" when answering, with this conversation's "[#n]" tag."""
    thread = message.thread
    subject = (thread.subject if thread and thread.subject else None) or message.metadata.get("subject") or default
    answering = thread is not None and bool(thread.in_reply_to or thread.message_id or thread.references)
    if answering and not _REPLY_PREFIX.match(subject):
        subject = f"Re: {subject}"
    tag = thread.conversation_tag if thread and thread.conversation_tag else message.conversation_id
    return tag_subject(subject, tag)


def threading_ids(message: OutboundMessage) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) as bare ids: the customer mail being answered, and the chain before it."""
    thread = message.thread
    if thread is None:
        return None, ()
    parent = thread.in_reply_to or thread.message_id
    chain = list(dict.fromkeys(thread.references))
    if parent and parent not in chain:
        chain.append(parent)
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return parent, tuple(chain)


def checked_address(value: str) -> str:
    """The address itself when it is one plain mailbox address; ValueError for anything else (no header tricks)."""
    address = value.strip()
    if not _ADDRESS.match(address):
        raise ValueError(f"not a single email address: {address[:80]!r}")
    return address


def _body_text(message: OutboundMessage) -> str:
    links = [f"{a.filename}: {a.url}" for a in message.attachments if a.data is None and a.url]
    if not links:
        return message.text
    return f"{message.text}\n\n" + "\n".join(links)


def compose_email(
    message: OutboundMessage,
    settings: ComposeSettings,
    *,
    from_address: str | None = None,
    from_name: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for one stored reply: threading headers, tagged subject, text (+HTML) body, attachments."""
    email = EmailMessage(policy=_POLICY)
    sender = from_address or settings.from_address
    email["From"] = Address(display_name=from_name or settings.from_name or "", addr_spec=sender)
    email["To"] = checked_address(message.recipient)
    cc = message.metadata.get("cc")
    if cc:
        email["Cc"] = ", ".join(checked_address(a) for a in cc)
    email["Subject"] = reply_subject(message, settings.default_subject)
    email["Date"] = format_datetime(now or utcnow())
    email["Message-ID"] = angled(outbound_message_id(message, settings.domain))
    parent, chain = threading_ids(message)
    if parent:
        email["In-Reply-To"] = angled(parent)
    if chain:
        email["References"] = " ".join(angled(i) for i in chain)
    email[KEFU_HEADER] = f"{message.message_id}; conversation={message.conversation_id}"
    if is_automatic(message):
        email["Auto-Submitted"] = "auto-replied"
        # asks Exchange not to answer our automatic mail with its own (RFC 3834 loop avoidance)
        email["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    email.set_content(_body_text(message))
    if message.html:
        email.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        if attachment.data is None:
            continue
        maintype, _, subtype = attachment.content_type.lower().partition("/")
        if (maintype, subtype) == ("message", "rfc822"):
            # RFC 2046 forbids base64 for message/rfc822, so the mail is attached as a parsed message
            inner = message_from_bytes(attachment.data, _class=EmailMessage, policy=_POLICY)
            email.add_attachment(inner, disposition="attachment", filename=attachment.filename)
            continue
        if not subtype:
            maintype, subtype = "application", "octet-stream"
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return email
