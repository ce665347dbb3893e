"""Merging two customer records into one, and undoing it exactly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from channels.base import utcnow
from hub.actions import Actor
from hub.domain import Conflict, DomainError, NotFound
from hub.events import Bus, CustomerChanged
from hub.storage.database import Database
from hub.storage.tables import Conversation, Customer, CustomerEvent, Identity

customers = Customer.__table__
identities = Identity.__table__
conversations = Conversation.__table__
events_log = CustomerEvent.__table__


def _require_customer(conn: Connection, customer_id: int) -> Any:
    row = conn.execute(select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return row


def _ids(conn: Connection, table: Any, customer_id: int) -> list[int]:
    return list(conn.execute(select(table.c.id).where(table.c.customer_id == customer_id)).scalars())


class CustomerMerge:
    """Writes for merge and unmerge; the merge event records what moved, so undo moves exactly that back."""

    def __init__(self, db: Database, bus: Bus, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def merge(self, source_id: int, target_id: int, actor: Actor) -> None:
        """Fold `source` into `target`: identities, conversations and history move; source is kept, marked."""
        if source_id == target_id:
            raise DomainError("a customer cannot be merged into itself", code="same_customer")
        now = self.clock()

        def tx(conn: Connection) -> None:
            source = _require_customer(conn, source_id)
            target = _require_customer(conn, target_id)
            if source.merged_into_id is not None:
                raise Conflict(
                    f"customer {source_id} is already merged into {source.merged_into_id}", code="already_merged"
                )
            if target.merged_into_id is not None:
                raise Conflict(
                    f"customer {target_id} is itself merged into {target.merged_into_id}", code="target_merged"
                )
            moved = {
                "identities": _ids(conn, identities, source_id),
                "conversations": _ids(conn, conversations, source_id),
                "events": _ids(conn, events_log, source_id),
            }
            for table, key in ((identities, "identities"), (conversations, "conversations"), (events_log, "events")):
                if moved[key]:
                    conn.execute(update(table).where(table.c.id.in_(moved[key])).values(customer_id=target_id))
            conn.execute(
                update(customers).where(customers.c.id == source_id).values(merged_into_id=target_id, updated_at=now)
            )
            data = {"source_id": source_id, "target_id": target_id, "moved": moved}
            for customer_id in (target_id, source_id):
                conn.execute(
                    insert(events_log),
                    {
                        "customer_id": customer_id,
                        "conversation_id": None,
                        "kind": "customer.merged",
                        "actor": actor.label,
                        "at": now,
                        "data": data,
                    },
                )

        await self.db.run_write(tx)
        await self.bus.publish(CustomerChanged(target_id, "merged"))
        await self.bus.publish(CustomerChanged(source_id, "merged"))

    async def unmerge(self, source_id: int, actor: Actor) -> int:
        """Undo the merge of `source`: what the merge moved goes back; returns the former target."""
        now = self.clock()

        def tx(conn: Connection) -> int:
            source = _require_customer(conn, source_id)
            target_id = source.merged_into_id
            if target_id is None:
                raise Conflict(f"customer {source_id} is not merged", code="not_merged")
            merge_event = conn.execute(
                select(events_log.c.data)
                .where(events_log.c.customer_id == source_id, events_log.c.kind == "customer.merged")
                .order_by(events_log.c.id.desc())
                .limit(1)
            ).scalar_one()
            moved = merge_event["moved"]
            # Events written on the moved conversations after the merge go back with them.
            later = list(
                conn.execute(
                    select(events_log.c.id).where(
                        events_log.c.customer_id == target_id,
                        events_log.c.conversation_id.in_(moved["conversations"] or [-1]),
                    )
                ).scalars()
            )
            back = {
                "identities": moved["identities"],
                "conversations": moved["conversations"],
                "events": sorted(set(moved["events"]) | set(later)),
            }
            for table, key in ((identities, "identities"), (conversations, "conversations"), (events_log, "events")):
                if back[key]:
                    conn.execute(update(table).where(table.c.id.in_(back[key])).values(customer_id=source_id))
            conn.execute(
                update(customers).where(customers.c.id == source_id).values(merged_into_id=None, updated_at=now)
            )
            data = {"source_id": source_id, "target_id": target_id, "moved": back}
            for customer_id in (target_id, source_id):
                conn.execute(
                    insert(events_log),
                    {
                        "customer_id": customer_id,
                        "conversation_id": None,
                        "kind": "customer.unmerged",
                        "actor": actor.label,
                        "at": now,
                        "data": data,
                    },
                )
            return int(target_id)

        target_id = await self.db.run_write(tx)
        await self.bus.publish(CustomerChanged(target_id, "unmerged"))
        await self.bus.publish(CustomerChanged(source_id, "unmerged"))
        return target_id
