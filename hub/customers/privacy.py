"""Data-subject requests (GDPR, PIPL): export everything Kefu holds about a person, or erase it.

Both run as one write transaction. Subsystems that keep their own personal data plug in with
`register_section(name, export, erase)`; their synchronous functions run inside that same transaction,
once for every record of the person (the record and any records merged into it). See docs/privacy.md.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, String, Table, and_, delete, insert, not_, select, update
from sqlalchemy import cast as sql_cast

from hub.customers import store
from hub.customers.reads import record_tx
from hub.domain import Conflict, NotFound
from hub.storage.bot_tables import BotConversation
from hub.storage.customer_tables import CsatRequest, CustomerContact
from hub.storage.tables import Conversation, Customer, CustomerEvent, Identity, Message, Offer

customers = cast(Table, Customer.__table__)
identities = cast(Table, Identity.__table__)
conversations = cast(Table, Conversation.__table__)
messages = cast(Table, Message.__table__)
events_log = cast(Table, CustomerEvent.__table__)
contacts = cast(Table, CustomerContact.__table__)
csat = cast(Table, CsatRequest.__table__)
bot_memory = cast(Table, BotConversation.__table__)
offers = cast(Table, Offer.__table__)

Export = Callable[[Connection, int], Any]
Erase = Callable[[Connection, int], None]
BASES = ("gdpr", "pipl", "other")
FORMAT = "kefu.customer-export/1"
# Event-log values that are codes, not things a person said or is called; every other string goes.
_SAFE_STRINGS = frozenset(
    {"channel", "author", "source", "via", "kind", "change", "status", "outcome", "target", "language", "basis",
     "reason", "intent", "category", "severity", "priority", "queue"}
)


@dataclass(frozen=True, slots=True)
class Section:
    """A subsystem's part of an export and an erasure."""

    name: str
    export: Export
    erase: Erase


_SECTIONS: dict[str, Section] = {}


def register_section(name: str, export: Export, erase: Erase) -> None:
    """Add (or replace) a subsystem's export and erase functions; both run inside the request's transaction."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError("a section name is letters, digits and _")
    _SECTIONS[name] = Section(name, export, erase)


def unregister_section(name: str) -> None:
    """Remove a section (tests, or a subsystem switched off)."""
    _SECTIONS.pop(name, None)


def sections() -> list[Section]:
    """The registered sections, in registration order."""
    return list(_SECTIONS.values())


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed, and the attachment files to delete once it committed."""

    customer_id: int
    counts: dict[str, int]
    files: tuple[str, ...] = field(default=())


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(conn: Connection, customer_id: int) -> list[int]:
    """The record and every record merged into it (directly or through others)."""
    group = [customer_id]
    frontier = [customer_id]
    while frontier:
        found = list(conn.execute(select(customers.c.id).where(customers.c.merged_into_id.in_(frontier))).scalars())
        found = [f for f in found if f not in group]
        group.extend(found)
        frontier = found
    return group


def _require_person(conn: Connection, customer_id: int) -> Any:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    if row.merged_into_id is not None:
        raise Conflict(
            f"customer {customer_id} is merged into {row.merged_into_id}; make the request for that record",
            code="merged_record",
        )
    return row


def _conversation_ids(conn: Connection, group: list[int]) -> list[int]:
    return list(conn.execute(select(conversations.c.id).where(conversations.c.customer_id.in_(group))).scalars())


# ---------------------------------------------------------------------------------------------- export


def _identities(conn: Connection, group: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(identities).where(identities.c.customer_id.in_(group)).order_by(identities.c.id))
    return [
        {"customer_id": r.customer_id, "channel": r.channel, "address": r.address, "verified": r.verified,
         "opted_out": r.opted_out, "created_at": _iso(r.created_at)}
        for r in rows
    ]


def _events(conn: Connection, group: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(events_log).where(events_log.c.customer_id.in_(group)).order_by(events_log.c.id))
    return [
        {"id": r.id, "customer_id": r.customer_id, "conversation_id": r.conversation_id, "kind": r.kind,
         "actor": r.actor, "at": _iso(r.at), "data": r.data}
        for r in rows
    ]


