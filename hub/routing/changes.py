"""Row changes the routing writers share: withdrawing offers, interval bookkeeping, requeues, presence moves.

Lock order, everywhere: agents, then offers, then conversations, then intervals and logs; keeping to it
means two hub processes on one PostgreSQL never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, delete, insert, select, update

from hub.events import ConversationChanged, Event, OfferEnded, PresenceChanged
from hub.routing.config import RoutingSettings
from hub.routing.lifecycle import on_agent_offline
from hub.routing.model import ConversationStatus, Presence, Requeue
from hub.routing.store import (
    agents,
    assignment_intervals,
    conversations,
    insert_ignoring,
    load_queues,
    log_entry,
    offers,
    open_conversation,
    presence_intervals,
    write_log,
)

ROUTING = "routing"


@dataclass(frozen=True, slots=True)
class Ctx:
    """What every routing write needs: the instant it acts at, the settings, and which process acts."""

    now: datetime
    settings: RoutingSettings = RoutingSettings()
    node: str = "hub"


@dataclass(slots=True)
class Outcome:
    """What a write changed, for the caller to publish after commit (and a conflict, when it lost a race)."""

    events: list[Event] = field(default_factory=list)
    conflict: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def delete_offers(conn: Connection, where: ColumnElement[bool], outcome: str, actor: str, ctx: Ctx) -> list[Event]:
    """Remove the offers matching `where`, logging each as `routing.offer_<outcome>`."""
    rows = conn.execute(
        select(
            offers.c.id,
            offers.c.conversation_id,
            offers.c.agent_id,
            offers.c.kind,
            offers.c.from_agent_id,
            conversations.c.customer_id,
        )
        .join(conversations, conversations.c.id == offers.c.conversation_id)
        .where(where)
        .with_for_update(of=offers)
    ).all()
    return _drop_offer_rows(conn, rows, outcome, actor, ctx)


def _drop_offer_rows(conn: Connection, rows: Sequence[Any], outcome: str, actor: str, ctx: Ctx) -> list[Event]:
    if not rows:
        return []
    conn.execute(delete(offers).where(offers.c.id.in_([r.id for r in rows])))
    write_log(
        conn,
        [
            log_entry(
                r.customer_id,
                r.conversation_id,
                f"routing.offer_{outcome}",
                actor,
                {"agent_id": r.agent_id, "kind": r.kind},
                ctx.now,
            )
            for r in rows
        ],
    )
    return [OfferEnded(r.conversation_id, r.agent_id, outcome, r.from_agent_id) for r in rows]


def close_assignment(conn: Connection, conversation_id: int, at: datetime, reason: str) -> None:
    """End the open assignment interval of a conversation, if there is one."""
    conn.execute(
        update(assignment_intervals)
        .where(assignment_intervals.c.conversation_id == conversation_id, assignment_intervals.c.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )


def open_assignment(conn: Connection, agent_id: int, conversation_id: int, at: datetime) -> None:
    """Start an assignment interval; a second process noticing the same assignment adds nothing."""
    conn.execute(
        insert_ignoring(conn, assignment_intervals, "conversation_id", where=assignment_intervals.c.ended_at.is_(None)),
        {"agent_id": agent_id, "conversation_id": conversation_id, "started_at": at},
    )


def assign(conn: Connection, conv: Any, agent_id: int, ctx: Ctx, *, expected_assignee: int | None) -> bool:
    """Give a queued (or transferred) conversation to an agent if nobody moved it meanwhile."""
    expected = ConversationStatus.QUEUED.value if expected_assignee is None else ConversationStatus.ASSIGNED.value
    result = conn.execute(
        update(conversations)
        .where(
            conversations.c.id == conv.id,
            conversations.c.status == expected,
            conversations.c.assignee_id.is_not_distinct_from(expected_assignee),
        )
        .values(
            status=ConversationStatus.ASSIGNED.value,
            assignee_id=agent_id,
            assigned_at=ctx.now,
            updated_at=ctx.now,
        )
    )
    if result.rowcount != 1:
        return False
    conn.execute(
        update(agents).where(agents.c.id == agent_id).values(missed_offers_in_a_row=0, last_assignment_at=ctx.now)
    )
    if expected_assignee is not None:
        close_assignment(conn, conv.id, ctx.now, "transferred")
    open_assignment(conn, agent_id, conv.id, ctx.now)
    return True


def requeue(
    conn: Connection, req: Requeue, conv: Any, change: str, actor: str, ctx: Ctx, note: str | None = None
) -> list[Event]:
    """Put an assigned (or waiting) conversation back in a queue, unassigned, keeping its place in line."""
    events = delete_offers(conn, offers.c.conversation_id == req.conversation_id, "withdrawn", actor, ctx)
    declined = dict(conv.declined_by or {})
    for agent_id in req.exclude_agent_ids:
        declined.setdefault(str(agent_id), ctx.now.timestamp())
    if req.from_agent_id is not None:
        declined[str(req.from_agent_id)] = ctx.now.timestamp()
    values: dict[str, Any] = {
        "status": ConversationStatus.QUEUED.value,
        "assignee_id": None,
        "queue_id": req.queue_id,
        "enqueued_at": req.enqueued_at,
        "declined_by": declined,
        "updated_at": ctx.now,
    }
    if conv.queue_id != req.queue_id:
        # A new queue brings its own SLA targets and calendar: evaluate afresh.
        values.update(sla_state=None, sla_next_check_at=None, out_of_hours_notified_at=None)
    result = conn.execute(
        update(conversations)
        .where(
            conversations.c.id == conv.id,
            conversations.c.status == conv.status,
            conversations.c.assignee_id.is_not_distinct_from(conv.assignee_id),
        )
        .values(**values)
    )
    if result.rowcount != 1:
        return events
    close_assignment(conn, conv.id, ctx.now, req.reason)
    data: dict[str, Any] = {"from_agent_id": req.from_agent_id, "queue_id": req.queue_id, "reason": req.reason}
    if note:
        data["note"] = note
    write_log(conn, [log_entry(conv.customer_id, conv.id, "conversation.requeued", actor, data, ctx.now)])
    events.append(ConversationChanged(conv.id, conv.customer_id, ConversationStatus.QUEUED.value, None, change))
    return events


def change_presence(
    conn: Connection,
    agent_id: int,
    old: str,
    new: str,
    reason: str,
    ctx: Ctx,
    *,
    at: datetime | None = None,
    write_column: bool = True,
) -> list[Event]:
    """Move an agent between presences: intervals, idle clock, withdrawn offers, and requeues when offline."""
    at = at or ctx.now
    values: dict[str, Any] = {"presence": new} if write_column else {}
    if new == Presence.AVAILABLE.value:
        # A fresh start: the idle clock restarts and earlier misses no longer count toward going away.
        values.update(available_since=at, missed_offers_in_a_row=0)
    if values:
        conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))
    conn.execute(
        update(presence_intervals)
        .where(presence_intervals.c.agent_id == agent_id, presence_intervals.c.ended_at.is_(None))
        .values(ended_at=at)
    )
    if new != Presence.OFFLINE.value:
        conn.execute(
            insert(presence_intervals),
            {"agent_id": agent_id, "presence": new, "reason": reason, "started_at": at},
        )
    events: list[Event] = [PresenceChanged(agent_id, new, reason)]
    if old == Presence.AVAILABLE.value and new != Presence.AVAILABLE.value:
        events += delete_offers(conn, offers.c.agent_id == agent_id, "withdrawn", ROUTING, ctx)
    if new == Presence.OFFLINE.value:
        events += requeue_for_offline(conn, agent_id, ctx)
    return events


def requeue_for_offline(conn: Connection, agent_id: int, ctx: Ctx) -> list[Event]:
    """Requeue an offline agent's conversations whose queue says so for their channel type."""
    rows = conn.execute(
        select(conversations)
        .where(
            conversations.c.assignee_id == agent_id,
            conversations.c.status == ConversationStatus.ASSIGNED.value,
        )
        .order_by(conversations.c.id)
    ).all()
    if not rows:
        return []
    memory = ctx.settings.decline_memory_s
    plan = on_agent_offline(
        agent_id, [open_conversation(r, ctx.now, memory) for r in rows], (), load_queues(conn), ctx.now
    )
    if not plan.requeue:
        return []
    # Offers before conversations (the lock order); each requeue below is conditional on the row unchanged.
    moving = [req.conversation_id for req in plan.requeue]
    events = delete_offers(conn, offers.c.conversation_id.in_(moving), "withdrawn", ROUTING, ctx)
    by_id = {r.id: r for r in rows}
    for req in plan.requeue:
        events += requeue(conn, req, by_id[req.conversation_id], "requeued", ROUTING, ctx)
    return events
