"""Routing writers for offers: expiry, planning, accept, decline and transfer.

Each function runs inside `Database.run_write`, may run twice, and changes nothing outside the database:
what to publish comes back in its `Outcome`. See changes.py for the lock order they keep.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, select, update

from hub.domain import Conflict, Forbidden, NotFound
from hub.events import ConversationChanged, Event, OfferEnded, OfferMade
from hub.routing.changes import (
    ROUTING,
    Ctx,
    Outcome,
    assign,
    change_presence,
    delete_offers,
    requeue,
)
from hub.routing.decide import plan_offers
from hub.routing.model import (
    AgentState,
    ConversationStatus,
    OfferDecision,
    Policy,
    Presence,
    QueueConfig,
)
from hub.routing.offers import count_misses
from hub.routing.store import (
    AGENT_COLUMNS,
    SERVICE_CLASSES,
    agent_states,
    agents,
    conversations,
    insert_ignoring,
    load_queues,
    log_entry,
    offer_from_row,
    offers,
    open_conversation,
    waiting,
    waiting_query,
    with_declines,
    write_log,
)
from hub.routing.transfer import ToAgent, ToQueue, plan_transfer

MAX_PAGES = 32
MIN_PAGE = 100
QUEUE_OFFER = "queue"
TRANSFER_OFFER = "transfer"

# Executed with many parameter sets at once (one round trip for hundreds of expired offers).
_SET_DECLINED = (
    update(conversations)
    .where(conversations.c.id == bindparam("b_id"))
    .values(declined_by=bindparam("b_declined", type_=conversations.c.declined_by.type))
)
_SET_MISSES = (
    update(agents).where(agents.c.id == bindparam("b_id")).values(missed_offers_in_a_row=bindparam("b_missed"))
)


def expire_offers_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Offers that rang out: the conversation waits again without that agent; N misses in a row set them away."""
    now = ctx.now
    due = conn.execute(select(offers.c.agent_id).where(offers.c.expires_at <= now).distinct()).scalars().all()
    if not due:
        return Outcome()
    agent_rows = conn.execute(
        select(*AGENT_COLUMNS).where(agents.c.id.in_(due)).order_by(agents.c.id).with_for_update(skip_locked=True)
    ).all()
    if not agent_rows:
        return Outcome()
    rows = conn.execute(
        select(offers, conversations.c.customer_id, conversations.c.declined_by)
        .join(conversations, conversations.c.id == offers.c.conversation_id)
        .where(offers.c.expires_at <= now, offers.c.agent_id.in_([a.id for a in agent_rows]))
        .order_by(offers.c.id)
        .with_for_update(skip_locked=True, of=offers)
    ).all()
    if not rows:
        return Outcome()
    conn.execute(delete(offers).where(offers.c.id.in_([r.id for r in rows])))
    declined = [
        {"b_id": r.conversation_id, "b_declined": with_declines(r.declined_by, [r.agent_id], now)}
        for r in rows
        if r.kind == QUEUE_OFFER
    ]
    if declined:
        conn.execute(_SET_DECLINED, declined)
    write_log(
        conn,
        [
            log_entry(r.customer_id, r.conversation_id, "routing.offer_expired", ROUTING, {"agent_id": r.agent_id}, now)
            for r in rows
        ],
    )
    events: list[Event] = [OfferEnded(r.conversation_id, r.agent_id, "expired", r.from_agent_id) for r in rows]
    states = {
        a.id: AgentState(
            id=a.id,
            presence=Presence(a.presence) if a.active else Presence.OFFLINE,
            missed_offers_in_a_row=a.missed_offers_in_a_row or 0,
        )
        for a in agent_rows
    }
    misses = count_misses([offer_from_row(r) for r in rows], states, load_queues(conn))
    if misses:
        conn.execute(_SET_MISSES, [{"b_id": m.agent_id, "b_missed": m.missed_in_a_row} for m in misses])
    for miss in misses:
        if miss.set_away:
            events += change_presence(
                conn, miss.agent_id, Presence.AVAILABLE.value, Presence.AWAY.value, "missed_offers", ctx
            )
    return Outcome(events, data={"expired": len(rows)})


