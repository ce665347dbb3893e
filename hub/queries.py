"""Read-side queries: what the API, the sockets and the dispatcher show; nothing here writes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from channels.base import Attachment, Button, OutboundMessage, ThreadHint
from hub.domain import Direction, NotFound
from hub.snapshots import WriteSnapshots
from hub.storage.database import Database
from hub.storage.tables import Agent, AgentSession, Conversation, Customer, CustomerEvent, Identity, Message

customers = Customer.__table__
identities = Identity.__table__
conversations = Conversation.__table__
messages = Message.__table__
events_log = CustomerEvent.__table__
agents = Agent.__table__
sessions = AgentSession.__table__

INBOX_VIEWS = ("queued", "mine", "assigned", "bot", "resolved", "all")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def message_view(m: Mapping[str, Any]) -> dict[str, Any]:
    """A message as the API and sockets show it, from a row mapping or the values just written."""
    return {
        "id": m["id"],
        "conversation_id": m["conversation_id"],
        "seq": m["seq"],
        "direction": m["direction"],
        "author": m["author"],
        "agent_id": m.get("agent_id"),
        "channel": m["channel"],
        "text": m["text"],
        "attachments": m.get("attachments") or [],
        "buttons": m.get("buttons") or [],
        "automated": m.get("automated", False),
        "meta": m.get("meta") or {},
        "delivery_status": m["delivery_status"],
        "delivery_error": m.get("delivery_error"),
        "created_at": _iso(m["created_at"]),
    }


def message_dict(row: Row[Any]) -> dict[str, Any]:
    """A message row as the API and sockets show it."""
    return message_view(row._mapping)


def conversation_dict(row: Row[Any]) -> dict[str, Any]:
    """A conversation summary as the inbox shows it."""
    data = {
        "id": row.id,
        "customer_id": row.customer_id,
        "channel": row.channel,
        "status": row.status,
        "priority": row.priority,
        "queue_id": row.queue_id,
        "assignee_id": row.assignee_id,
        "subject": row.subject,
        "labels": row.labels or [],
        "handoff_reason": row.handoff_reason,
        "last_seq": row.last_seq,
        "unread_count": row.unread_count,
        "last_message_preview": row.last_message_preview,
        "created_at": _iso(row.created_at),
        "enqueued_at": _iso(row.enqueued_at),
        "assigned_at": _iso(row.assigned_at),
        "first_agent_response_at": _iso(row.first_agent_response_at),
        "resolved_at": _iso(row.resolved_at),
        "last_message_at": _iso(row.last_message_at),
        "snoozed_until": _iso(row.snoozed_until),
        "csat_score": row.csat_score,
        "csat_comment": row.csat_comment,
    }
    mapping = row._mapping
    if "customer_name" in mapping:
        data["customer_name"] = mapping["customer_name"]
    return data


def customer_dict(row: Row[Any]) -> dict[str, Any]:
    """A customer record's fields."""
    return {
        "id": row.id,
        "display_name": row.display_name,
        "email": row.email,
        "phone": row.phone,
        "company": row.company,
        "position": row.position,
        "address": row.address,
        "language": row.language,
        "timezone": row.timezone,
        "lifecycle_stage": row.lifecycle_stage,
        "tier": row.tier,
        "tags": row.tags or [],
        "attributes": row.attributes or {},
        "notes": row.notes,
        "merged_into_id": row.merged_into_id,
        "created_at": _iso(row.created_at),
        "last_seen_at": _iso(row.last_seen_at),
    }


def _customer_name() -> Any:
    return func.coalesce(customers.c.display_name, customers.c.email, customers.c.phone).label("customer_name")