def _satisfaction(conn: Connection, conv_ids: list[int]) -> list[dict[str, Any]]:
    rows = conn.execute(select(csat).where(csat.c.conversation_id.in_(conv_ids or [-1])).order_by(csat.c.id))
    return [
        {"conversation_id": r.conversation_id, "channel": r.channel, "state": r.state, "asked_at": _iso(r.asked_at),
         "score": r.score, "comment": r.comment, "answered_at": _iso(r.answered_at), "via": r.answered_via}
        for r in rows
    ]


def _conversations(conn: Connection, conv_ids: list[int]) -> list[dict[str, Any]]:
    by_conversation: dict[int, list[dict[str, Any]]] = {c: [] for c in conv_ids}
    in_them = messages.c.conversation_id.in_(conv_ids or [-1])
    for m in conn.execute(select(messages).where(in_them).order_by(messages.c.conversation_id, messages.c.seq)):
        by_conversation[m.conversation_id].append(
            {"id": m.id, "seq": m.seq, "direction": m.direction, "author": m.author, "channel": m.channel,
             "text": m.text, "html": m.html, "attachments": m.attachments or [], "meta": m.meta or {},
             "created_at": _iso(m.created_at), "delivery_status": m.delivery_status}
        )
    rows = conn.execute(
        select(conversations).where(conversations.c.id.in_(conv_ids or [-1])).order_by(conversations.c.id)
    )
    return [
        {"id": c.id, "customer_id": c.customer_id, "channel": c.channel, "status": c.status, "subject": c.subject,
         "created_at": _iso(c.created_at), "resolved_at": _iso(c.resolved_at), "csat_score": c.csat_score,
         "csat_comment": c.csat_comment, "messages": by_conversation[c.id]}
        for c in rows
    ]


def export_tx(conn: Connection, customer_id: int, actor: str, now: datetime) -> dict[str, Any]:
    """Everything about one person as plain data; the export itself is logged (without its content)."""
    _require_person(conn, customer_id)
    group = _person(conn, customer_id)
    conv_ids = _conversation_ids(conn, group)
    out = {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "customer": record_tx(conn, customer_id),
        "merged_records": [record_tx(conn, other) for other in group[1:]],
        "identities": _identities(conn, group),
        "conversations": _conversations(conn, conv_ids),
        "events": _events(conn, group),
        "satisfaction": _satisfaction(conn, conv_ids),
        "sections": {
            section.name: [{"customer_id": member, "data": section.export(conn, member)} for member in group]
            for section in sections()
        },
    }
    store.log(conn, customer_id, None, "customer.exported", actor,
              {"records": len(group), "conversations": len(conv_ids)}, now)
    return out


# ---------------------------------------------------------------------------------------------- erase


