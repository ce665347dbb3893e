"""Synchronous building blocks for write transactions on customer records (run inside Database.run_write)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, delete, func, insert, select, update

from hub.customers.attributes import AttributeDef
from hub.customers.fields import RecordChanges
from hub.customers.history import diff
from hub.domain import Conflict, NotFound
from hub.storage.customer_tables import CustomerAttributeDef, CustomerContact
from hub.storage.tables import Customer, CustomerEvent, Identity

customers = cast(Table, Customer.__table__)
identities = cast(Table, Identity.__table__)
events_log = cast(Table, CustomerEvent.__table__)
contacts = cast(Table, CustomerContact.__table__)
attribute_defs = cast(Table, CustomerAttributeDef.__table__)

# Record field -> customers column; emails, phones and attributes are assembled separately.
SNAPSHOT_COLUMNS = {
    "name": "display_name", "company": "company", "position": "position", "address": "address",
    "notes": "notes", "language": "language", "timezone": "timezone", "lifecycle_stage": "lifecycle_stage",
    "tier": "tier", "tags": "tags",
}


def definition_from_row(row: Row[Any]) -> AttributeDef:
    """A stored definition as the pure checks want it."""
    return AttributeDef(
        key=row.key,
        label=row.label,
        type=row.type,
        choices=tuple(row.choices or ()),
        min_value=row.min_value,
        max_value=row.max_value,
        max_length=row.max_length,
        description=row.description,
        position=row.position,
    )


def load_definitions(conn: Connection) -> dict[str, AttributeDef]:
    """Every custom attribute definition, by key."""
    rows = conn.execute(select(attribute_defs).order_by(attribute_defs.c.position, attribute_defs.c.key)).all()
    return {r.key: definition_from_row(r) for r in rows}


def contact_lists(primary: str | None, extras: list[str]) -> list[str]:
    """The full list: the primary (kept on the customers row) first, then the extra ones."""
    out = [primary] if primary else []
    out.extend(v for v in extras if v not in out)
    return out


def load_contacts(conn: Connection, customer_id: int) -> dict[str, list[str]]:
    """Extra emails and phones of a customer, in order."""
    rows = conn.execute(
        select(contacts.c.kind, contacts.c.value)
        .where(contacts.c.customer_id == customer_id)
        .order_by(contacts.c.position, contacts.c.id)
    ).all()
    found: dict[str, list[str]] = {"email": [], "phone": []}
    for row in rows:
        found.setdefault(row.kind, []).append(row.value)
    return found


def snapshot(row: Row[Any], extras: Mapping[str, list[str]]) -> dict[str, Any]:
    """The editable state of a record, as history diffs it."""
    state = {name: getattr(row, column) for name, column in SNAPSHOT_COLUMNS.items()}
    state["tags"] = list(row.tags or [])
    state["emails"] = contact_lists(row.email, extras.get("email", []))
    state["phones"] = contact_lists(row.phone, extras.get("phone", []))
    state["attributes"] = dict(row.attributes or {})
    return state


def require_editable(conn: Connection, customer_id: int) -> Row[Any]:
    """The customer row, or NotFound / Conflict when it is merged away or erased."""
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    if row.erased_at is not None:
        raise Conflict(f"customer {customer_id} was erased", code="customer_erased")
    if row.merged_into_id is not None:
        raise Conflict(
            f"customer {customer_id} is merged into {row.merged_into_id}; edit that record", code="merged_record"
        )
    return row


def _write_contacts(conn: Connection, customer_id: int, kind: str, values: list[str]) -> None:
    conn.execute(delete(contacts).where(contacts.c.customer_id == customer_id, contacts.c.kind == kind))
    if len(values) > 1:
        conn.execute(
            insert(contacts),
            [
                {"customer_id": customer_id, "kind": kind, "value": v, "position": i}
                for i, v in enumerate(values[1:], start=1)
            ],
        )


def apply_changes(
    conn: Connection,
    row: Row[Any],
    changes: RecordChanges,
    *,
    actor: str,
    source: str,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Write checked changes to an existing record and log what really changed; False when nothing did."""
    before = snapshot(row, load_contacts(conn, row.id))
    after = dict(before)
    values: dict[str, Any] = dict(changes.columns)
    for name, column in SNAPSHOT_COLUMNS.items():
        if column in changes.columns:
            after[name] = changes.columns[column]
    if changes.emails is not None:
        after["emails"] = changes.emails
    if changes.phones is not None:
        after["phones"] = changes.phones
    if changes.attributes:
        attrs = dict(before["attributes"])
        for key, value in changes.attributes.items():
            if value is None:
                attrs.pop(key, None)
            else:
                attrs[key] = value
        after["attributes"] = attrs
        values["attributes"] = attrs
    old, new = diff(before, after)
    if not old:
        return False
    if changes.emails is not None and before["emails"] != after["emails"]:
        values["email"] = changes.emails[0] if changes.emails else None
        _write_contacts(conn, row.id, "email", changes.emails)
    if changes.phones is not None and before["phones"] != after["phones"]:
        values["phone"] = changes.phones[0] if changes.phones else None
        _write_contacts(conn, row.id, "phone", changes.phones)
    conn.execute(update(customers).where(customers.c.id == row.id).values(**values, updated_at=now))
    log(conn, row.id, None, "customer.updated", actor, {"before": old, "after": new, "source": source, **(extra or {})},
        now)
    return True


