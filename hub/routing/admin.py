"""Writers for routing settings: queues, calendars, agents' skills and capacity, a conversation's needs.

Values arrive checked (hub/routing/checks.py); these functions only enforce what needs the database:
uniqueness, references, and what must be re-evaluated after a change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from hub.domain import Conflict, DomainError, NotFound
from hub.events import ConversationChanged
from hub.routing.changes import Ctx, Outcome
from hub.routing.store import (
    OPEN_STATUSES,
    agent_queues,
    agents,
    calendars,
    conversations,
    log_entry,
    queues,
    write_log,
)

# Changing any of these changes when an SLA clock warns or breaches: clocks are evaluated afresh.
_SLA_COLUMNS = {"sla_first_response_s", "sla_resolution_s", "sla_warn_before_s", "calendar_id"}


def _check_calendar_exists(conn: Connection, values: dict[str, Any]) -> None:
    calendar_id = values.get("calendar_id")
    if (
        calendar_id is not None
        and conn.execute(select(calendars.c.id).where(calendars.c.id == calendar_id)).first() is None
    ):
        raise DomainError(f"there is no calendar {calendar_id!r}", code="unknown_calendar")


def _check_name_free(conn: Connection, name: str | None, queue_id: int | None = None) -> None:
    if name is None:
        return
    found = conn.execute(select(queues.c.id).where(queues.c.name == name)).scalar()
    if found is not None and found != queue_id:
        raise Conflict(f"a queue named {name!r} already exists", code="queue_exists")


def create_queue_tx(conn: Connection, values: dict[str, Any], ctx: Ctx) -> int:
    """Add a queue; unset settings take the table defaults."""
    _check_name_free(conn, values.get("name"))
    _check_calendar_exists(conn, values)
    row = {"skills": [], "policy": "least_busy", "offer_timeout_s": 30, "auto_accept": False, **values}
    return int(conn.execute(insert(queues).returning(queues.c.id), {**row, "created_at": ctx.now}).scalar_one())


def update_queue_tx(conn: Connection, queue_id: int, values: dict[str, Any], ctx: Ctx) -> None:
    """Change a queue's settings; SLA changes re-evaluate the clocks of its open conversations."""
    if conn.execute(select(queues.c.id).where(queues.c.id == queue_id).with_for_update()).first() is None:
        raise NotFound(f"queue {queue_id} does not exist")
    _check_name_free(conn, values.get("name"), queue_id)
    _check_calendar_exists(conn, values)
    conn.execute(update(queues).where(queues.c.id == queue_id).values(**values))
    if _SLA_COLUMNS & set(values):
        conn.execute(
            update(conversations)
            .where(conversations.c.queue_id == queue_id, conversations.c.status.in_(OPEN_STATUSES))
            .values(sla_state=None, sla_next_check_at=None)
        )


def delete_queue_tx(conn: Connection, queue_id: int, ctx: Ctx) -> None:
    """Remove a queue that no conversation ever used (history keeps its queue)."""
    if conn.execute(select(queues.c.id).where(queues.c.id == queue_id).with_for_update()).first() is None:
        raise NotFound(f"queue {queue_id} does not exist")
    used = conn.execute(select(func.count()).where(conversations.c.queue_id == queue_id)).scalar_one()
    if used:
        raise Conflict(f"{used} conversations belong to this queue; it stays for their history", code="queue_in_use")
    conn.execute(delete(agent_queues).where(agent_queues.c.queue_id == queue_id))
    conn.execute(delete(queues).where(queues.c.id == queue_id))


def set_agent_routing_tx(conn: Connection, agent_id: int, values: dict[str, Any], ctx: Ctx) -> None:
    """Set an agent's skills, languages, capacity and queues."""
    if conn.execute(select(agents.c.id).where(agents.c.id == agent_id).with_for_update()).first() is None:
        raise NotFound(f"agent {agent_id} does not exist")
    queue_ids = values.pop("queue_ids", None)
    if values:
        conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))
    if queue_ids is not None:
        known = set(conn.execute(select(queues.c.id).where(queues.c.id.in_(queue_ids))).scalars())
        missing = sorted(set(queue_ids) - known)
        if missing:
            raise DomainError(f"unknown queue ids: {missing}", code="unknown_queue")
        conn.execute(delete(agent_queues).where(agent_queues.c.agent_id == agent_id))
        if queue_ids:
            conn.execute(insert(agent_queues), [{"agent_id": agent_id, "queue_id": q} for q in queue_ids])


def create_calendar_tx(conn: Connection, values: dict[str, Any], ctx: Ctx) -> str:
    """Add a calendar under a chosen id."""
    if conn.execute(select(calendars.c.id).where(calendars.c.id == values["id"])).first() is not None:
        raise Conflict(f"a calendar {values['id']!r} already exists", code="calendar_exists")
    row = {"name": values["id"], "holidays": [], "special_hours": {}, **values, "created_at": ctx.now,
           "updated_at": ctx.now}
    conn.execute(insert(calendars), row)
    return str(values["id"])


def update_calendar_tx(conn: Connection, calendar_id: str, values: dict[str, Any], ctx: Ctx) -> None:
    """Change a calendar; the SLA clocks of queues using it are evaluated afresh."""
    if conn.execute(select(calendars.c.id).where(calendars.c.id == calendar_id)).first() is None:
        raise NotFound(f"calendar {calendar_id!r} does not exist")
    conn.execute(update(calendars).where(calendars.c.id == calendar_id).values(**values, updated_at=ctx.now))
    using = select(queues.c.id).where(queues.c.calendar_id == calendar_id).scalar_subquery()
    conn.execute(
        update(conversations)
        .where(conversations.c.queue_id.in_(using), conversations.c.status.in_(OPEN_STATUSES))
        .values(sla_state=None, sla_next_check_at=None)
    )


def delete_calendar_tx(conn: Connection, calendar_id: str, ctx: Ctx) -> None:
    """Remove a calendar no queue uses."""
    if conn.execute(select(calendars.c.id).where(calendars.c.id == calendar_id)).first() is None:
        raise NotFound(f"calendar {calendar_id!r} does not exist")
    used = conn.execute(select(queues.c.name).where(queues.c.calendar_id == calendar_id)).scalars().all()
    if used:
        raise Conflict(f"queues {', '.join(used)} use this calendar", code="calendar_in_use")
    conn.execute(delete(calendars).where(calendars.c.id == calendar_id))


def set_conversation_routing_tx(
    conn: Connection, conversation_id: int, values: dict[str, Any], actor: str, ctx: Ctx
) -> Outcome:
    """Set what a conversation needs (priority, skills, language), as a bot hand-off or a supervisor decides."""
    conv = conn.execute(
        select(
            conversations.c.id,
            conversations.c.customer_id,
            conversations.c.status,
            conversations.c.assignee_id,
            conversations.c.priority,
            conversations.c.required_skills,
            conversations.c.language,
        )
        .where(conversations.c.id == conversation_id)
        .with_for_update()
    ).first()
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    before = {k: getattr(conv, k) for k in values}
    conn.execute(
        update(conversations).where(conversations.c.id == conversation_id).values(**values, updated_at=ctx.now)
    )
    entry = log_entry(
        conv.customer_id, conv.id, "conversation.routing_changed", actor, {"before": before, "after": values}, ctx.now
    )
    write_log(conn, [entry])
    return Outcome([ConversationChanged(conv.id, conv.customer_id, conv.status, conv.assignee_id, "routing")])