def scrub(data: Any, key: str | None = None) -> Any:
    """An event's data with personal content removed: numbers, booleans and known codes stay."""
    if isinstance(data, Mapping):
        kept = {k: scrub(v, k) for k, v in data.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(data, list):
        kept_list = [scrub(v, key) for v in data]
        return [v for v in kept_list if v is not _DROP]
    if data is None or isinstance(data, bool | int | float):
        return data
    if isinstance(data, str) and key in _SAFE_STRINGS and len(data) <= 64:
        return data
    return _DROP


_DROP: Any = object()


def _files_only_here(conn: Connection, hashes: set[str], conv_ids: list[int]) -> list[str]:
    """Attachment hashes no other customer's message still points to (files are shared by content)."""
    lonely = []
    for digest in sorted(hashes):
        elsewhere = conn.execute(
            select(messages.c.id)
            .where(
                not_(messages.c.conversation_id.in_(conv_ids or [-1])),
                sql_cast(messages.c.attachments, String).contains(digest, autoescape=True),
            )
            .limit(1)
        ).first()
        if elsewhere is None:
            lonely.append(digest)
    return lonely


def erase_tx(conn: Connection, customer_id: int, actor: str, basis: str, now: datetime) -> Erasure:
    """Redact messages, anonymise the record, remove identities and contacts, scrub the log; log the erasure."""
    row = _require_person(conn, customer_id)
    if row.erased_at is not None:
        raise Conflict(f"customer {customer_id} was already erased", code="already_erased")
    group = _person(conn, customer_id)
    conv_ids = _conversation_ids(conn, group)
    in_conversations = messages.c.conversation_id.in_(conv_ids or [-1])

    hashes: set[str] = set()
    message_count = 0
    for m in conn.execute(select(messages.c.id, messages.c.attachments).where(in_conversations)):
        message_count += 1
        hashes.update(a["sha256"] for a in (m.attachments or []) if isinstance(a, dict) and a.get("sha256"))
    conn.execute(
        update(messages)
        .where(in_conversations, messages.c.delivery_status.in_(("pending", "sending")))
        .values(delivery_status="failed", delivery_error="customer erased", next_attempt_at=None)
    )
    conn.execute(
        update(messages)
        .where(in_conversations)
        .values(text="", html=None, attachments=[], meta={"erased": True}, external_id=None,
                delivery_error=None)
    )
    conn.execute(
        update(conversations)
        .where(conversations.c.id.in_(conv_ids or [-1]))
        .values(subject=None, last_message_preview=None, handoff_reason=None, csat_comment=None)
    )
    conn.execute(update(csat).where(csat.c.conversation_id.in_(conv_ids or [-1])).values(comment=None))
    conn.execute(
        update(csat)
        .where(and_(csat.c.conversation_id.in_(conv_ids or [-1]), csat.c.state == "waiting"))
        .values(state="cancelled", due_at=None)
    )
    logged = conn.execute(select(events_log.c.id, events_log.c.data).where(events_log.c.customer_id.in_(group)))
    for event in logged.all():
        cleaned = scrub(event.data or {})
        if cleaned != (event.data or {}):
            conn.execute(update(events_log).where(events_log.c.id == event.id).values(data=cleaned))

    identity_count = len(list(conn.execute(select(identities.c.id).where(identities.c.customer_id.in_(group)))))
    if conv_ids:
        # Conversations must point at an identity: one placeholder that says nothing about the person.
        placeholder = conn.execute(
            insert(identities).returning(identities.c.id),
            {"customer_id": customer_id, "channel": "erased", "address": f"customer:{customer_id}",
             "verified": False, "opted_out": True, "created_at": now},
        ).scalar_one()
        conn.execute(update(conversations).where(conversations.c.id.in_(conv_ids)).values(identity_id=placeholder))
    conn.execute(
        delete(identities).where(identities.c.customer_id.in_(group), identities.c.channel != "erased")
    )
    conn.execute(delete(contacts).where(contacts.c.customer_id.in_(group)))
    conn.execute(
        update(customers)
        .where(customers.c.id.in_(group))
        .values(display_name=None, email=None, phone=None, company=None, position=None, address=None,
                language=None, timezone=None, tags=[], attributes={}, notes=None, erased_at=now, updated_at=now)
    )
    for section in sections():
        for member in group:
            section.erase(conn, member)
    files = _files_only_here(conn, hashes, conv_ids)
    counts = {"records": len(group), "conversations": len(conv_ids), "messages": message_count,
              "identities": identity_count, "attachments": len(files)}
    store.log(conn, customer_id, None, "customer.erased", actor,
              {"basis": basis, **counts, "sections": [s.name for s in sections()]}, now)
    return Erasure(customer_id, counts, tuple(files))


# ---------------------------------------------------------------------------------------------- built-in sections


def _bot_memory_export(conn: Connection, customer_id: int) -> Any:
    rows = conn.execute(
        select(bot_memory.c.conversation_id, bot_memory.c.memory)
        .join(conversations, conversations.c.id == bot_memory.c.conversation_id)
        .where(conversations.c.customer_id == customer_id)
    ).all()
    return [{"conversation_id": r.conversation_id, "memory": r.memory} for r in rows]


def _bot_memory_erase(conn: Connection, customer_id: int) -> None:
    mine = select(conversations.c.id).where(conversations.c.customer_id == customer_id)
    conn.execute(delete(bot_memory).where(bot_memory.c.conversation_id.in_(mine)))


def _routing_notes_export(conn: Connection, customer_id: int) -> Any:
    rows = conn.execute(
        select(offers.c.conversation_id, offers.c.note)
        .join(conversations, conversations.c.id == offers.c.conversation_id)
        .where(conversations.c.customer_id == customer_id, offers.c.note.is_not(None))
    ).all()
    return [{"conversation_id": r.conversation_id, "note": r.note} for r in rows]


def _routing_notes_erase(conn: Connection, customer_id: int) -> None:
    mine = select(conversations.c.id).where(conversations.c.customer_id == customer_id)
    conn.execute(update(offers).where(offers.c.conversation_id.in_(mine)).values(note=None))


register_section("bot_memory", _bot_memory_export, _bot_memory_erase)
register_section("transfer_notes", _routing_notes_export, _routing_notes_erase)
