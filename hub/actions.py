"""The only writers: every state change is an action that commits, then publishes an event."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from channels.base import (
    Attachment,
    Button,
    DeliverResult,
    DeliveryStatus,
    DeliveryUpdate,
    InboundMessage,
    SendResult,
    utcnow,
)
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.customers.csat_store import record_reply_tx as record_csat_reply
from hub.customers.store import log as log_event
from hub.domain import (
    Author,
    Conflict,
    ConversationStatus,
    Direction,
    DomainError,
    Forbidden,
    NotFound,
    Presence,
    Priority,
    Role,
    check_transition,
    initial_status,
    should_reopen,
)
from hub.events import (
    Bus,
    ConversationChanged,
    DeliveryChanged,
    Event,
    MessageQueued,
    MessageReceived,
)
from hub.queries import message_view
from hub.snapshots import InboundFields, RecentInbound, WriteSnapshots
from hub.storage.database import Database
from hub.storage.prepared import Prepared
from hub.storage.tables import (
    Agent,
    AgentQueue,
    AgentSession,
    Conversation,
    Customer,
    CustomerEvent,
    Identity,
    Message,
    Queue,
)

log = logging.getLogger(__name__)

customers = Customer.__table__
identities = Identity.__table__
conversations = Conversation.__table__
messages = Message.__table__
events_log = CustomerEvent.__table__
agents = Agent.__table__
queues = Queue.__table__
agent_queues = AgentQueue.__table__
sessions = AgentSession.__table__

# The inbound hot path runs these for every customer message; building them once saves the
# expression construction and cache-key work SQLAlchemy would otherwise repeat per message.
_SELECT_DUPLICATE = Prepared(
    select(messages.c.id, messages.c.conversation_id, messages.c.seq, conversations.c.customer_id)
    .join(conversations, conversations.c.id == messages.c.conversation_id)
    .where(messages.c.channel == bindparam("b_channel"), messages.c.external_id == bindparam("b_external_id"))
)
_SELECT_IDENTITY = Prepared(
    select(identities.c.id, identities.c.customer_id).where(
        identities.c.channel == bindparam("b_channel"), identities.c.address == bindparam("b_address")
    )
)
_SELECT_LATEST_CONVERSATION = Prepared(
    select(conversations.c.id, conversations.c.status, conversations.c.resolved_at)
    .where(conversations.c.customer_id == bindparam("b_customer"), conversations.c.channel == bindparam("b_channel"))
    .order_by(conversations.c.id.desc())
    .limit(1)
)


def _inbound_bump(*, unread: bool) -> Prepared:
    """The conversation's update for a customer message; a CSAT rating (unread=False) is not a message to read."""
    values: dict[str, Any] = {"last_seq": conversations.c.last_seq + 1}
    if unread:
        values["unread_count"] = conversations.c.unread_count + 1
    values.update(
        last_message_at=bindparam("b_now"),
        last_customer_message_at=bindparam("b_now"),
        updated_at=bindparam("b_now"),
        last_message_preview=bindparam("b_preview"),
    )
    return Prepared(
        update(conversations)
        .where(conversations.c.id == bindparam("b_id"))
        .values(**values)
        .returning(conversations.c.last_seq, conversations.c.status, conversations.c.assignee_id)
    )


_BUMP_INBOUND = _inbound_bump(unread=True)
_NOT_LOOKED_UP = object()
# dup id (NULL: new), identity id, customer id, and the customer's latest conversation on the channel.
_SELECT_KNOWN_SENDER = Prepared(
    select(
        select(messages.c.id)
        .where(messages.c.channel == bindparam("b_channel"), messages.c.external_id == bindparam("b_external_id"))
        .scalar_subquery(),
        identities.c.id,
        identities.c.customer_id,
        conversations.c.id,
        conversations.c.status,
        conversations.c.resolved_at,
    )
    .select_from(
        identities.outerjoin(
            conversations,
            conversations.c.id
            == select(func.max(conversations.c.id))
            .where(
                conversations.c.customer_id == identities.c.customer_id,
                conversations.c.channel == bindparam("b_channel"),
            )
            .correlate(identities)
            .scalar_subquery(),
        )
    )
    .where(identities.c.channel == bindparam("b_channel"), identities.c.address == bindparam("b_address"))
)
_BUMP_RATED = _inbound_bump(unread=False)

