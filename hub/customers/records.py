"""Writers for customer records and custom attribute definitions: each commits, then publishes."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from hub.customers import store
from hub.customers.attributes import AttributeDef, check_definition
from hub.customers.fields import RecordChanges, check_changes
from hub.domain import Conflict, NotFound
from hub.events import Bus, CustomerChanged
from hub.storage.database import Database

customers = store.customers
attribute_defs = store.attribute_defs


def _in_use(conn: Connection, key: str, value: str | None = None) -> list[Any]:
    """Live records holding a value for attribute `key` (equal to `value` when given)."""
    extracted = customers.c.attributes[key].as_string()
    condition = extracted.is_not(None) if value is None else extracted == value
    return list(
        conn.execute(
            select(customers.c.id, customers.c.attributes).where(condition, customers.c.erased_at.is_(None))
        ).all()
    )


class CustomerRecords:
    """Edits to records (checked, logged with before and after) and to attribute definitions."""

    def __init__(self, db: Database, bus: Bus, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def update(self, customer_id: int, actor: str, data: Mapping[str, Any], *, source: str = "api") -> bool:
        """Check and apply edits from the API; True when something changed (and was logged)."""
        now = self.clock()

        def tx(conn: Connection) -> bool:
            row = store.require_editable(conn, customer_id)
            changes = check_changes(data, store.load_definitions(conn))
            return store.apply_changes(conn, row, changes, actor=actor, source=source, now=now)

        changed = await self.db.run_write(tx)
        if changed:
            await self.bus.publish(CustomerChanged(customer_id, "updated"))
        return changed

    async def create(self, actor: str, data: Mapping[str, Any]) -> int:
        """A record entered by hand (a customer known before they write); returns its id."""
        now = self.clock()

        def tx(conn: Connection) -> int:
            changes = check_changes(data, store.load_definitions(conn))
            for email in changes.emails or []:
                existing = store.find_by_email(conn, email)
                if existing is not None:
                    raise Conflict(f"customer {existing} already has {email}", code="customer_exists")
            return store.create_record(conn, changes, actor=actor, source="api", now=now)

        customer_id = await self.db.run_write(tx)
        await self.bus.publish(CustomerChanged(customer_id, "created"))
        return customer_id

    # ---------------------------------------------------------------- attribute definitions

    async def define_attribute(self, data: Mapping[str, Any]) -> AttributeDef:
        """Add a custom attribute definition."""
        definition = check_definition(data)
        now = self.clock()

        def tx(conn: Connection) -> AttributeDef:
            if conn.execute(select(attribute_defs.c.key).where(attribute_defs.c.key == definition.key)).first():
                raise Conflict(f"attribute '{definition.key}' already exists", code="attribute_exists")
            position = definition.position
            if "position" not in data:
                position = int(conn.execute(select(func.count()).select_from(attribute_defs)).scalar_one())
            stored = replace(definition, position=position)
            conn.execute(insert(attribute_defs), {**_def_row(stored), "created_at": now, "updated_at": now})
            return stored

        return await self.db.run_write(tx)

    async def redefine_attribute(self, key: str, data: Mapping[str, Any]) -> AttributeDef:
        """Change a definition's label, rules or choices; a choice still in use cannot be removed."""
        now = self.clock()

        def tx(conn: Connection) -> AttributeDef:
            current = _require_definition(conn, key)
            changed = check_definition(data, current)
            for gone in sorted(set(current.choices) - set(changed.choices)):
                holders = _in_use(conn, key, gone)
                if holders:
                    raise Conflict(
                        f"{len(holders)} customer(s) have {key} = {gone!r}; change them before removing the choice",
                        code="choice_in_use",
                    )
            conn.execute(
                update(attribute_defs).where(attribute_defs.c.key == key).values(**_def_row(changed), updated_at=now)
            )
            return changed

        return await self.db.run_write(tx)

    async def delete_attribute(self, key: str, actor: str, *, purge: bool = False) -> int:
        """Remove a definition; with `purge` its values go too (each removal logged); returns values removed."""
        now = self.clock()

        def tx(conn: Connection) -> list[int]:
            _require_definition(conn, key)
            holders = _in_use(conn, key)
            if holders and not purge:
                raise Conflict(
                    f"{len(holders)} customer(s) have a value for {key}; pass purge=true to remove them too",
                    code="attribute_in_use",
                )
            for holder in holders:
                row = conn.execute(select(customers).where(customers.c.id == holder.id)).one()
                store.apply_changes(
                    conn, row, RecordChanges(attributes={key: None}), actor=actor, source="attribute_deleted", now=now
                )
            conn.execute(delete(attribute_defs).where(attribute_defs.c.key == key))
            return [h.id for h in holders]

        purged = await self.db.run_write(tx)
        for customer_id in purged:
            await self.bus.publish(CustomerChanged(customer_id, "updated"))
        return len(purged)


def _require_definition(conn: Connection, key: str) -> AttributeDef:
    row = conn.execute(select(attribute_defs).where(attribute_defs.c.key == key)).first()
    if row is None:
        raise NotFound(f"no custom attribute '{key}'")
    return store.definition_from_row(row)


def _def_row(definition: AttributeDef) -> dict[str, Any]:
    return {
        "key": definition.key,
        "label": definition.label,
        "type": definition.type,
        "choices": list(definition.choices),
        "min_value": definition.min_value,
        "max_value": definition.max_value,
        "max_length": definition.max_length,
        "description": definition.description,
        "position": definition.position,
    }