def create_record(
    conn: Connection,
    changes: RecordChanges,
    *,
    actor: str,
    source: str,
    now: datetime,
    extra: Mapping[str, Any] | None = None,
) -> int:
    """Insert a new record from checked changes and log its initial values."""
    emails, phones = changes.emails or [], changes.phones or []
    attrs = {k: v for k, v in changes.attributes.items() if v is not None}
    row = {
        "display_name": None, "company": None, "position": None, "address": None, "notes": None,
        "language": None, "timezone": None, "lifecycle_stage": "customer", "tier": "standard", "tags": [],
        **changes.columns,
        "email": emails[0] if emails else None,
        "phone": phones[0] if phones else None,
        "attributes": attrs,
        "created_at": now,
        "updated_at": now,
    }
    customer_id = int(conn.execute(insert(customers).returning(customers.c.id), row).scalar_one())
    _write_contacts(conn, customer_id, "email", emails)
    _write_contacts(conn, customer_id, "phone", phones)
    initial = {name: row[column] for name, column in SNAPSHOT_COLUMNS.items()}
    initial.update(emails=emails, phones=phones, attributes=attrs)
    _, after = diff({}, {k: v for k, v in initial.items() if v not in (None, [], {})})
    log(conn, customer_id, None, "customer.created", actor, {"after": after, "source": source, **(extra or {})}, now)
    return customer_id


def find_by_email(conn: Connection, email: str) -> int | None:
    """The live record that has this email (primary, extra, or as an email identity), following merges."""
    email = email.strip().lower()
    candidates = [
        select(customers.c.id).where(func.lower(customers.c.email) == email),
        select(contacts.c.customer_id).where(contacts.c.kind == "email", contacts.c.value == email),
        select(identities.c.customer_id).where(identities.c.channel == "email", identities.c.address == email),
    ]
    for query in candidates:
        for found in conn.execute(query.limit(5)).scalars():
            live = follow_merges(conn, int(found))
            if live is not None:
                return live
    return None


def find_by_phone(conn: Connection, phone: str) -> int | None:
    """The live record that has this phone (primary, extra, or as an SMS/WhatsApp identity), following merges."""
    candidates = [
        select(customers.c.id).where(customers.c.phone == phone),
        select(contacts.c.customer_id).where(contacts.c.kind == "phone", contacts.c.value == phone),
        select(identities.c.customer_id).where(
            identities.c.channel.in_(("sms", "whatsapp")), identities.c.address == phone
        ),
    ]
    for query in candidates:
        for found in conn.execute(query.limit(5)).scalars():
            live = follow_merges(conn, int(found))
            if live is not None:
                return live
    return None


def follow_merges(conn: Connection, customer_id: int) -> int | None:
    """The record a customer was (perhaps repeatedly) merged into; None if it ends in an erased record."""
    seen: set[int] = set()
    current: int | None = customer_id
    while current is not None and current not in seen:
        seen.add(current)
        row = conn.execute(
            select(customers.c.merged_into_id, customers.c.erased_at).where(customers.c.id == current)
        ).first()
        if row is None or row.erased_at is not None:
            return None
        if row.merged_into_id is None:
            return current
        current = row.merged_into_id
    return None


def log(
    conn: Connection,
    customer_id: int,
    conversation_id: int | None,
    kind: str,
    actor: str,
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    """Append one entry to the customer's event log."""
    conn.execute(
        insert(events_log),
        {
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "kind": kind,
            "actor": actor,
            "at": now,
            "data": dict(data),
        },
    )