def plan_due(conn: Connection, ctx: Ctx) -> bool:
    """Read-only: whether some free agent could be offered some waiting conversation (worth a planning write)."""
    agent_rows = conn.execute(
        select(*AGENT_COLUMNS).where(agents.c.active.is_(True), agents.c.presence == Presence.AVAILABLE.value)
    ).all()
    room = _room(agent_states(conn, agent_rows).values(), load_queues(conn)) if agent_rows else set()
    if not room:
        return False
    return any(
        conn.execute(waiting_query(room, priority, key_account).limit(1)).first() is not None
        for priority, key_account in SERVICE_CLASSES
    )


def plan_tx(conn: Connection, ctx: Ctx) -> Outcome:
    """Offer waiting conversations to free agents (or assign them, in auto-accept queues)."""
    now = ctx.now
    # SKIP LOCKED: another hub process planning at the same moment takes other agents, never the same.
    agent_rows = conn.execute(
        select(*AGENT_COLUMNS)
        .where(agents.c.active.is_(True), agents.c.presence == Presence.AVAILABLE.value)
        .order_by(agents.c.id)
        .with_for_update(skip_locked=True)
    ).all()
    if not agent_rows:
        return Outcome()
    pool = agent_states(conn, agent_rows)
    queues = load_queues(conn)
    room = _room(pool.values(), queues)
    if not room:
        return Outcome()
    decisions: list[OfferDecision] = []
    customers: dict[int, int] = {}
    # Read about as many waiting conversations as there are free slots (several times over, since some
    # will need skills nobody free has), class by class in service order, never the whole backlog.
    free = sum(max(0, a.free_slots(k)) for a in pool.values() for k in a.capacity)
    page_size = min(ctx.settings.page_size, max(MIN_PAGE, 4 * free))
    memory = ctx.settings.decline_memory_s
    # Round one reads the head of every class and plans once; classes whose page came back full are read
    # further only while free slots remain.
    pending: list[tuple[str, bool, tuple[datetime, int] | None]] = [(p, k, None) for p, k in SERVICE_CLASSES]
    pages = 0
    while pending and room and pages < MAX_PAGES:
        batch: list[Any] = []
        further: list[tuple[str, bool, tuple[datetime, int] | None]] = []
        for priority, key_account, after in pending:
            rows = conn.execute(waiting_query(room, priority, key_account, after).limit(page_size)).all()
            pages += 1
            # A row whose priority changed between two reads could come twice: plan it once.
            batch += [r for r in rows if r.id not in customers]
            customers.update((r.id, r.customer_id) for r in rows)
            if len(rows) == page_size:
                further.append((priority, key_account, (rows[-1].enqueued_at, rows[-1].id)))
        planned = plan_offers(queues.values(), pool.values(), [waiting(r, now, memory) for r in batch], now)
        decisions += planned
        pool = _after(pool, planned, now)
        room = _room(pool.values(), queues)
        pending = further
    return _persist(conn, _still_waiting(conn, decisions), customers, ctx)