_MESSAGE_COLUMNS = (
    "conversation_id", "seq", "direction", "author", "agent_id", "channel", "external_id", "text", "html",
    "attachments", "buttons", "meta", "automated", "delivery_status", "attempts", "created_at",
)
_INSERT_OUTBOUND = insert(messages).returning(messages.c.id)
_INSERT_MESSAGE = Prepared(insert(messages).returning(messages.c.id), _MESSAGE_COLUMNS)
_INSERT_EVENT = Prepared(
    insert(events_log), ("customer_id", "conversation_id", "kind", "actor", "at", "data")
)

PREVIEW_CHARS = 160
_LATE_CALLBACK_DELAYS = (0.5, 2.0, 5.0)
DEFAULT_QUEUE = "General"

# Delivery only moves forward; a late "sent" callback must not undo "delivered".
_DELIVERY_RANK = {
    DeliveryStatus.PENDING: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.READ: 4,
}


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: an agent (with role) or the system/bot."""

    kind: str
    agent_id: int | None = None
    role: Role | None = None

    @property
    def label(self) -> str:
        """How the event log names this actor."""
        return f"agent:{self.agent_id}" if self.agent_id is not None else self.kind

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins may act on anyone's conversations."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


SYSTEM = Actor("system")
BOT = Actor("bot")


def agent_actor(agent_id: int, role: Role | str) -> Actor:
    """An Actor for a logged-in agent."""
    return Actor("agent", agent_id, Role(role))


def backoff_delay(attempt: int, base_s: float, cap_s: float = 3600.0) -> float:
    """Exponential backoff with jitter for outbox retries: base, 2x base, 4x base... capped."""
    delay = min(cap_s, base_s * (2 ** max(0, attempt - 1)))
    return delay * random.uniform(0.8, 1.2)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:PREVIEW_CHARS]


class Actions:
    """The hub's writer: one method per state change, each commits then publishes."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        settings: Settings,
        attachments: AttachmentStore,
        clock: Callable[[], datetime] = utcnow,
        snapshots: WriteSnapshots | None = None,
    ) -> None:
        self.db = db
        self.snapshots = snapshots or WriteSnapshots()
        # Customer messages just stored, for complaint scoring right after (it then reads none back).
        self.recent_inbound = RecentInbound()
        self.bus = bus
        self.settings = settings
        self.attachments = attachments
        self.clock = clock
        self._background: set[asyncio.Task[None]] = set()

    async def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    # ---------------------------------------------------------------- inbound

    async def receive_inbound(self, msg: InboundMessage) -> DeliverResult:
        """Store one customer message: dedupe, identify, thread, insert, log; then publish."""
        if not msg.channel or not msg.sender or not msg.external_id:
            raise DomainError("inbound message needs channel, sender and external_id", code="invalid_inbound")
        stored_attachments = [await self.attachments.store(a) for a in msg.attachments]
        try:
            return await self._receive(msg, stored_attachments)
        except IntegrityError:
            # Another process stored the same (channel, external_id) first: that is a duplicate.
            existing = await self._find_existing(msg)
            if existing is not None:
                return existing
            # Or it created the same new identity a moment earlier: now we will find it.
            return await self._receive(msg, stored_attachments)

    async def ensure_default_queue(self) -> int:
        """Create the queue new conversations join, once, at start (so first messages never race for it)."""
        now = self.clock()
        try:
            return await self.db.run_write(lambda conn: self._default_queue_id(conn, now))
        except IntegrityError:
            # Another process starting on the same new database created it a moment ago.
            return await self.db.run_write(lambda conn: self._default_queue_id(conn, now))

    async def _find_existing(self, msg: InboundMessage) -> DeliverResult | None:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(messages.c.id, messages.c.conversation_id, messages.c.seq, conversations.c.customer_id)
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(messages.c.channel == msg.channel, messages.c.external_id == msg.external_id)
                )
            ).first()
        if row is None:
            return None
        return DeliverResult(row.id, row.conversation_id, row.customer_id, duplicate=True, seq=row.seq)

    async def _receive(self, msg: InboundMessage, stored_attachments: list[dict[str, Any]]) -> DeliverResult:
        now = self.clock()

        def tx(conn: Connection) -> Any:
            # A known sender (the usual case) costs one lookup: duplicate, identity and latest conversation.
            known = None
            if msg.thread is None and not msg.verified_addresses:
                known = _SELECT_KNOWN_SENDER.first(
                    conn, {"b_channel": msg.channel, "b_address": msg.sender, "b_external_id": msg.external_id}
                )
            if known is None or known[0] is not None:
                dup = _SELECT_DUPLICATE.first(conn, {"b_channel": msg.channel, "b_external_id": msg.external_id})
                if dup is not None:
                    dup_id, dup_conversation, dup_seq, dup_customer = dup
                    return DeliverResult(dup_id, dup_conversation, dup_customer, duplicate=True, seq=dup_seq)
            latest: Sequence[Any] | None | object = _NOT_LOOKED_UP
            if known is not None:
                _, identity_id, customer_id, *found = known
                latest = found if found[0] is not None else None
            else:
                customer_id, identity_id = self._identify(conn, msg, now)
            opt = msg.metadata.get("opt_out")
            if opt in ("stop", "start"):
                # STOP/START replies are the law for SMS: record them on the identity replies go to.
                conn.execute(update(identities).where(identities.c.id == identity_id).values(opted_out=opt == "stop"))
                log_event(
                    conn,
                    customer_id,
                    None,
                    f"customer.opted_{'out' if opt == 'stop' else 'in'}",
                    "customer",
                    {"channel": msg.channel},
                    now,
                )
            conversation_id, change = self._conversation_for(conn, customer_id, identity_id, msg, now, latest)
            bump = _BUMP_RATED if change == "rated" else _BUMP_INBOUND
            last_seq, status, assignee_id = bump.one(
                conn, {"b_id": conversation_id, "b_now": now, "b_preview": _preview(msg.text)}
            )
            row = {
                "conversation_id": conversation_id,
                "seq": last_seq,
                "direction": Direction.IN.value,
                "author": Author.CUSTOMER.value,
                "agent_id": None,
                "channel": msg.channel,
                "external_id": msg.external_id,
                "text": msg.text,
                "html": msg.html,
                "attachments": stored_attachments,
                "buttons": [],
                "meta": dict(msg.metadata),
                "automated": msg.automated,
                "delivery_status": DeliveryStatus.RECEIVED.value,
                "attempts": 0,
                "created_at": msg.received_at if msg.received_at.tzinfo else now,
            }
            message_id = _INSERT_MESSAGE.one(conn, row)[0]
            audience = {"status": status, "assignee_id": assignee_id, "customer_id": customer_id}
            _INSERT_EVENT.rows(
                conn,
                {
                    "customer_id": customer_id,
                    "conversation_id": conversation_id,
                    "kind": "message.received",
                    "actor": "customer",
                    "at": now,
                    "data": {"message_id": message_id, "channel": msg.channel, "text": msg.text[:2000]},
                },
            )
            changed = (
                [ConversationChanged(conversation_id, customer_id, status, assignee_id, change)]
                if change is not None
                else []
            )
            return change, conversation_id, customer_id, message_id, last_seq, changed, row, audience

        outcome = await self.db.run_write(tx, light=True)
        if isinstance(outcome, DeliverResult):
            return outcome
        change, conversation_id, customer_id, message_id, seq, changed, row, audience = outcome
        self.snapshots.put(message_view({**row, "id": message_id}), audience)
        self.recent_inbound.put(
            InboundFields(message_id, msg.text, msg.channel, conversation_id, customer_id, row["created_at"])
        )
        received = MessageReceived(message_id, conversation_id, customer_id, new_conversation=change == "opened")
        await self._publish([received, *changed])
        return DeliverResult(message_id, conversation_id, customer_id, seq=seq)

    def _identify(self, conn: Connection, msg: InboundMessage, now: datetime) -> tuple[int, int]:
        row = _SELECT_IDENTITY.first(conn, {"b_channel": msg.channel, "b_address": msg.sender})
        if row is not None:
            found_identity, found_customer = row
            if msg.verified_addresses:
                self._link_verified(conn, found_customer, msg.verified_addresses, now)
            return found_customer, found_identity
        customer_id: int | None = None
        for channel, address in msg.verified_addresses:
            found = (
                conn.execute(
                    select(identities.c.customer_id).where(
                        identities.c.channel == channel, identities.c.address == address
                    )
                )
            ).scalar()
            if found is not None:
                customer_id = found
                break
        if customer_id is None:
            customer_id = (
                conn.execute(
                    insert(customers).returning(customers.c.id),
                    {
                        "display_name": msg.sender_name,
                        "email": msg.sender if msg.channel == "email" else _verified(msg, "email"),
                        "phone": _phone(msg),
                        "lifecycle_stage": "customer",
                        "tier": "standard",
                        "tags": [],
                        "attributes": {},
                        "created_at": now,
                        "updated_at": now,
                        "last_seen_at": now,
                    },
                )
            ).scalar_one()
            log_event(conn, customer_id, None, "customer.created", "system", {"channel": msg.channel}, now)
        identity_id = (
            conn.execute(
                insert(identities).returning(identities.c.id),
                {
                    "customer_id": customer_id,
                    "channel": msg.channel,
                    "address": msg.sender,
                    "verified": False,
                    "opted_out": False,
                    "created_at": now,
                },
            )
        ).scalar_one()
        self._link_verified(conn, customer_id, msg.verified_addresses, now)
        return customer_id, identity_id

    def _link_verified(
        self, conn: Connection, customer_id: int, addresses: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        for channel, address in addresses:
            exists = (
                conn.execute(
                    select(identities.c.id).where(identities.c.channel == channel, identities.c.address == address)
                )
            ).first()
            if exists is None:
                conn.execute(
                    insert(identities),
                    {
                        "customer_id": customer_id,
                        "channel": channel,
                        "address": address,
                        "verified": True,
                        "opted_out": False,
                        "created_at": now,
                    },
                )

    def _conversation_for(
        self,
        conn: Connection,
        customer_id: int,
        identity_id: int,
        msg: InboundMessage,
        now: datetime,
        latest: Sequence[Any] | None | object = _NOT_LOOKED_UP,
    ) -> tuple[int, str | None]:
        """The conversation a message joins and what happened to it (None, "opened", "reopened").

        `latest`: the customer's latest conversation on the channel (id, status, resolved_at) if the
        caller already looked it up, None if it found none."""
        if msg.thread is not None:
            threaded = self._thread_match(conn, customer_id, msg)
            if threaded is not None:
                return self._continue(conn, threaded, now, msg=msg)
            if msg.channel == "email":
                return self._open(conn, customer_id, identity_id, msg, now), "opened"
        if latest is _NOT_LOOKED_UP:
            latest = _SELECT_LATEST_CONVERSATION.first(conn, {"b_customer": customer_id, "b_channel": msg.channel})
        if isinstance(latest, Sequence):
            latest_id, latest_status, latest_resolved_at = latest
            conversation_id, change = self._continue(conn, latest_id, now, latest_status, latest_resolved_at, msg=msg)
            if conversation_id is not None:
                return conversation_id, change
        return self._open(conn, customer_id, identity_id, msg, now), "opened"

    def _thread_match(self, conn: Connection, customer_id: int, msg: InboundMessage) -> int | None:
        hint = msg.thread
        assert hint is not None
        refs = [r for r in (hint.in_reply_to, *hint.references) if r]
        if refs:
            found = (
                conn.execute(
                    select(messages.c.conversation_id)
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(
                        messages.c.channel == msg.channel,
                        messages.c.external_id.in_(refs),
                        conversations.c.customer_id == customer_id,
                    )
                    .order_by(messages.c.id.desc())
                    .limit(1)
                )
            ).scalar()
            if found is not None:
                return int(found)
        if hint.conversation_tag is not None:
            found = (
                conn.execute(
                    select(conversations.c.id).where(
                        conversations.c.id == hint.conversation_tag, conversations.c.customer_id == customer_id
                    )
                )
            ).scalar()
            if found is not None:
                return int(found)
        return None

    def _continue(
        self,
        conn: Connection,
        conversation_id: int,
        now: datetime,
        status: str | None = None,
        resolved_at: datetime | None = None,
        *,
        msg: InboundMessage | None = None,
    ) -> tuple[Any, str | None]:
        if status is None:
            row = conn.execute(
                select(conversations.c.status, conversations.c.resolved_at).where(conversations.c.id == conversation_id)
            ).one()
            status, resolved_at = row.status, row.resolved_at
        if status != ConversationStatus.RESOLVED.value:
            return conversation_id, None
        if msg is not None and record_csat_reply(conn, conversation_id, msg, now):
            # The answer to the satisfaction question is recorded as the rating; it is not a new problem,
            # so the conversation stays resolved (any other message reopens it, below).
            return conversation_id, "rated"
        window = timedelta(hours=self.settings.reopen_window_hours)
        if not should_reopen(resolved_at, now, window):
            return None, None
        target = initial_status(self.settings.bot_enabled)
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(
                status=target.value,
                assignee_id=None,
                enqueued_at=now if target is ConversationStatus.QUEUED else None,
                resolved_at=None,
                updated_at=now,
            )
        )
        customer_id = (
            conn.execute(select(conversations.c.customer_id).where(conversations.c.id == conversation_id))
        ).scalar_one()
        log_event(conn, customer_id, conversation_id, "conversation.reopened", "customer", {}, now)
        return conversation_id, "reopened"

    def _open(self, conn: Connection, customer_id: int, identity_id: int, msg: InboundMessage, now: datetime) -> int:
        status = initial_status(self.settings.bot_enabled)
        queue_id = self._default_queue_id(conn, now)
        conversation_id = (
            conn.execute(
                insert(conversations).returning(conversations.c.id),
                {
                    "customer_id": customer_id,
                    "identity_id": identity_id,
                    "channel": msg.channel,
                    "status": status.value,
                    "priority": Priority.NORMAL.value,
                    "queue_id": queue_id,
                    "subject": (msg.thread.subject if msg.thread else None),
                    "labels": [],
                    "last_seq": 0,
                    "unread_count": 0,
                    "created_at": now,
                    "updated_at": now,
                    "enqueued_at": now if status is ConversationStatus.QUEUED else None,
                },
            )
        ).scalar_one()
        log_event(conn, customer_id, conversation_id, "conversation.opened", "customer", {"channel": msg.channel}, now)
        return int(conversation_id)

    def _default_queue_id(self, conn: Connection, now: datetime) -> int:
        found = (conn.execute(select(queues.c.id).where(queues.c.name == DEFAULT_QUEUE))).scalar()
        if found is not None:
            return int(found)
        return int(
            (
                conn.execute(
                    insert(queues).returning(queues.c.id),
                    {
                        "name": DEFAULT_QUEUE,
                        "skills": [],
                        "policy": "least_busy",
                        "offer_timeout_s": 30,
                        "auto_accept": False,
                        "created_at": now,
                    },
                )
            ).scalar_one()
        )

    def _bump_seq(
        self,
        conn: Connection,
        conversation_id: int,
        now: datetime,
        *,
        preview: str | None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        # One atomic UPDATE ... RETURNING hands out sequence numbers without gaps or doubles,
        # on SQLite and on PostgreSQL alike.
        values: dict[str, Any] = {
            "last_seq": conversations.c.last_seq + 1,
            "last_message_at": now,
            "updated_at": now,
        }
        if preview is not None:
            values["last_message_preview"] = preview
        values.update(extra or {})
        seq = (
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(**values)
                .returning(conversations.c.last_seq)
            )
        ).scalar()
        if seq is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return int(seq)


    # ---------------------------------------------------------------- replies and notes

    async def post_reply(
        self,
        conversation_id: int,
        actor: Actor,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        html: str | None = None,
        automated: bool = False,
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Store a reply to the customer in the outbox; the dispatcher sends it."""
        text = text.strip()
        if not text and not attachments:
            raise DomainError("a reply needs text or an attachment", code="empty_reply")
        stored = [await self.attachments.store(a) for a in attachments]
        now = self.clock()

        def tx(conn: Connection) -> Any:
            published: list[Event] = []
            conv = self._conversation_row(conn, conversation_id)
            if conv.status == ConversationStatus.RESOLVED.value and actor.kind == "agent":
                raise Conflict("reopen the conversation before replying", code="conversation_resolved")
            author = Author.AGENT if actor.kind == "agent" else (Author.BOT if actor.kind == "bot" else Author.SYSTEM)
            extra: dict[str, Any] = {}
            if actor.kind == "agent":
                assert actor.agent_id is not None
                if conv.assignee_id not in (None, actor.agent_id) and not actor.is_supervisor:
                    raise Forbidden("this conversation is assigned to another agent", code="not_assignee")
                if conv.assignee_id is None:
                    # Replying to a waiting conversation takes it, as agents expect.
                    extra.update(status=ConversationStatus.ASSIGNED.value, assignee_id=actor.agent_id, assigned_at=now)
                    published.append(
                        ConversationChanged(conversation_id, conv.customer_id, "assigned", actor.agent_id, "assigned")
                    )
                if conv.first_agent_response_at is None:
                    extra["first_agent_response_at"] = now
                extra["unread_count"] = 0
            seq = self._bump_seq(conn, conversation_id, now, preview=_preview(text), extra=extra)
            row = {
                "conversation_id": conversation_id,
                "seq": seq,
                "direction": Direction.OUT.value,
                "author": author.value,
                "agent_id": actor.agent_id,
                "channel": conv.channel,
                "text": text,
                "html": html,
                "attachments": stored,
                "buttons": [{"title": b.title, "payload": b.payload} for b in buttons],
                "meta": meta or {},
                "automated": automated,
                "delivery_status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            message_id = conn.execute(_INSERT_OUTBOUND, row).scalar_one()
            audience = {
                "status": extra.get("status", conv.status),
                "assignee_id": extra.get("assignee_id", conv.assignee_id),
                "customer_id": conv.customer_id,
            }
            log_event(
                conn,
                conv.customer_id,
                conversation_id,
                "message.sent",
                actor.label,
                {"message_id": message_id, "author": author.value, "text": text[:2000]},
                now,
            )
            return message_id, published, row, audience

        message_id, published, row, audience = await self.db.run_write(tx, light=True)
        self.snapshots.put(message_view({**row, "id": message_id}), audience)
        await self._publish([MessageQueued(message_id, conversation_id), *published])
        return int(message_id)

    async def add_note(self, conversation_id: int, actor: Actor, text: str) -> int:
        """Store a private note that only agents see; it is never sent."""
        text = text.strip()
        if not text:
            raise DomainError("a note needs text", code="empty_note")
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conv = self._conversation_row(conn, conversation_id)
            seq = self._bump_seq(conn, conversation_id, now, preview=None)
            message_id = (
                conn.execute(
                    insert(messages).returning(messages.c.id),
                    {
                        "conversation_id": conversation_id,
                        "seq": seq,
                        "direction": Direction.NOTE.value,
                        "author": Author.AGENT.value if actor.kind == "agent" else Author.SYSTEM.value,
                        "agent_id": actor.agent_id,
                        "channel": conv.channel,
                        "text": text,
                        "attachments": [],
                        "buttons": [],
                        "meta": {},
                        "automated": False,
                        "delivery_status": DeliveryStatus.DELIVERED.value,
                        "attempts": 0,
                        "created_at": now,
                    },
                )
            ).scalar_one()
            log_event(
                conn, conv.customer_id, conversation_id, "note.added", actor.label, {"message_id": message_id}, now
            )
            return message_id

        message_id = await self.db.run_write(tx, light=True)
        await self._publish([MessageQueued(message_id, conversation_id, note=True)])
        return int(message_id)

    def _conversation_row(self, conn: Connection, conversation_id: int) -> Any:
        row = (conn.execute(select(conversations).where(conversations.c.id == conversation_id))).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return row

    # ---------------------------------------------------------------- conversation state

    async def take_conversation(self, conversation_id: int, actor: Actor) -> None:
        """Assign a waiting conversation to the acting agent; exactly one agent wins a race."""
        assert actor.agent_id is not None
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conv = self._conversation_row(conn, conversation_id)
            if conv.assignee_id == actor.agent_id and conv.status == ConversationStatus.ASSIGNED.value:
                return None
            check_transition(ConversationStatus(conv.status), ConversationStatus.ASSIGNED)
            if conv.status == ConversationStatus.ASSIGNED.value and not actor.is_supervisor:
                raise Conflict("another agent already took this conversation", code="already_taken")
            result = conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.status == conv.status)
                .where(
                    conversations.c.assignee_id.is_(None)
                    if conv.assignee_id is None
                    else conversations.c.assignee_id == conv.assignee_id
                )
                .values(
                    status=ConversationStatus.ASSIGNED.value,
                    assignee_id=actor.agent_id,
                    assigned_at=now,
                    unread_count=0,
                    updated_at=now,
                )
            )
            if result.rowcount != 1:
                raise Conflict("another agent already took this conversation", code="already_taken")
            log_event(
                conn,
                conv.customer_id,
                conversation_id,
                "conversation.assigned",
                actor.label,
                {"agent_id": actor.agent_id},
                now,
            )
            return conv

        conv = await self.db.run_write(tx, light=True)
        if conv is None:
            return
        await self._publish(
            [ConversationChanged(conversation_id, conv.customer_id, "assigned", actor.agent_id, "assigned")]
        )

    async def resolve(self, conversation_id: int, actor: Actor) -> None:
        """Mark a conversation resolved."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conv = self._conversation_row(conn, conversation_id)
            self._check_owner(conv, actor)
            check_transition(ConversationStatus(conv.status), ConversationStatus.RESOLVED)
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(status=ConversationStatus.RESOLVED.value, resolved_at=now, updated_at=now, unread_count=0)
            )
            log_event(conn, conv.customer_id, conversation_id, "conversation.resolved", actor.label, {}, now)
            return conv

        conv = await self.db.run_write(tx, light=True)
        await self._publish(
            [ConversationChanged(conversation_id, conv.customer_id, "resolved", conv.assignee_id, "resolved")]
        )

    async def reopen(self, conversation_id: int, actor: Actor) -> None:
        """Reopen a resolved conversation and assign it to the agent who reopened it."""
        assert actor.agent_id is not None
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conv = self._conversation_row(conn, conversation_id)
            check_transition(ConversationStatus(conv.status), ConversationStatus.ASSIGNED)
            if conv.status != ConversationStatus.RESOLVED.value:
                raise Conflict("only a resolved conversation can be reopened", code="not_resolved")
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id)
                .values(
                    status=ConversationStatus.ASSIGNED.value,
                    assignee_id=actor.agent_id,
                    assigned_at=now,
                    resolved_at=None,
                    updated_at=now,
                )
            )
            log_event(conn, conv.customer_id, conversation_id, "conversation.reopened", actor.label, {}, now)
            return conv

        conv = await self.db.run_write(tx, light=True)
        await self._publish(
            [ConversationChanged(conversation_id, conv.customer_id, "assigned", actor.agent_id, "reopened")]
        )

    async def handoff(self, conversation_id: int, reason: str, details: dict[str, Any] | None = None) -> bool:
        """The bot steps aside: the conversation joins the queue, with the reason shown to agents."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conv = self._conversation_row(conn, conversation_id)
            if conv.status != ConversationStatus.BOT.value:
                return None
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.status == ConversationStatus.BOT.value)
                .values(status=ConversationStatus.QUEUED.value, enqueued_at=now, handoff_reason=reason, updated_at=now)
            )
            log_event(
                conn,
                conv.customer_id,
                conversation_id,
                "conversation.handoff",
                "bot",
                {"reason": reason, **(details or {})},
                now,
            )
            return conv

        conv = await self.db.run_write(tx, light=True)
        if conv is None:
            return False
        await self._publish([ConversationChanged(conversation_id, conv.customer_id, "queued", None, "handoff")])
        return True

    @staticmethod
    def _check_owner(conv: Any, actor: Actor) -> None:
        if actor.kind != "agent" or actor.is_supervisor:
            return
        if conv.assignee_id not in (None, actor.agent_id):
            raise Forbidden("this conversation is assigned to another agent", code="not_assignee")

    # ---------------------------------------------------------------- outbox

    async def claim_due_outbound(self, limit: int = 50, lease_s: float = 60.0) -> list[int]:
        """Claim outbound messages that are due (new, retrying, or stuck past their lease)."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            claimed: list[int] = []
            query = (
                select(messages.c.id, messages.c.delivery_status)
                .where(
                    messages.c.delivery_status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value]),
                    messages.c.next_attempt_at <= now,
                )
                .order_by(messages.c.next_attempt_at)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = (conn.execute(query)).all()
            for row in rows:
                result = conn.execute(
                    update(messages)
                    .where(messages.c.id == row.id, messages.c.delivery_status == row.delivery_status)
                    .values(
                        delivery_status=DeliveryStatus.SENDING.value,
                        attempts=messages.c.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=lease_s),
                    )
                )
                if result.rowcount == 1:
                    claimed.append(row.id)
            return claimed

        return await self.db.run_write(tx, light=True)

    async def claim_outbound(self, message_id: int, lease_s: float = 60.0) -> bool:
        """Claim one pending message for sending now; False if someone else has it."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            result = conn.execute(
                update(messages)
                .where(
                    messages.c.id == message_id,
                    messages.c.delivery_status == DeliveryStatus.PENDING.value,
                    messages.c.next_attempt_at <= now,
                )
                .values(
                    delivery_status=DeliveryStatus.SENDING.value,
                    attempts=messages.c.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=lease_s),
                )
            )
            return result.rowcount == 1

        return await self.db.run_write(tx, light=True)

    async def record_send_result(self, message_id: int, result: SendResult) -> str:
        """Write what the provider said; retryable failures go back in the outbox with backoff."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            row = (
                conn.execute(select(messages.c.attempts, messages.c.conversation_id).where(messages.c.id == message_id))
            ).one()
            values: dict[str, Any]
            if result.ok:
                values = {
                    "delivery_status": result.status.value,
                    "external_id": result.external_id,
                    "delivery_error": None,
                    "sent_at": now,
                    "next_attempt_at": None,
                }
                if result.status is DeliveryStatus.DELIVERED:
                    values["delivered_at"] = now
            elif result.retryable and row.attempts < self.settings.outbox_max_attempts:
                # A provider's "retry after" wins over a shorter backoff: trying sooner only fails again.
                delay = max(backoff_delay(row.attempts, self.settings.outbox_base_delay_s), result.retry_after or 0.0)
                values = {
                    "delivery_status": DeliveryStatus.PENDING.value,
                    "delivery_error": result.error,
                    "next_attempt_at": now + timedelta(seconds=delay),
                }
            else:
                values = {
                    "delivery_status": DeliveryStatus.FAILED.value,
                    "delivery_error": result.error or "failed",
                    "next_attempt_at": None,
                }
            conn.execute(update(messages).where(messages.c.id == message_id).values(**values))
            return row, values

        row, values = await self.db.run_write(tx, light=True)
        status = str(values["delivery_status"])
        await self._publish([DeliveryChanged(message_id, row.conversation_id, status)])
        return status

    async def record_delivery(self, update_: DeliveryUpdate, *, _attempt: int = 0) -> None:
        """Apply a provider's later status (callback, bounce, read receipt) to an outbound message."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            row = (
                conn.execute(
                    select(messages.c.id, messages.c.conversation_id, messages.c.delivery_status).where(
                        messages.c.channel == update_.channel,
                        messages.c.external_id == update_.external_id,
                        messages.c.direction == Direction.OUT.value,
                    )
                )
            ).first()
            if row is None:
                if _attempt >= len(_LATE_CALLBACK_DELAYS):
                    log.info("delivery update for unknown %s message %s", update_.channel, update_.external_id)
                return None
            current = DeliveryStatus(row.delivery_status)
            if update_.status is not DeliveryStatus.FAILED and current in _DELIVERY_RANK:
                if _DELIVERY_RANK.get(update_.status, 0) <= _DELIVERY_RANK[current]:
                    return None
            values: dict[str, Any] = {"delivery_status": update_.status.value}
            if update_.status is DeliveryStatus.FAILED:
                values["delivery_error"] = update_.error or "failed"
            if update_.status is DeliveryStatus.DELIVERED:
                values["delivered_at"] = update_.at or now
            conn.execute(update(messages).where(messages.c.id == row.id).values(**values))
            return row

        row = await self.db.run_write(tx, light=True)
        if row is not None:
            await self._publish([DeliveryChanged(row.id, row.conversation_id, update_.status.value)])
        elif _attempt < len(_LATE_CALLBACK_DELAYS):
            # A provider can report a status before the send result naming its id is written.
            task = asyncio.create_task(self._retry_delivery(update_, _attempt))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _retry_delivery(self, update_: DeliveryUpdate, attempt: int) -> None:
        await asyncio.sleep(_LATE_CALLBACK_DELAYS[attempt])
        await self.record_delivery(update_, _attempt=attempt + 1)

    # ---------------------------------------------------------------- agents and sessions

    async def create_agent(self, *, name: str, email: str, password_hash: str, role: Role = Role.AGENT) -> int:
        """Add an agent account; emails are unique, case-insensitively."""
        email = email.strip().lower()
        if not name.strip() or "@" not in email:
            raise DomainError("an agent needs a name and a valid email", code="invalid_agent")
        now = self.clock()

        def tx(conn: Connection) -> Any:
            exists = (conn.execute(select(agents.c.id).where(agents.c.email == email))).scalar()
            if exists is not None:
                raise Conflict(f"an agent with email {email} already exists", code="agent_exists")
            agent_id = (
                conn.execute(
                    insert(agents).returning(agents.c.id),
                    {
                        "name": name.strip(),
                        "email": email,
                        "password_hash": password_hash,
                        "role": role.value,
                        "presence": Presence.OFFLINE.value,
                        "skills": [],
                        "languages": [],
                        "capacity": {"chat": 3, "email": 10},
                        "active": True,
                        "created_at": now,
                    },
                )
            ).scalar_one()
            return agent_id

        agent_id = await self.db.run_write(tx)
        return int(agent_id)

    async def create_session(self, agent_id: int, token_hash: str, csrf_token: str, ttl: timedelta) -> None:
        """Record a login; the browser keeps the token, the database only its hash."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(
                insert(sessions),
                {
                    "id": token_hash,
                    "agent_id": agent_id,
                    "csrf_token": csrf_token,
                    "created_at": now,
                    "expires_at": now + ttl,
                },
            )
            conn.execute(
                update(agents)
                .where(agents.c.id == agent_id)
                .values(last_activity_at=now, presence=Presence.AVAILABLE.value)
            )

        await self.db.run_write(tx)

    async def end_session(self, token_hash: str) -> None:
        """Log out: the session row is deleted."""

        def tx(conn: Connection) -> Any:
            conn.execute(delete(sessions).where(sessions.c.id == token_hash))

        await self.db.run_write(tx)


def _verified(msg: InboundMessage, channel: str) -> str | None:
    for ch, address in msg.verified_addresses:
        if ch == channel:
            return address
    return None


def _phone(msg: InboundMessage) -> str | None:
    if msg.channel in ("sms", "whatsapp"):
        return msg.sender.removeprefix("whatsapp:")
    return _verified(msg, "phone")
