"""A customer's timeline: every exchange and state change, from the event log, filtered and paged by cursor.

The customer event log already holds one row per message in or out, per note and per state change,
indexed by (customer_id, at); the timeline walks that index and joins each message row by id for its
full text, author and channel, so a page costs the same for a customer with ten messages or ten thousand.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.domain import DomainError, NotFound
from hub.storage.database import Database
from hub.storage.tables import Conversation, Customer, CustomerEvent, Message

events_log = cast(Table, CustomerEvent.__table__)
messages = cast(Table, Message.__table__)
conversations = cast(Table, Conversation.__table__)
customers = cast(Table, Customer.__table__)

KINDS = ("customer", "bot", "agent", "system", "note", "state", "record", "csat", "complaint", "routing", "other")
MESSAGE_EVENTS = ("message.received", "message.sent", "note.added")
_PREFIXES = {"state": "conversation.", "record": "customer.", "csat": "csat.", "complaint": "complaint.",
             "routing": "routing."}
MAX_LIMIT = 200
MAX_TEXT = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    """What to show: kinds, channels, a time range, a text to find, order and page size."""

    kinds: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    newest_first: bool = True
    limit: int = 50
    cursor: tuple[datetime, int] | None = None


def category(event_kind: str, author: str | None) -> str:
    """The timeline kind of one log entry (a message's author, note, state, record, csat, complaint...)."""
    if event_kind == "message.received":
        return "customer"
    if event_kind == "message.sent":
        return author if author in ("bot", "agent", "system") else "system"
    if event_kind == "note.added":
        return "note"
    for name, prefix in _PREFIXES.items():
        if event_kind.startswith(prefix):
            return name
    return "other"


def encode_cursor(at: datetime, event_id: int) -> str:
    """An opaque cursor for the entry after which the next page starts."""
    micros = (at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
    return base64.urlsafe_b64encode(f"{micros}:{event_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[datetime, int]:
    """The position a cursor names, or a 400."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        micros, event_id = text.split(":")
        at = _EPOCH + timedelta(microseconds=int(micros))
        return at, int(event_id)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise DomainError("cursor is not one this API gave out", code="invalid_cursor") from None


def _moment(name: str, raw: str, *, end: bool) -> datetime:
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            # A bare date as `to` means the whole of that day.
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + (timedelta(days=1) if end else timedelta())
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{name} must be a date (2025-03-31) or an ISO 8601 time", code=f"invalid_{name}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_query(params: Mapping[str, str]) -> TimelineQuery:
    """A TimelineQuery from URL parameters (kind, channel, from, to, q, order, limit, cursor); 400 on bad ones."""
    kinds = frozenset(k.strip() for k in params.get("kind", "").split(",") if k.strip())
    unknown = sorted(kinds - set(KINDS))
    if unknown:
        raise DomainError(f"unknown kind {', '.join(unknown)}; use {', '.join(KINDS)}", code="invalid_kind")
    channels = frozenset(c.strip() for c in params.get("channel", "").split(",") if c.strip())
    since = _moment("from", params["from"], end=False) if params.get("from") else None
    until = _moment("to", params["to"], end=True) if params.get("to") else None
    if since and until and since >= until:
        raise DomainError("from must be before to", code="invalid_range")
    text = params.get("q", "").strip() or None
    if text and len(text) > MAX_TEXT:
        raise DomainError(f"q is longer than {MAX_TEXT} characters", code="invalid_q")
    order = params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise DomainError("order must be asc or desc", code="invalid_order")
    try:
        limit = int(params.get("limit", "50"))
    except ValueError:
        raise DomainError("limit must be a whole number", code="invalid_limit") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise DomainError(f"limit must be between 1 and {MAX_LIMIT}", code="invalid_limit")
    cursor = decode_cursor(params["cursor"]) if params.get("cursor") else None
    return TimelineQuery(kinds, channels, since, until, text, order == "desc", limit, cursor)


def _kind_condition(kind: str) -> Any:
    if kind == "customer":
        return events_log.c.kind == "message.received"
    if kind in ("bot", "agent", "system"):
        return and_(events_log.c.kind == "message.sent", messages.c.author == kind)
    if kind == "note":
        return events_log.c.kind == "note.added"
    if kind == "other":
        return not_(
            or_(
                events_log.c.kind.in_(MESSAGE_EVENTS),
                *(events_log.c.kind.startswith(p, autoescape=True) for p in _PREFIXES.values()),
            )
        )
    return events_log.c.kind.startswith(_PREFIXES[kind], autoescape=True)


def build(customer_id: int, query: TimelineQuery) -> Select[Any]:
    """The SQL for one page (one row more than the limit, to know whether another page follows)."""
    message_id = events_log.c.data["message_id"].as_integer()
    channel = func.coalesce(messages.c.channel, conversations.c.channel)
    stmt = (
        select(
            events_log.c.id,
            events_log.c.kind,
            events_log.c.actor,
            events_log.c.at,
            events_log.c.conversation_id,
            events_log.c.data,
            channel.label("channel"),
            messages.c.id.label("message_id"),
            messages.c.direction,
            messages.c.author,
            messages.c.agent_id,
            messages.c.seq,
            messages.c.text,
            messages.c.attachments,
            messages.c.buttons,
            messages.c.delivery_status,
            messages.c.automated,
        )
        .select_from(
            events_log.outerjoin(
                messages, and_(events_log.c.kind.in_(MESSAGE_EVENTS), messages.c.id == message_id)
            ).outerjoin(conversations, conversations.c.id == events_log.c.conversation_id)
        )
        .where(events_log.c.customer_id == customer_id)
    )
    if query.kinds:
        stmt = stmt.where(or_(*(_kind_condition(k) for k in sorted(query.kinds))))
    if query.channels:
        stmt = stmt.where(channel.in_(sorted(query.channels)))
    if query.since is not None:
        stmt = stmt.where(events_log.c.at >= query.since)
    if query.until is not None:
        stmt = stmt.where(events_log.c.at < query.until)
    if query.text:
        stmt = stmt.where(
            or_(
                messages.c.text.icontains(query.text, autoescape=True),
                events_log.c.data["comment"].as_string().icontains(query.text, autoescape=True),
            )
        )
    if query.cursor is not None:
        at, event_id = query.cursor
        if query.newest_first:
            # The redundant `at <=` lets the (customer_id, at) index bound the scan.
            later = or_(events_log.c.at < at, and_(events_log.c.at == at, events_log.c.id < event_id))
            stmt = stmt.where(events_log.c.at <= at, later)
        else:
            earlier = or_(events_log.c.at > at, and_(events_log.c.at == at, events_log.c.id > event_id))
            stmt = stmt.where(events_log.c.at >= at, earlier)
    if query.newest_first:
        stmt = stmt.order_by(events_log.c.at.desc(), events_log.c.id.desc())
    else:
        stmt = stmt.order_by(events_log.c.at, events_log.c.id)
    return stmt.limit(query.limit + 1)


def item(row: Any) -> dict[str, Any]:
    """One timeline entry as the API shows it."""
    entry: dict[str, Any] = {
        "id": row.id,
        "at": row.at.isoformat(),
        "kind": category(row.kind, row.author),
        "event": row.kind,
        "actor": row.actor,
        "conversation_id": row.conversation_id,
        "channel": row.channel,
    }
    if row.message_id is not None:
        entry["message"] = {
            "id": row.message_id,
            "seq": row.seq,
            "direction": row.direction,
            "author": row.author,
            "agent_id": row.agent_id,
            "text": row.text,
            "attachments": row.attachments or [],
            "buttons": row.buttons or [],
            "automated": row.automated,
            "delivery_status": row.delivery_status,
        }
    else:
        entry["data"] = row.data or {}
    return entry


async def page(conn: AsyncConnection, customer_id: int, query: TimelineQuery) -> dict[str, Any]:
    """One page of the timeline and the cursor of the next (None at the end)."""
    rows = (await conn.execute(build(customer_id, query))).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = encode_cursor(rows[-1].at, rows[-1].id) if more and rows else None
    return {"items": [item(r) for r in rows], "next_cursor": next_cursor}


async def timeline(db: Database, customer_id: int, query: TimelineQuery) -> dict[str, Any]:
    """A page of one customer's timeline, or NotFound."""
    async with db.read() as conn:
        result = await page(conn, customer_id, query)
        # Only an empty page needs to ask whether the customer exists at all.
        if not result["items"]:
            found = (await conn.execute(select(customers.c.id).where(customers.c.id == customer_id))).first()
            if found is None:
                raise NotFound(f"customer {customer_id} does not exist")
        return result