def _still_waiting(conn: Connection, decisions: list[OfferDecision]) -> list[OfferDecision]:
    """Keep the decisions whose conversation is still waiting with nothing ringing, and lock those rows.

    The backlog was read without locks (locking every row read would write to thousands of tuples per
    pass); only what is about to be offered is locked, skipping rows another hub process holds.
    """
    if not decisions or conn.dialect.name == "sqlite":
        return decisions  # the single writer already excludes everyone else
    ids = [d.conversation_id for d in decisions]
    ringing = exists().where(offers.c.conversation_id == conversations.c.id)
    free = set(
        conn.execute(
            select(conversations.c.id)
            .where(conversations.c.id.in_(ids), conversations.c.status == ConversationStatus.QUEUED.value, ~ringing)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    return [d for d in decisions if d.conversation_id in free]


def _room(pool: Any, queues: dict[int, QueueConfig]) -> set[tuple[int, str]]:
    """(queue, channel type) pairs in which some agent has a free slot."""
    room: set[tuple[int, str]] = set()
    for agent in pool:
        if agent.presence != Presence.AVAILABLE:
            continue
        kinds = [k for k in agent.capacity if agent.free_slots(k) > 0]
        for queue_id in agent.queue_ids:
            queue = queues.get(queue_id)
            if queue is not None and queue.policy != Policy.MANUAL:
                room.update((queue_id, k) for k in kinds)
    return room


def _after(pool: dict[int, AgentState], planned: list[OfferDecision], now: Any) -> dict[int, AgentState]:
    """The pool once planned offers count: a ringing slot each, and a restarted idle clock."""
    taken: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in planned:
        taken[d.agent_id][d.channel_type] += 1
    updated = dict(pool)
    for agent_id, kinds in taken.items():
        a = pool[agent_id]
        pending = dict(a.pending_offers)
        for kind, n in kinds.items():
            pending[kind] = pending.get(kind, 0) + n
        updated[agent_id] = replace(a, pending_offers=pending, last_assignment_at=now)
    return updated


def _persist(conn: Connection, decisions: list[OfferDecision], customers: dict[int, int], ctx: Ctx) -> Outcome:
    """Store planned offers and auto-assignments, log them, and say what to publish."""
    now = ctx.now
    events: list[Event] = []
    entries: list[dict[str, Any]] = []
    ringing = [d for d in decisions if not d.auto_accept and d.expires_at is not None]
    if ringing:
        stored = conn.execute(
            insert_ignoring(conn, offers, "conversation_id").returning(offers.c.conversation_id),
            [
                {
                    "conversation_id": d.conversation_id,
                    "agent_id": d.agent_id,
                    "queue_id": d.queue_id,
                    "channel_type": d.channel_type,
                    "kind": QUEUE_OFFER,
                    "offered_at": now,
                    "expires_at": d.expires_at,
                }
                for d in ringing
            ],
        )
        inserted = set(stored.scalars().all())
        made = [d for d in ringing if d.conversation_id in inserted]
        if made:
            conn.execute(
                update(conversations)
                .where(conversations.c.id.in_([d.conversation_id for d in made]))
                .values(offered_at=now)
            )
            conn.execute(
                update(agents).where(agents.c.id.in_(sorted({d.agent_id for d in made}))).values(last_assignment_at=now)
            )
        for d in made:
            assert d.expires_at is not None
            entries.append(
                log_entry(
                    customers[d.conversation_id],
                    d.conversation_id,
                    "routing.offered",
                    ROUTING,
                    {"agent_id": d.agent_id, "expires_at": d.expires_at.isoformat(), "node": ctx.node},
                    now,
                )
            )
            events.append(OfferMade(d.conversation_id, d.agent_id, d.queue_id, QUEUE_OFFER, d.expires_at.isoformat()))
    assigned = 0
    for d in decisions:
        if not d.auto_accept:
            continue
        conv = _Conv(d.conversation_id, customers[d.conversation_id])
        if not assign(conn, conv, d.agent_id, ctx, expected_assignee=None):
            continue
        conn.execute(update(conversations).where(conversations.c.id == conv.id).values(offered_at=now))
        assigned += 1
        entries.append(
            log_entry(
                conv.customer_id,
                conv.id,
                "routing.auto_assigned",
                ROUTING,
                {"agent_id": d.agent_id, "node": ctx.node},
                now,
            )
        )
        events.append(
            ConversationChanged(
                conv.id, conv.customer_id, ConversationStatus.ASSIGNED.value, d.agent_id, "auto_assigned"
            )
        )
    write_log(conn, entries)
    return Outcome(events, data={"offered": len(events) - assigned, "assigned": assigned})


class _Conv:
    """The two fields `assign` needs of a conversation."""

    __slots__ = ("id", "customer_id")

    def __init__(self, id: int, customer_id: int) -> None:
        self.id = id
        self.customer_id = customer_id


def accept_offer_tx(conn: Connection, conversation_id: int, agent_id: int, ctx: Ctx) -> Outcome:
    """The agent takes the offered conversation; exactly one agent can win it."""
    now = ctx.now
    # The agent row first: the same lock the planner takes, so load and ringing offers never disagree.
    conn.execute(update(agents).where(agents.c.id == agent_id).values(last_activity_at=now))
    offer = conn.execute(
        select(offers)
        .where(offers.c.conversation_id == conversation_id, offers.c.agent_id == agent_id)
        .with_for_update()
    ).first()
    if offer is None:
        raise Conflict("this conversation is not offered to you (any more)", code="no_offer")
    if offer.expires_at <= now:
        raise Conflict("the offer has expired", code="offer_expired")
    conn.execute(delete(offers).where(offers.c.id == offer.id))
    conv = conn.execute(
        select(conversations.c.id, conversations.c.customer_id).where(conversations.c.id == conversation_id)
    ).one()
    transfer = offer.kind == TRANSFER_OFFER
    if not assign(conn, conv, agent_id, ctx, expected_assignee=offer.from_agent_id):
        # Someone took or closed it meanwhile: the offer is gone either way.
        entry = log_entry(
            conv.customer_id, conv.id, "routing.offer_withdrawn", f"agent:{agent_id}", {"agent_id": agent_id}, now
        )
        write_log(conn, [entry])
        return Outcome([OfferEnded(conv.id, agent_id, "withdrawn", offer.from_agent_id)], conflict="conversation_moved")
    data: dict[str, Any] = {"agent_id": agent_id, "kind": offer.kind}
    entries = [log_entry(conv.customer_id, conv.id, "routing.offer_accepted", f"agent:{agent_id}", data, now)]
    if transfer:
        moved = {"from_agent_id": offer.from_agent_id, "to_agent_id": agent_id, "note": offer.note}
        entries.append(
            log_entry(conv.customer_id, conv.id, "conversation.transferred", f"agent:{agent_id}", moved, now)
        )
    write_log(conn, entries)
    change = "transferred" if transfer else "offer_accepted"
    return Outcome(
        [
            OfferEnded(conv.id, agent_id, "accepted", offer.from_agent_id),
            ConversationChanged(conv.id, conv.customer_id, ConversationStatus.ASSIGNED.value, agent_id, change),
        ]
    )


def decline_offer_tx(conn: Connection, conversation_id: int, agent_id: int, ctx: Ctx) -> Outcome:
    """The agent says no: the conversation goes to someone else (a transfer stays where it was)."""
    now = ctx.now
    conn.execute(update(agents).where(agents.c.id == agent_id).values(last_activity_at=now))
    offer = conn.execute(
        select(offers, conversations.c.customer_id, conversations.c.declined_by)
        .join(conversations, conversations.c.id == offers.c.conversation_id)
        .where(offers.c.conversation_id == conversation_id, offers.c.agent_id == agent_id)
        .with_for_update(of=offers)
    ).first()
    if offer is None:
        raise Conflict("this conversation is not offered to you (any more)", code="no_offer")
    conn.execute(delete(offers).where(offers.c.id == offer.id))
    if offer.kind == QUEUE_OFFER:
        conn.execute(
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(declined_by=with_declines(offer.declined_by, [agent_id], now))
        )
    entry = log_entry(
        offer.customer_id,
        conversation_id,
        "routing.offer_declined",
        f"agent:{agent_id}",
        {"agent_id": agent_id, "kind": offer.kind},
        now,
    )
    write_log(conn, [entry])
    return Outcome([OfferEnded(conversation_id, agent_id, "declined", offer.from_agent_id)])


_REJECTIONS = {
    "unknown_agent": (NotFound, "there is no such agent"),
    "unknown_queue": (NotFound, "there is no such queue"),
    "same_agent": (Conflict, "the conversation is already with this agent"),
    "agent_offline": (Conflict, "that agent is offline"),
    "agent_away": (Conflict, "that agent is away"),
    "agent_at_capacity": (Conflict, "that agent has no free slot"),
}


def transfer_tx(
    conn: Connection,
    conversation_id: int,
    actor_id: int,
    supervisor: bool,
    target: ToAgent | ToQueue,
    note: str | None,
    ctx: Ctx,
) -> Outcome:
    """Hand a conversation to a colleague (an offer) or another queue (a requeue); the history stays."""
    now = ctx.now
    actor = f"agent:{actor_id}"
    pool: dict[int, AgentState] = {}
    if isinstance(target, ToAgent):
        rows = conn.execute(select(*AGENT_COLUMNS).where(agents.c.id == target.agent_id).with_for_update()).all()
        pool = agent_states(conn, rows)
    ringing = (
        conn.execute(select(offers.c.kind).where(offers.c.conversation_id == conversation_id).with_for_update())
        .scalars()
        .all()
    )
    conv = conn.execute(select(conversations).where(conversations.c.id == conversation_id).with_for_update()).first()
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if conv.status not in (ConversationStatus.QUEUED.value, ConversationStatus.ASSIGNED.value):
        raise Conflict(f"a {conv.status} conversation cannot be transferred", code="not_transferable")
    if conv.status == ConversationStatus.QUEUED.value and not supervisor:
        raise Forbidden("only supervisors move waiting conversations", code="supervisor_only")
    if conv.status == ConversationStatus.ASSIGNED.value and conv.assignee_id != actor_id and not supervisor:
        raise Forbidden("this conversation is assigned to another agent", code="not_assignee")
    if TRANSFER_OFFER in ringing:
        raise Conflict("a transfer of this conversation is waiting for an answer", code="transfer_pending")
    if isinstance(target, ToAgent) and target.force and not supervisor:
        raise Forbidden("only supervisors may force a transfer", code="supervisor_only")
    if conv.queue_id is None:
        raise Conflict("the conversation is in no queue", code="not_transferable")
    queues = load_queues(conn)
    decision = plan_transfer(open_conversation(conv, now, ctx.settings.decline_memory_s), target, pool, queues, now)
    if decision.rejected is not None:
        error, message = _REJECTIONS.get(decision.rejected, (Conflict, decision.rejected))
        raise error(message, code=decision.rejected)
    events: list[Event] = delete_offers(conn, offers.c.conversation_id == conversation_id, "withdrawn", actor, ctx)
    if decision.requeue is not None:
        events += requeue(conn, decision.requeue, conv, "transferred", actor, ctx, note=note)
        return Outcome(events)
    offer = decision.offer
    assert offer is not None
    request = {"from_agent_id": conv.assignee_id, "to_agent_id": offer.agent_id, "note": note}
    if offer.auto_accept:
        if assign(conn, conv, offer.agent_id, ctx, expected_assignee=conv.assignee_id):
            write_log(conn, [log_entry(conv.customer_id, conv.id, "conversation.transferred", actor, request, now)])
            events.append(
                ConversationChanged(
                    conv.id, conv.customer_id, ConversationStatus.ASSIGNED.value, offer.agent_id, "transferred"
                )
            )
        return Outcome(events)
    assert offer.expires_at is not None
    conn.execute(
        offers.insert(),
        {
            "conversation_id": conv.id,
            "agent_id": offer.agent_id,
            "queue_id": offer.queue_id,
            "channel_type": offer.channel_type,
            "kind": TRANSFER_OFFER,
            "from_agent_id": conv.assignee_id,
            "note": note,
            "offered_at": now,
            "expires_at": offer.expires_at,
        },
    )
    write_log(conn, [log_entry(conv.customer_id, conv.id, "conversation.transfer_offered", actor, request, now)])
    events.append(
        OfferMade(
            conv.id, offer.agent_id, offer.queue_id, TRANSFER_OFFER, offer.expires_at.isoformat(), conv.assignee_id
        )
    )
    return Outcome(events)
