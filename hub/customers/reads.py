"""Read side of customer records: the full record, its change history, definitions, CSAT summary."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select

from hub.customers import store
from hub.customers.history import Change, changes_in, matches
from hub.domain import NotFound
from hub.storage.customer_tables import CsatRequest
from hub.storage.database import Database
from hub.storage.tables import Conversation

conversations = cast(Table, Conversation.__table__)
csat = cast(Table, CsatRequest.__table__)
customers = store.customers
identities = store.identities
events_log = store.events_log


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _display_address(channel: str, address: str) -> str:
    # A web visitor's address is a hashed token that means nothing to an agent.
    return "web visitor" if channel == "webchat" else address


def record_tx(conn: Connection, customer_id: int) -> dict[str, Any]:
    """The whole record as the API shows it (also used by the privacy export)."""
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    state = store.snapshot(row, store.load_contacts(conn, customer_id))
    # An erased record keeps one placeholder identity (channel "erased") for its conversations; not shown.
    ids = conn.execute(
        select(identities)
        .where(identities.c.customer_id == customer_id, identities.c.channel != "erased")
        .order_by(identities.c.id)
    ).all()
    seen = conn.execute(
        select(func.max(conversations.c.last_customer_message_at)).where(conversations.c.customer_id == customer_id)
    ).scalar()
    rated = conn.execute(
        select(func.count(conversations.c.csat_score), func.avg(conversations.c.csat_score)).where(
            conversations.c.customer_id == customer_id, conversations.c.csat_score.is_not(None)
        )
    ).one()
    last = conn.execute(
        select(csat.c.conversation_id, csat.c.score, csat.c.comment, csat.c.answered_at)
        .join(conversations, conversations.c.id == csat.c.conversation_id)
        .where(conversations.c.customer_id == customer_id, csat.c.score.is_not(None))
        .order_by(csat.c.answered_at.desc())
        .limit(1)
    ).first()
    return {
        "id": row.id,
        **state,
        "merged_into_id": row.merged_into_id,
        "erased": row.erased_at is not None,
        "erased_at": _iso(row.erased_at),
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "last_seen_at": _iso(seen or row.last_seen_at),
        "identities": [
            {
                "channel": i.channel,
                "address": _display_address(i.channel, i.address),
                "verified": i.verified,
                "opted_out": i.opted_out,
            }
            for i in ids
        ],
        "csat": {
            "ratings": int(rated[0]),
            "average": round(float(rated[1]), 2) if rated[1] is not None else None,
            "last": None
            if last is None
            else {
                "conversation_id": last.conversation_id,
                "score": last.score,
                "comment": last.comment,
                "at": _iso(last.answered_at),
            },
        },
    }


class CustomerReads:
    """Queries over customer records for the API."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, customer_id: int) -> dict[str, Any]:
        """The record with contacts, attributes, identities and a CSAT summary, or NotFound."""
        async with self.db.read() as conn:
            return await conn.run_sync(record_tx, customer_id)

    async def definitions(self) -> list[dict[str, Any]]:
        """Every custom attribute definition, in display order."""
        async with self.db.read() as conn:
            found = await conn.run_sync(store.load_definitions)
        return [d.as_dict() for d in found.values()]

    async def export_page(
        self, after_id: int, limit: int, *, stage: str | None = None, tier: str | None = None
    ) -> list[dict[str, Any]]:
        """Live records (not merged away, not erased) with id > after_id, as the CSV export writes them."""
        query = select(customers).where(
            customers.c.id > after_id, customers.c.merged_into_id.is_(None), customers.c.erased_at.is_(None)
        )
        if stage:
            query = query.where(customers.c.lifecycle_stage == stage)
        if tier:
            query = query.where(customers.c.tier == tier)
        async with self.db.read() as conn:
            rows = (await conn.execute(query.order_by(customers.c.id).limit(limit))).all()
            extras: dict[int, dict[str, list[str]]] = {r.id: {"email": [], "phone": []} for r in rows}
            if rows:
                found = await conn.execute(
                    select(store.contacts.c.customer_id, store.contacts.c.kind, store.contacts.c.value)
                    .where(store.contacts.c.customer_id.in_(list(extras)))
                    .order_by(store.contacts.c.customer_id, store.contacts.c.position, store.contacts.c.id)
                )
                for contact in found:
                    extras[contact.customer_id].setdefault(contact.kind, []).append(contact.value)
        return [
            {"id": r.id, **store.snapshot(r, extras[r.id]), "created_at": _iso(r.created_at),
             "updated_at": _iso(r.updated_at)}
            for r in rows
        ]

    async def history(
        self,
        customer_id: int,
        *,
        fields: Sequence[str] = (),
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_event: int | None = None,
        limit: int = 100,
    ) -> tuple[list[Change], int | None]:
        """Field changes, newest first, filtered; with the event id to pass as `before` for the next page."""
        query = select(events_log).where(
            events_log.c.customer_id == customer_id,
            events_log.c.kind.in_(("customer.updated", "customer.created")),
        )
        if actor:
            query = query.where(events_log.c.actor == actor)
        if since is not None:
            query = query.where(events_log.c.at >= since)
        if until is not None:
            query = query.where(events_log.c.at < until)
        if before_event is not None:
            query = query.where(events_log.c.id < before_event)
        async with self.db.read() as conn:
            exists = (await conn.execute(select(customers.c.id).where(customers.c.id == customer_id))).first()
            if exists is None:
                raise NotFound(f"customer {customer_id} does not exist")
            rows = (await conn.execute(query.order_by(events_log.c.id.desc()))).all()
        out: list[Change] = []
        for row in rows:
            found = [
                c for c in changes_in(row.id, row.at, row.actor, row.kind, row.data or {})
                if not fields or matches(c, fields)
            ]
            if found and out and len(out) + len(found) > limit:
                return out, out[-1].event_id
            out.extend(found)
        return out, None
