"""The shape every channel adapter has: what comes in, what goes out, what a channel can do."""
from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from aiohttp import web


class DeliveryStatus(str, enum.Enum):
    """Where an outbound message is on its way to the customer (inbound ones are `received`)."""

    RECEIVED = "received"
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with or goes with a message; `data` is the bytes when the adapter has them."""

    filename: str
    content_type: str
    size: int
    url: str | None = None
    data: bytes | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A choice the customer can tap; `payload` is what comes back when they do."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class ThreadHint:
    """What a channel knows about which conversation a message belongs to (email headers mostly)."""

    subject: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    conversation_tag: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, parsed by an adapter and handed to the hub."""

    channel: str
    external_id: str
    sender: str
    text: str
    sender_name: str | None = None
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    thread: ThreadHint | None = None
    received_at: datetime = field(default_factory=utcnow)
    automated: bool = False
    verified_addresses: tuple[tuple[str, str], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One stored reply on its way out through a channel."""

    message_id: int
    conversation_id: int
    channel: str
    recipient: str
    text: str
    html: str | None = None
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    thread: ThreadHint | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a provider said about one send; `retryable` failures go back to the outbox."""

    status: DeliveryStatus
    external_id: str | None = None
    error: str | None = None
    retryable: bool = False
    # Seconds the provider asked us to wait before trying again (a flood ban); the outbox waits at least this.
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        """True when the provider took the message."""
        return self.status in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ)


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A provider's later word on an outbound message (status callback, bounce, read receipt)."""

    channel: str
    external_id: str
    status: DeliveryStatus
    error: str | None = None
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can show; richer content is downgraded in channels.render, not in adapters."""

    buttons: bool = False
    attachments: bool = False
    html: bool = False
    typing: bool = False
    max_text_length: int | None = None


@dataclass(frozen=True, slots=True)
class DeliverResult:
    """What the hub did with an inbound message: stored (new or duplicate) with its ids."""

    message_id: int
    conversation_id: int
    customer_id: int
    duplicate: bool = False
    seq: int | None = None


Deliver = Callable[[InboundMessage], Awaitable[DeliverResult]]
ReportDelivery = Callable[[DeliveryUpdate], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class HubPort:
    """The only two ways an adapter reaches the hub."""

    deliver: Deliver
    report_delivery: ReportDelivery


@runtime_checkable
class Channel(Protocol):
    """A channel adapter: checks, parses, calls `deliver`, and sends; it never decides what happens next."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """Webhook routes this channel mounts ([] for pollers and listeners)."""
        ...

    async def start(self, hub: HubPort) -> None:
        """Start listening or polling; inbound messages go to `hub.deliver`."""
        ...

    async def stop(self) -> None:
        """Stop whatever `start` started."""
        ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one stored message; raise nothing for provider errors, return a failed SendResult."""
        ...
