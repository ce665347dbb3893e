"""Console writes: labels, priority, snooze and canned responses; each commits, then publishes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from channels.base import utcnow
from hub.domain import Conflict, DomainError, NotFound
from hub.events import Bus, ConversationChanged, Event
from hub.storage.console_tables import CannedResponse
from hub.storage.database import Database
from hub.storage.tables import Conversation

conversations = Conversation.__table__
canned = CannedResponse.__table__

PRIORITIES = ("urgent", "high", "normal", "low")
MAX_LABELS = 20
MAX_LABEL_LEN = 40


@dataclass(frozen=True, slots=True)
class AgentMentioned(Event):
    """An agent was @mentioned in a private note."""

    name: ClassVar[str] = "console.mentioned"
    conversation_id: int
    message_id: int
    agent_id: int
    by_agent_id: int


@dataclass(frozen=True, slots=True)
class CannedChanged(Event):
    """The team's canned responses changed."""

    name: ClassVar[str] = "console.canned_changed"
    canned_id: int


def check_labels(value: Any) -> list[str]:
    """A clean, de-duplicated label list, or a 400."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DomainError("'labels' must be a list of strings", code="invalid_field")
    labels: list[str] = []
    for raw in value:
        label = raw.strip()
        if not label or len(label) > MAX_LABEL_LEN:
            raise DomainError(f"a label is 1 to {MAX_LABEL_LEN} characters", code="invalid_field")
        if label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise DomainError(f"at most {MAX_LABELS} labels", code="invalid_field")
    return labels


def canned_dict(row: Any) -> dict[str, Any]:
    """A canned response as the API shows it."""
    return {
        "id": row.id,
        "shortcut": row.shortcut,
        "title": row.title,
        "text": row.text,
        "created_by": row.created_by,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


class ConsoleWrites:
    """The console's own writers (the hub's actions keep messages and state changes)."""

    def __init__(self, db: Database, bus: Bus, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def _publish(self, events: Sequence[Event]) -> None:
        for event in events:
            await self.bus.publish(event)

    async def set_meta(self, conversation_id: int, values: dict[str, Any]) -> None:
        """Change labels, priority and/or snoozed_until (already checked) on one conversation."""
        now = self.clock()

        def tx(conn: Connection) -> Any:
            row = conn.execute(
                select(conversations.c.customer_id, conversations.c.status, conversations.c.assignee_id).where(
                    conversations.c.id == conversation_id
                )
            ).first()
            if row is None:
                raise NotFound(f"conversation {conversation_id} does not exist")
            conn.execute(
                update(conversations).where(conversations.c.id == conversation_id).values(**values, updated_at=now)
            )
            return row

        row = await self.db.run_write(tx)
        change = "+".join(sorted(values))
        await self._publish(
            [ConversationChanged(conversation_id, row.customer_id, row.status, row.assignee_id, change)]
        )

    async def mentioned(self, conversation_id: int, message_id: int, agent_ids: list[int], by_agent_id: int) -> None:
        """Tell mentioned agents (nothing to store: the note itself is the record)."""
        await self._publish(
            [AgentMentioned(conversation_id, message_id, agent_id, by_agent_id) for agent_id in agent_ids]
        )

    async def create_canned(self, shortcut: str, title: str, text: str, agent_id: int) -> int:
        """Add a canned response; shortcuts are unique."""
        now = self.clock()

        def tx(conn: Connection) -> int:
            # Checked first so a duplicate is a clean 409 (the unique index still guards races).
            if conn.execute(select(canned.c.id).where(canned.c.shortcut == shortcut)).first() is not None:
                raise Conflict(f"the shortcut /{shortcut} is taken", code="shortcut_taken")
            return int(
                conn.execute(
                    insert(canned).returning(canned.c.id),
                    {
                        "shortcut": shortcut,
                        "title": title,
                        "text": text,
                        "created_by": agent_id,
                        "created_at": now,
                        "updated_at": now,
                    },
                ).scalar_one()
            )

        try:
            canned_id = await self.db.run_write(tx)
        except IntegrityError as exc:
            raise Conflict(f"the shortcut /{shortcut} is taken", code="shortcut_taken") from exc
        await self._publish([CannedChanged(canned_id)])
        return canned_id

    async def update_canned(self, canned_id: int, values: dict[str, Any]) -> None:
        """Edit a canned response."""
        now = self.clock()

        def tx(conn: Connection) -> None:
            if (
                "shortcut" in values
                and conn.execute(
                    select(canned.c.id).where(canned.c.shortcut == values["shortcut"], canned.c.id != canned_id)
                ).first()
                is not None
            ):
                raise Conflict("that shortcut is taken", code="shortcut_taken")
            done = conn.execute(update(canned).where(canned.c.id == canned_id).values(**values, updated_at=now))
            if done.rowcount == 0:
                raise NotFound(f"canned response {canned_id} does not exist")

        try:
            await self.db.run_write(tx)
        except IntegrityError as exc:
            raise Conflict("that shortcut is taken", code="shortcut_taken") from exc
        await self._publish([CannedChanged(canned_id)])

    async def delete_canned(self, canned_id: int) -> None:
        """Remove a canned response."""

        def tx(conn: Connection) -> None:
            done = conn.execute(delete(canned).where(canned.c.id == canned_id))
            if done.rowcount == 0:
                raise NotFound(f"canned response {canned_id} does not exist")

        await self.db.run_write(tx)
        await self._publish([CannedChanged(canned_id)])
