"""Routing writers run on a timer or after other writers: presence, intervals, SLAs, closures, liveness.

Like writes.py, each function runs inside `Database.run_write`, may run twice, and hands back what to
publish instead of publishing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, exists, or_, select, update

from hub.events import ConversationChanged, Event, SlaAlert
from hub.routing.changes import (
    ROUTING,
    Ctx,
    Outcome,
    change_presence,
    close_assignment,
    delete_offers,
    open_assignment,
)
from hub.routing.lifecycle import agents_gone_silent, plan_closures
from hub.routing.model import AgentState, ConversationStatus, Presence, Priority, QueueConfig
from hub.routing.sla import plan_sla_actions, sla_status
from hub.routing.store import (
    agents,
    assignment_intervals,
    conversation_times,
    conversations,
    identities,
    insert_ignoring,
    load_calendars,
    load_queues,
    log_entry,
    offers,
    open_conversation,
    presence_intervals,
    sla_events,
    write_log,
)
from hub.routing.writes import plan_due

SLA_BATCH = 500
CLOSE_BATCH = 500
_ASSIGNED = ConversationStatus.ASSIGNED.value
_QUEUED = ConversationStatus.QUEUED.value
_RESOLVED = ConversationStatus.RESOLVED.value


# ---------------------------------------------------------------- presence


def presence_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Record presence changes made elsewhere (login, the presence API) and send silent agents away or offline."""
    now = ctx.now
    tracked = _tracked_presence(conn)
    todo = [r.id for r in tracked if _needs_change(r, ctx)]
    if not todo:
        return Outcome()
    locked = (
        conn.execute(
            select(agents.c.id).where(agents.c.id.in_(todo)).order_by(agents.c.id).with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    events: list[Event] = []
    for r in _tracked_presence(conn, locked):
        actual = _actual(r)
        was = r.tracked or Presence.OFFLINE.value
        if actual != was:
            # Someone else changed the column (and stamped last_activity_at then): date the change there.
            at = r.last_activity_at if r.last_activity_at and (r.since or now) <= r.last_activity_at <= now else now
            events += change_presence(conn, r.id, was, actual, "console", ctx, at=at, write_column=False)
        target = _silence_target(r, actual, ctx)
        if target is not None:
            events += change_presence(conn, r.id, actual, target[0], target[1], ctx)
    return Outcome(events)


def _tracked_presence(conn: Connection, ids: Sequence[int] | None = None) -> Sequence[Any]:
    query = select(
        agents.c.id,
        agents.c.presence,
        agents.c.active,
        agents.c.last_activity_at,
        presence_intervals.c.presence.label("tracked"),
        presence_intervals.c.started_at.label("since"),
    ).outerjoin(
        presence_intervals,
        and_(presence_intervals.c.agent_id == agents.c.id, presence_intervals.c.ended_at.is_(None)),
    )
    if ids is not None:
        if not ids:
            return []
        query = query.where(agents.c.id.in_(ids))
    return conn.execute(query).all()


def _actual(row: Any) -> str:
    return str(row.presence) if row.active else Presence.OFFLINE.value


def _needs_change(row: Any, ctx: Ctx) -> bool:
    return (
        _actual(row) != (row.tracked or Presence.OFFLINE.value) or _silence_target(row, _actual(row), ctx) is not None
    )


def _silence_target(row: Any, actual: str, ctx: Ctx) -> tuple[str, str] | None:
    """(presence, reason) for an agent whose console has been quiet too long, or None."""
    if actual == Presence.OFFLINE.value:
        return None
    state = [AgentState(row.id, Presence(actual), last_activity_at=row.last_activity_at)]
    offline_after = ctx.settings.offline_after_s
    if offline_after > 0 and agents_gone_silent(state, ctx.now, int(offline_after)):
        return Presence.OFFLINE.value, "silent"
    away_after = ctx.settings.away_after_s
    if actual == Presence.AVAILABLE.value and away_after > 0 and agents_gone_silent(state, ctx.now, int(away_after)):
        return Presence.AWAY.value, "inactive"
    return None


def set_presence_tx(conn: Connection, agent_id: int, presence: Presence, reason: str, ctx: Ctx) -> Outcome:
    """Set an agent's presence now, with intervals, withdrawn offers and requeues (supervisor or routing)."""
    row = conn.execute(
        select(agents.c.id, agents.c.presence, agents.c.active).where(agents.c.id == agent_id).with_for_update()
    ).first()
    if row is None:
        return Outcome(conflict="unknown_agent")
    tracked = _tracked_presence(conn, [agent_id])[0]
    was = tracked.tracked or Presence.OFFLINE.value
    events: list[Event] = []
    conn.execute(update(agents).where(agents.c.id == agent_id).values(last_activity_at=ctx.now))
    if was != presence.value:
        events = change_presence(conn, agent_id, was, presence.value, reason, ctx)
    elif row.presence != presence.value:
        conn.execute(update(agents).where(agents.c.id == agent_id).values(presence=presence.value))
    return Outcome(events)


def touch_agents_tx(conn: Connection, agent_ids: Iterable[int], ctx: Ctx) -> Outcome:
    """Agents whose console socket is open were heard from now."""
    ids = sorted(set(agent_ids))
    if ids:
        conn.execute(update(agents).where(agents.c.id.in_(ids)).values(last_activity_at=ctx.now))
    return Outcome()


def touch_visitors_tx(conn: Connection, addresses: Iterable[str], ctx: Ctx) -> Outcome:
    """Web chat customers with an open widget were seen now (their open conversations stay alive)."""
    wanted = sorted(set(addresses))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        ids = select(identities.c.id).where(identities.c.channel == "webchat", identities.c.address.in_(chunk))
        conn.execute(
            update(conversations)
            .where(
                conversations.c.channel == "webchat",
                conversations.c.status.in_((_QUEUED, _ASSIGNED)),
                conversations.c.identity_id.in_(ids.scalar_subquery()),
            )
            .values(customer_seen_at=ctx.now)
        )
    return Outcome()


# ---------------------------------------------------------------- assignments made by other writers


def _offer_still_valid(offer: Any, status: str, assignee_id: int | None) -> bool:
    if offer.from_agent_id is None:
        return status == _QUEUED and assignee_id is None
    return status == _ASSIGNED and assignee_id == offer.from_agent_id


def sync_conversation_tx(conn: Connection, conversation_id: int, ctx: Ctx) -> Outcome:
    """After another writer moved a conversation: drop offers that no longer fit and fix its assignment interval."""
    conv = conn.execute(
        select(
            conversations.c.id,
            conversations.c.status,
            conversations.c.assignee_id,
            conversations.c.assigned_at,
            conversations.c.resolved_at,
        ).where(conversations.c.id == conversation_id)
    ).first()
    if conv is None:
        return Outcome()
    ringing = conn.execute(select(offers).where(offers.c.conversation_id == conversation_id)).all()
    stale = [o.id for o in ringing if not _offer_still_valid(o, conv.status, conv.assignee_id)]
    events = delete_offers(conn, offers.c.id.in_(stale), "withdrawn", ROUTING, ctx) if stale else []
    open_rows = (
        conn.execute(
            select(assignment_intervals.c.agent_id).where(
                assignment_intervals.c.conversation_id == conversation_id, assignment_intervals.c.ended_at.is_(None)
            )
        )
        .scalars()
        .all()
    )
    if conv.status == _ASSIGNED and conv.assignee_id is not None:
        start = min(conv.assigned_at or ctx.now, ctx.now)
        if any(agent != conv.assignee_id for agent in open_rows):
            close_assignment(conn, conversation_id, start, "reassigned")
        if conv.assignee_id not in open_rows or any(agent != conv.assignee_id for agent in open_rows):
            open_assignment(conn, conv.assignee_id, conversation_id, start)
    elif open_rows:
        end = conv.resolved_at if conv.status == _RESOLVED and conv.resolved_at else ctx.now
        close_assignment(conn, conversation_id, min(end, ctx.now), conv.status)
    return Outcome(events)


def sync_conversations_tx(conn: Connection, conversation_ids: Iterable[int], ctx: Ctx) -> Outcome:
    """sync_conversation_tx for several conversations in one transaction."""
    events: list[Event] = []
    for conversation_id in sorted(set(conversation_ids)):
        events += sync_conversation_tx(conn, conversation_id, ctx).events
    return Outcome(events)


def reconcile_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """The periodic repair: stale offers, and assignment intervals missed by a crash between commit and event."""
    now = ctx.now
    ringing = conn.execute(
        select(offers.c.id, offers.c.from_agent_id, conversations.c.status, conversations.c.assignee_id).join(
            conversations, conversations.c.id == offers.c.conversation_id
        )
    ).all()
    stale = [o.id for o in ringing if not _offer_still_valid(o, o.status, o.assignee_id)]
    events = delete_offers(conn, offers.c.id.in_(stale), "withdrawn", ROUTING, ctx) if stale else []
    holder = select(conversations.c.id).where(
        conversations.c.id == assignment_intervals.c.conversation_id,
        conversations.c.status == _ASSIGNED,
        conversations.c.assignee_id == assignment_intervals.c.agent_id,
    )
    conn.execute(
        update(assignment_intervals)
        .where(assignment_intervals.c.ended_at.is_(None), ~exists(holder))
        .values(ended_at=now, end_reason="reconciled")
    )
    covered = select(assignment_intervals.c.id).where(
        assignment_intervals.c.conversation_id == conversations.c.id, assignment_intervals.c.ended_at.is_(None)
    )
    missing = conn.execute(
        select(conversations.c.id, conversations.c.assignee_id, conversations.c.assigned_at).where(
            conversations.c.status == _ASSIGNED, conversations.c.assignee_id.is_not(None), ~exists(covered)
        )
    ).all()
    for row in missing:
        open_assignment(conn, row.assignee_id, row.id, min(row.assigned_at or now, now))
    return Outcome(events, data={"stale_offers": len(stale), "opened": len(missing)})


def note_agent_messages_tx(conn: Connection, notes: Mapping[int, tuple[int, datetime]], ctx: Ctx) -> Outcome:
    """Agents wrote to customers ({conversation: (agent, when)}): inactivity clocks start there, agents were active."""
    conn.execute(
        update(conversations)
        .where(
            conversations.c.id == bindparam("b_id"),
            or_(
                conversations.c.last_agent_message_at.is_(None),
                conversations.c.last_agent_message_at
                < bindparam("b_at", type_=conversations.c.last_agent_message_at.type),
            ),
        )
        .values(last_agent_message_at=bindparam("b_at", type_=conversations.c.last_agent_message_at.type)),
        [{"b_id": cid, "b_at": at} for cid, (_, at) in notes.items()],
    )
    active = sorted({agent for agent, _ in notes.values()})
    conn.execute(update(agents).where(agents.c.id.in_(active)).values(last_activity_at=ctx.now))
    return Outcome()


# ---------------------------------------------------------------- SLAs


def _sla_due(query: Select[Any], queues: Iterable[int], now: datetime) -> Select[Any]:
    """Open conversations in SLA queues whose clocks were never evaluated or are due a look."""
    c = conversations.c
    return query.where(
        c.status.in_((_QUEUED, _ASSIGNED)),
        c.enqueued_at.is_not(None),
        c.queue_id.in_(sorted(queues)),
        or_(c.sla_state.is_(None), c.sla_next_check_at <= now),
    )


def sla_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Evaluate SLA clocks that are new or due: publish warnings and breaches once, escalate priority."""
    now = ctx.now
    queues = {q.id: q for q in load_queues(conn).values() if q.sla is not None}
    if not queues:
        return Outcome()
    rows = conn.execute(
        _sla_due(select(conversations), queues, now)
        .order_by(conversations.c.id)
        .limit(SLA_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return Outcome()
    emitted: dict[int, set[tuple[str, str]]] = {r.id: set() for r in rows}
    for conversation_id, target, kind in conn.execute(
        select(sla_events.c.conversation_id, sla_events.c.target, sla_events.c.kind).where(
            sla_events.c.conversation_id.in_(list(emitted))
        )
    ):
        emitted[conversation_id].add((target, kind))
    calendars = load_calendars(conn)
    events: list[Event] = []
    entries: list[dict[str, Any]] = []
    for row in rows:
        queue = queues[row.queue_id]
        assert queue.sla is not None
        calendar = calendars.get(queue.calendar_id) if queue.calendar_id else None
        status = sla_status(conversation_times(row), queue.sla, calendar, now)
        priority = Priority(row.priority) if row.priority in Priority._value2member_map_ else Priority.NORMAL
        actions = plan_sla_actions(status, frozenset(emitted[row.id]), priority, queue.escalation, now)
        values: dict[str, Any] = {"sla_state": status.state.value, "sla_next_check_at": status.next_check_at}
        if actions.priority_change is not None:
            values["priority"] = actions.priority_change.new.value
        conn.execute(update(conversations).where(conversations.c.id == row.id).values(**values))
        for ev in actions.events:
            stored = conn.execute(
                insert_ignoring(conn, sla_events, "conversation_id", "target", "kind"),
                {
                    "conversation_id": row.id,
                    "queue_id": row.queue_id,
                    "target": ev.target,
                    "kind": ev.kind,
                    "due_at": ev.due_at,
                    "at": now,
                },
            )
            if stored.rowcount == 0:
                continue  # another process published it first
            data = {"target": ev.target, "due_at": ev.due_at.isoformat(), "queue_id": row.queue_id}
            entries.append(log_entry(row.customer_id, row.id, f"routing.sla_{ev.kind}", ROUTING, data, now))
            events.append(SlaAlert(row.id, row.queue_id, row.assignee_id, ev.target, ev.kind, ev.due_at.isoformat()))
        change = actions.priority_change
        if change is not None:
            data = {"from": change.old.value, "to": change.new.value, "reason": change.reason}
            entries.append(log_entry(row.customer_id, row.id, "conversation.escalated", ROUTING, data, now))
            events.append(ConversationChanged(row.id, row.customer_id, row.status, row.assignee_id, "escalated"))
    write_log(conn, entries)
    return Outcome(events)


# ---------------------------------------------------------------- closures and closed hours


def _closure_conditions(queues: Mapping[int, QueueConfig], now: datetime) -> list[Any]:
    """SQL prefilters matching plan_closures, so rows it would keep are not read again every tick."""
    conditions = []
    c = conversations.c
    for q in queues.values():
        if q.abandon_after_seconds is not None:
            quiet_since = now - timedelta(seconds=q.abandon_after_seconds)
            conditions.append(
                and_(
                    c.queue_id == q.id,
                    c.channel == "webchat",
                    c.first_agent_response_at.is_(None),
                    c.enqueued_at <= quiet_since,
                    or_(c.last_customer_message_at.is_(None), c.last_customer_message_at <= quiet_since),
                    or_(c.customer_seen_at.is_(None), c.customer_seen_at <= quiet_since),
                )
            )
        if q.close_inactive_after_seconds is not None:
            quiet_since = now - timedelta(seconds=q.close_inactive_after_seconds)
            conditions.append(
                and_(
                    c.queue_id == q.id,
                    c.status == _ASSIGNED,
                    c.last_agent_message_at <= quiet_since,
                    or_(c.last_customer_message_at.is_(None), c.last_customer_message_at < c.last_agent_message_at),
                    or_(c.customer_seen_at.is_(None), c.customer_seen_at < c.last_agent_message_at),
                )
            )
    return conditions


def closures_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Close web chats whose customer left before an answer (abandoned) and chats the customer let go quiet."""
    now = ctx.now
    queues = load_queues(conn)
    conditions = _closure_conditions(queues, now)
    if not conditions:
        return Outcome()
    rows = conn.execute(
        select(conversations)
        .where(conversations.c.status.in_((_QUEUED, _ASSIGNED)), or_(*conditions))
        .order_by(conversations.c.id)
        .limit(CLOSE_BATCH)
    ).all()
    memory = ctx.settings.decline_memory_s
    opened = {r.id: open_conversation(r, now, memory) for r in rows}
    closures = plan_closures(opened.values(), queues, now)
    if not closures:
        return Outcome()
    by_id = {r.id: r for r in rows}
    ids = [c.conversation_id for c in closures]
    events = delete_offers(conn, offers.c.conversation_id.in_(ids), "withdrawn", ROUTING, ctx)
    entries = []
    for closure in closures:
        row, seen = by_id[closure.conversation_id], opened[closure.conversation_id]
        values: dict[str, Any] = {
            "status": _RESOLVED,
            "resolved_at": now,
            "close_reason": closure.reason,
            "updated_at": now,
        }
        if closure.abandoned:
            # The customer left when last seen, not when the timeout noticed: waits stay honest.
            last = max(t for t in (row.enqueued_at, seen.last_customer_activity_at) if t is not None)
            values["abandoned_at"] = min(last, now)
        done = conn.execute(
            update(conversations)
            .where(
                conversations.c.id == row.id,
                conversations.c.status == row.status,
                conversations.c.assignee_id.is_not_distinct_from(row.assignee_id),
            )
            .values(**values)
        )
        if done.rowcount != 1:
            continue
        close_assignment(conn, row.id, now, closure.reason)
        kind = "conversation.abandoned" if closure.abandoned else "conversation.closed_inactive"
        data = {
            "reason": closure.reason,
            "abandoned_at": values.get("abandoned_at") and values["abandoned_at"].isoformat(),
        }
        entries.append(log_entry(row.customer_id, row.id, kind, ROUTING, data, now))
        change = "abandoned" if closure.abandoned else "closed_inactive"
        events.append(ConversationChanged(row.id, row.customer_id, _RESOLVED, row.assignee_id, change))
    write_log(conn, entries)
    return Outcome(events)


def out_of_hours_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Waiting conversations in queues that are closed now and have a message: mark them told, once."""
    now = ctx.now
    queues = [q for q in load_queues(conn).values() if q.calendar_id and q.out_of_hours_message]
    if not queues:
        return Outcome()
    calendars = load_calendars(conn)
    notices: list[dict[str, Any]] = []
    entries = []
    for queue in queues:
        calendar = calendars.get(queue.calendar_id or "")
        if calendar is None or calendar.is_open(now):
            continue
        opens = calendar.next_open(now)
        rows = conn.execute(
            select(conversations.c.id, conversations.c.customer_id, conversations.c.channel)
            .where(
                conversations.c.status == _QUEUED,
                conversations.c.queue_id == queue.id,
                conversations.c.out_of_hours_notified_at.is_(None),
            )
            .order_by(conversations.c.id)
            .limit(CLOSE_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            continue
        conn.execute(
            update(conversations)
            .where(conversations.c.id.in_([r.id for r in rows]))
            .values(out_of_hours_notified_at=now)
        )
        for r in rows:
            data = {"queue_id": queue.id, "opens_at": opens.isoformat() if opens else None}
            entries.append(log_entry(r.customer_id, r.id, "routing.out_of_hours", ROUTING, data, now))
            notices.append({"conversation_id": r.id, "channel": r.channel, "message": queue.out_of_hours_message})
    write_log(conn, entries)
    return Outcome(data={"notices": notices})


# ---------------------------------------------------------------- what is due (read-only)


def due_steps(conn: Connection, ctx: Ctx) -> set[str]:
    """Which writers of a routing pass have anything to do, decided on a read connection.

    An idle pass then costs a few indexed reads and no write transaction at all.
    """
    now = ctx.now
    steps: set[str] = set()
    if any(_needs_change(r, ctx) for r in _tracked_presence(conn)):
        steps.add("presence")
    if conn.execute(select(offers.c.id).where(offers.c.expires_at <= now).limit(1)).first() is not None:
        steps.add("expire")
    if plan_due(conn, ctx):
        steps.add("plan")
    queues = load_queues(conn)
    with_sla = [q.id for q in queues.values() if q.sla is not None]
    if with_sla and conn.execute(_sla_due(select(conversations.c.id), with_sla, now).limit(1)).first() is not None:
        steps.add("sla")
    conditions = _closure_conditions(queues, now)
    if conditions:
        c = conversations.c
        found = conn.execute(select(c.id).where(c.status.in_((_QUEUED, _ASSIGNED)), or_(*conditions)).limit(1))
        if found.first() is not None:
            steps.add("closures")
    told = [q for q in queues.values() if q.calendar_id and q.out_of_hours_message]
    if told:
        calendars = load_calendars(conn)
        closed = [q.id for q in told if (cal := calendars.get(q.calendar_id or "")) and not cal.is_open(now)]
        untold = select(conversations.c.id).where(
            conversations.c.status == _QUEUED,
            conversations.c.queue_id.in_(closed),
            conversations.c.out_of_hours_notified_at.is_(None),
        )
        if closed and conn.execute(untold.limit(1)).first() is not None:
            steps.add("out_of_hours")
    return steps