class Queries:
    """Read models over one Database."""

    def __init__(self, db: Database, snapshots: WriteSnapshots | None = None) -> None:
        self.db = db
        self.snapshots = snapshots

    async def inbox(
        self, view: str, agent_id: int, *, limit: int = 50, before_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Conversations for one inbox view, newest activity first (oldest waiting first when queued)."""
        query = select(conversations, _customer_name()).join(customers, customers.c.id == conversations.c.customer_id)
        if view == "queued":
            query = query.where(conversations.c.status == "queued").order_by(
                conversations.c.enqueued_at, conversations.c.id
            )
        else:
            if view == "mine":
                query = query.where(conversations.c.assignee_id == agent_id, conversations.c.status == "assigned")
            elif view in ("assigned", "bot", "resolved"):
                query = query.where(conversations.c.status == view)
            query = query.order_by(conversations.c.id.desc())
        if before_id is not None:
            query = query.where(conversations.c.id < before_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query.limit(limit))).all()
        return [conversation_dict(r) for r in rows]

    async def counts(self, agent_id: int) -> dict[str, int]:
        """How many conversations each inbox view holds."""
        async with self.db.read() as conn:
            rows = (
                await conn.execute(select(conversations.c.status, func.count()).group_by(conversations.c.status))
            ).all()
            mine = (
                await conn.execute(
                    select(func.count()).where(
                        conversations.c.assignee_id == agent_id, conversations.c.status == "assigned"
                    )
                )
            ).scalar_one()
        result = {status: n for status, n in rows}
        result["mine"] = mine
        return result

    async def conversation(self, conversation_id: int) -> dict[str, Any]:
        """One conversation with its customer name, or NotFound."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(conversations, _customer_name())
                    .join(customers, customers.c.id == conversations.c.customer_id)
                    .where(conversations.c.id == conversation_id)
                )
            ).first()
        if row is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        return conversation_dict(row)

    async def messages(
        self, conversation_id: int, *, after_seq: int = 0, include_notes: bool = True, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Messages of a conversation in sequence order."""
        query = select(messages).where(messages.c.conversation_id == conversation_id, messages.c.seq > after_seq)
        if not include_notes:
            query = query.where(messages.c.direction != Direction.NOTE.value)
        async with self.db.read() as conn:
            rows = (await conn.execute(query.order_by(messages.c.seq).limit(limit))).all()
        return [message_dict(r) for r in rows]

    async def message(self, message_id: int) -> dict[str, Any] | None:
        """One message, or None."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).first()
        return message_dict(row) if row is not None else None

    async def message_with_audience(self, message_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A message and the conversation fields that decide who may see it."""
        if self.snapshots is not None:
            snapshot = self.snapshots.pop(message_id)
            if snapshot is not None:
                return snapshot
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        messages,
                        conversations.c.status.label("conversation_status"),
                        conversations.c.assignee_id.label("conversation_assignee_id"),
                        conversations.c.customer_id.label("conversation_customer_id"),
                    )
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .where(messages.c.id == message_id)
                )
            ).first()
        if row is None:
            return None
        audience = {
            "status": row.conversation_status,
            "assignee_id": row.conversation_assignee_id,
            "customer_id": row.conversation_customer_id,
        }
        return message_dict(row), audience

    async def customer(self, customer_id: int) -> dict[str, Any]:
        """A customer record with identities and conversations, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(customers).where(customers.c.id == customer_id))).first()
            if row is None:
                raise NotFound(f"customer {customer_id} does not exist")
            ids = (await conn.execute(select(identities).where(identities.c.customer_id == customer_id))).all()
            convs = (
                await conn.execute(
                    select(conversations, _customer_name())
                    .join(customers, customers.c.id == conversations.c.customer_id)
                    .where(conversations.c.customer_id == customer_id)
                    .order_by(conversations.c.id.desc())
                    .limit(200)
                )
            ).all()
        record = customer_dict(row)
        # Last seen is derived from messages, so the hot inbound path never rewrites the customer row.
        seen = [c.last_customer_message_at for c in convs if c.last_customer_message_at is not None]
        if seen:
            record["last_seen_at"] = _iso(max(seen))
        record["identities"] = [
            {
                "channel": i.channel,
                "address": _display_address(i.channel, i.address),
                "verified": i.verified,
                "opted_out": i.opted_out,
            }
            for i in ids
        ]
        record["conversations"] = [conversation_dict(c) for c in convs]
        return record

    async def customer_events(
        self, customer_id: int, *, limit: int = 200, before_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The customer's event log, newest first."""
        query = select(events_log).where(events_log.c.customer_id == customer_id)
        if before_id is not None:
            query = query.where(events_log.c.id < before_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query.order_by(events_log.c.id.desc()).limit(limit))).all()
        return [
            {
                "id": r.id,
                "conversation_id": r.conversation_id,
                "kind": r.kind,
                "actor": r.actor,
                "at": _iso(r.at),
                "data": r.data,
            }
            for r in rows
        ]

    async def visitor_customer(self, channel: str, address: str) -> int | None:
        """The customer behind a channel address, if any."""
        async with self.db.read() as conn:
            return (
                await conn.execute(
                    select(identities.c.customer_id).where(
                        identities.c.channel == channel, identities.c.address == address
                    )
                )
            ).scalar()

    async def channel_history(
        self, customer_id: int, channel: str, *, after: tuple[int, int] | None = None, limit: int = 500
    ) -> list[dict[str, Any]]:
        """What the customer sees on one channel: their messages and replies, in order, after a cursor."""
        query = (
            select(messages)
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(
                conversations.c.customer_id == customer_id,
                conversations.c.channel == channel,
                messages.c.direction != Direction.NOTE.value,
            )
        )
        if after is not None:
            conv_id, seq = after
            query = query.where(
                or_(
                    messages.c.conversation_id > conv_id,
                    and_(messages.c.conversation_id == conv_id, messages.c.seq > seq),
                )
            )
        query = query.order_by(messages.c.conversation_id.desc(), messages.c.seq.desc()).limit(limit)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [message_dict(r) for r in reversed(rows)]

    async def open_conversation_for(self, customer_id: int, channel: str) -> int | None:
        """The customer's latest unresolved conversation on a channel."""
        async with self.db.read() as conn:
            return (
                await conn.execute(
                    select(conversations.c.id)
                    .where(
                        conversations.c.customer_id == customer_id,
                        conversations.c.channel == channel,
                        conversations.c.status != "resolved",
                    )
                    .order_by(conversations.c.id.desc())
                    .limit(1)
                )
            ).scalar()

    async def outbound(self, message_id: int) -> OutboundMessage:
        """Build what a channel needs to send a stored reply."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        messages,
                        identities.c.address.label("recipient"),
                        identities.c.opted_out.label("opted_out"),
                        conversations.c.subject.label("subject"),
                    )
                    .join(conversations, conversations.c.id == messages.c.conversation_id)
                    .join(identities, identities.c.id == conversations.c.identity_id)
                    .where(messages.c.id == message_id)
                )
            ).first()
            if row is None:
                raise NotFound(f"message {message_id} does not exist")
            thread = await self._thread(conn, row)
            mailbox = await self._reply_from(conn, row)
        return OutboundMessage(
            message_id=row.id,
            conversation_id=row.conversation_id,
            channel=row.channel,
            recipient=row.recipient,
            text=row.text,
            html=row.html,
            buttons=tuple(Button(b["title"], b["payload"]) for b in (row.buttons or [])),
            attachments=tuple(
                Attachment(a["filename"], a["content_type"], a["size"], url=a.get("source_url"))
                for a in (row.attachments or [])
            ),
            thread=thread,
            metadata={
                "seq": row.seq,
                "author": row.author,
                "created_at": _iso(row.created_at),
                "automated": row.automated,
                "opted_out": row.opted_out,
                "attachment_hashes": [a.get("sha256") for a in (row.attachments or [])],
                **({"mailbox": mailbox} if mailbox else {}),
            },
        )

    async def _reply_from(self, conn: AsyncConnection, row: Row[Any]) -> str | None:
        # Reply from the mailbox the customer last wrote to, when the channel said which one.
        if row.channel != "email":
            return None
        meta = (
            await conn.execute(
                select(messages.c.meta)
                .where(messages.c.conversation_id == row.conversation_id, messages.c.direction == "in")
                .order_by(messages.c.seq.desc())
                .limit(1)
            )
        ).scalar()
        return (meta or {}).get("mailbox")

    async def _thread(self, conn: AsyncConnection, row: Row[Any]) -> ThreadHint | None:
        if row.channel != "email":
            return None
        refs = (
            (
                await conn.execute(
                    select(messages.c.external_id)
                    .where(
                        messages.c.conversation_id == row.conversation_id,
                        messages.c.external_id.is_not(None),
                        messages.c.id != row.id,
                    )
                    .order_by(messages.c.seq)
                )
            )
            .scalars()
            .all()
        )
        return ThreadHint(
            subject=row.subject,
            in_reply_to=refs[-1] if refs else None,
            references=tuple(refs[-20:]),
            conversation_tag=row.conversation_id,
        )

    async def agent_by_email(self, email: str) -> Row[Any] | None:
        """The agent row for a login email (active agents only)."""
        async with self.db.read() as conn:
            return (
                await conn.execute(
                    select(agents).where(agents.c.email == email.strip().lower(), agents.c.active.is_(True))
                )
            ).first()

    async def session(self, token_hash: str, now: datetime) -> Row[Any] | None:
        """The live session and its agent for a cookie token hash."""
        async with self.db.read() as conn:
            return (
                await conn.execute(
                    select(
                        sessions.c.id,
                        sessions.c.csrf_token,
                        agents.c.id.label("agent_id"),
                        agents.c.name,
                        agents.c.email,
                        agents.c.role,
                        agents.c.presence,
                    )
                    .join(agents, agents.c.id == sessions.c.agent_id)
                    .where(sessions.c.id == token_hash, sessions.c.expires_at > now, agents.c.active.is_(True))
                )
            ).first()

    async def agents(self) -> list[dict[str, Any]]:
        """Every agent account, without secrets."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(agents).order_by(agents.c.id))).all()
        return [
            {"id": r.id, "name": r.name, "email": r.email, "role": r.role, "presence": r.presence, "active": r.active}
            for r in rows
        ]


def _display_address(channel: str, address: str) -> str:
    # Web visitors are known by a hashed token that means nothing to an agent.
    return "web visitor" if channel == "webchat" else address


async def conversation_recipient(db: Database, conversation_id: int) -> tuple[str, str] | None:
    """The channel and address a conversation's replies go to."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(conversations.c.channel, identities.c.address)
                .join(identities, identities.c.id == conversations.c.identity_id)
                .where(conversations.c.id == conversation_id)
            )
        ).first()
    return (row.channel, row.address) if row is not None else None
