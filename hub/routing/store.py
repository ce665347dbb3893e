"""Rows to routing snapshots inside a write transaction: agents, queues, calendars, waiting conversations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, and_, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from hub.routing.calendar import BusinessCalendar
from hub.routing.model import (
    AgentState,
    ConversationStatus,
    ConversationTimes,
    EscalationRule,
    Offer,
    OpenConversation,
    Policy,
    Presence,
    Priority,
    QueueConfig,
    SlaTargets,
    WaitingConversation,
    channel_type,
)
from hub.storage.tables import (
    Agent,
    AgentQueue,
    AssignmentInterval,
    Calendar,
    Conversation,
    Customer,
    CustomerEvent,
    Identity,
    PresenceInterval,
    Queue,
    SlaEvent,
)
from hub.storage.tables import (
    Offer as OfferRow,
)

agents = cast(Table, Agent.__table__)
agent_queues = cast(Table, AgentQueue.__table__)
assignment_intervals = cast(Table, AssignmentInterval.__table__)
calendars = cast(Table, Calendar.__table__)
conversations = cast(Table, Conversation.__table__)
customers = cast(Table, Customer.__table__)
events_log = cast(Table, CustomerEvent.__table__)
identities = cast(Table, Identity.__table__)
offers = cast(Table, OfferRow.__table__)
presence_intervals = cast(Table, PresenceInterval.__table__)
queues = cast(Table, Queue.__table__)
sla_events = cast(Table, SlaEvent.__table__)

# Which stored channels share a capacity bucket (hub/routing/model.py decides the mapping).
CHANNELS_OF: Mapping[str, tuple[str, ...]] = {
    "chat": ("webchat", "sms", "whatsapp", "telegram"),
    "email": ("email",),
}
OPEN_STATUSES = (ConversationStatus.QUEUED.value, ConversationStatus.ASSIGNED.value)


AGENT_COLUMNS = (
    agents.c.id,
    agents.c.presence,
    agents.c.active,
    agents.c.skills,
    agents.c.languages,
    agents.c.capacity,
    agents.c.last_activity_at,
    agents.c.last_assignment_at,
    agents.c.available_since,
    agents.c.missed_offers_in_a_row,
)


def kind_of(channel: str) -> str | None:
    """The capacity bucket of a stored channel, or None for a channel routing does not know."""
    try:
        return channel_type(channel)
    except ValueError:
        return None


def insert_ignoring(conn: Connection, table: Any, *index_elements: str, where: Any = None) -> Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect (SQLite or PostgreSQL)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    return stmt.on_conflict_do_nothing(index_elements=list(index_elements), index_where=where)


def locked(query: Select[Any], *, skip: bool = True, of: Any = None) -> Select[Any]:
    """Row locks for PostgreSQL (SQLite renders none: its single writer already serialises)."""
    return query.with_for_update(skip_locked=skip, of=of)


# ---------------------------------------------------------------- queues and calendars


def queue_config(row: Any) -> QueueConfig:
    """A queues row as the pure core's QueueConfig."""
    sla = None
    if row.sla_first_response_s is not None or row.sla_resolution_s is not None:
        sla = SlaTargets(row.sla_first_response_s, row.sla_resolution_s, row.sla_warn_before_s or 0)
    return QueueConfig(
        id=row.id,
        policy=Policy(row.policy),
        required_skills=frozenset(row.skills or ()),
        language=row.language,
        offer_timeout_seconds=row.offer_timeout_s,
        auto_accept=bool(row.auto_accept),
        max_missed_offers=row.max_missed_offers,
        sla=sla,
        escalation=EscalationRule(bool(row.escalate_on_warning), bool(row.escalate_on_breach)),
        calendar_id=row.calendar_id,
        out_of_hours_message=row.out_of_hours_message,
        requeue_on_agent_offline=frozenset(row.requeue_on_agent_offline or ()),
        close_inactive_after_seconds=row.close_inactive_after_s,
        abandon_after_seconds=row.abandon_after_s,
    )


def load_queues(conn: Connection) -> dict[int, QueueConfig]:
    """Every queue's routing configuration."""
    return {row.id: queue_config(row) for row in conn.execute(select(queues))}


def calendar_from_row(row: Any) -> BusinessCalendar:
    """A calendars row as a BusinessCalendar."""
    return BusinessCalendar.from_spec(
        row.id, row.timezone, row.hours or {}, row.holidays or [], row.special_hours or {}
    )


def load_calendars(conn: Connection) -> dict[str, BusinessCalendar]:
    """Every calendar by id."""
    return {row.id: calendar_from_row(row) for row in conn.execute(select(calendars))}


# ---------------------------------------------------------------- agents


def agent_states(conn: Connection, rows: Sequence[Any]) -> dict[int, AgentState]:
    """AgentStates for agent rows, with queue memberships, open load and ringing offers counted now."""
    ids = [r.id for r in rows]
    if not ids:
        return {}
    member: defaultdict[int, set[int]] = defaultdict(set)
    for agent_id, queue_id in conn.execute(
        select(agent_queues.c.agent_id, agent_queues.c.queue_id).where(agent_queues.c.agent_id.in_(ids))
    ):
        member[agent_id].add(queue_id)
    load: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
    for agent_id, channel, n in conn.execute(
        select(conversations.c.assignee_id, conversations.c.channel, func.count())
        .where(conversations.c.status == ConversationStatus.ASSIGNED.value, conversations.c.assignee_id.in_(ids))
        .group_by(conversations.c.assignee_id, conversations.c.channel)
    ):
        kind = kind_of(channel)
        if kind is not None:
            load[agent_id][kind] += n
    pending: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for agent_id, kind, n in conn.execute(
        select(offers.c.agent_id, offers.c.channel_type, func.count())
        .where(offers.c.agent_id.in_(ids))
        .group_by(offers.c.agent_id, offers.c.channel_type)
    ):
        pending[agent_id][kind] = n
    return {
        r.id: AgentState(
            id=r.id,
            presence=Presence(r.presence) if r.active else Presence.OFFLINE,
            queue_ids=frozenset(member[r.id]),
            skills=frozenset(r.skills or ()),
            languages=frozenset(r.languages or ()),
            capacity={str(k): int(v) for k, v in (r.capacity or {}).items()},
            open_load=dict(load[r.id]),
            pending_offers=pending[r.id],
            last_assignment_at=r.last_assignment_at,
            available_since=r.available_since,
            last_activity_at=r.last_activity_at,
            missed_offers_in_a_row=r.missed_offers_in_a_row or 0,
        )
        for r in rows
    }


# ---------------------------------------------------------------- conversations


def declined_set(declined_by: Mapping[str, float] | None, now: datetime, memory_s: float) -> frozenset[int]:
    """Agents whose decline or miss of this conversation is recent enough to keep them out."""
    if not declined_by:
        return frozenset()
    cutoff = now.timestamp() - memory_s if memory_s > 0 else float("-inf")
    return frozenset(int(agent) for agent, at in declined_by.items() if at >= cutoff)


def with_declines(declined_by: Mapping[str, float] | None, agent_ids: Iterable[int], now: datetime) -> dict[str, float]:
    """The declined map with these agents marked at `now`."""
    merged = dict(declined_by or {})
    for agent_id in agent_ids:
        merged[str(agent_id)] = now.timestamp()
    return merged


# Service order as eight classes read one after the other: priority, then key accounts first. Inside a
# class the order is (enqueued_at, id), which the index ix_conversations_waiting_order serves directly,
# so a pass reads the head of the line instead of sorting the whole backlog.
SERVICE_CLASSES: tuple[tuple[str, bool], ...] = tuple(
    (p.value, key) for p in (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW) for key in (True, False)
)
_OTHER_PRIORITIES = (Priority.URGENT.value, Priority.HIGH.value, Priority.LOW.value)


def waiting_query(
    room: Iterable[tuple[int, str]], priority: str, key_account: bool, after: tuple[datetime, int] | None = None
) -> Select[Any]:
    """Queued conversations of one service class without a ringing offer, in queues and channel types with
    a free agent, oldest first from after `after` (enqueued_at, id)."""
    c = conversations.c
    by_kind: defaultdict[str, set[int]] = defaultdict(set)
    for queue_id, kind in room:
        by_kind[kind].add(queue_id)
    # `queue_id + 0` keeps planners off the inbox index (status, queue_id, ...), which would need a sort of
    # every match; the waiting-order index hands rows over already in line and stops at the limit.
    where_room = or_(
        *(
            and_((c.queue_id + 0).in_(sorted(q)), c.channel.in_(CHANNELS_OF[k]))
            for k, q in by_kind.items()
            if k in CHANNELS_OF
        )
    )
    ringing = exists().where(offers.c.conversation_id == c.id)
    # Unknown priorities are served as normal ones, as the planner does.
    of_priority = c.priority == priority if priority != Priority.NORMAL.value else c.priority.notin_(_OTHER_PRIORITIES)
    query = (
        select(
            c.id,
            c.customer_id,
            c.queue_id,
            c.channel,
            c.enqueued_at,
            c.created_at,
            c.priority,
            c.required_skills,
            c.language,
            c.declined_by,
            (customers.c.tier == "key").label("key_account"),
        )
        .join(customers, customers.c.id == c.customer_id)
        .where(
            c.status == ConversationStatus.QUEUED.value,
            of_priority,
            c.enqueued_at.is_not(None),
            (customers.c.tier == "key") if key_account else (customers.c.tier != "key"),
            where_room,
            ~ringing,
        )
        .order_by(c.enqueued_at, c.id)
    )
    if after is not None:
        query = query.where(or_(c.enqueued_at > after[0], and_(c.enqueued_at == after[0], c.id > after[1])))
    return query


def waiting(row: Any, now: datetime, memory_s: float) -> WaitingConversation:
    """A waiting-conversation row as the planner's input."""
    return WaitingConversation(
        id=row.id,
        queue_id=row.queue_id,
        channel=row.channel,
        enqueued_at=row.enqueued_at or row.created_at,
        priority=Priority(row.priority) if row.priority in Priority._value2member_map_ else Priority.NORMAL,
        key_account=bool(row.key_account),
        required_skills=frozenset(row.required_skills or ()),
        language=row.language,
        declined_by=declined_set(row.declined_by, now, memory_s),
    )


def offer_from_row(row: Any) -> Offer:
    """A routing_offers row as the core's Offer."""
    return Offer(row.conversation_id, row.agent_id, row.queue_id, row.channel_type, row.offered_at, row.expires_at)


def open_conversation(row: Any, now: datetime, memory_s: float) -> OpenConversation:
    """A conversation row as the lifecycle rules see it; web widget sightings count as customer activity."""
    seen = [t for t in (row.last_customer_message_at, row.customer_seen_at) if t is not None]
    return OpenConversation(
        id=row.id,
        queue_id=row.queue_id,
        channel=row.channel,
        status=ConversationStatus(row.status),
        enqueued_at=row.enqueued_at,
        agent_id=row.assignee_id,
        assigned_at=row.assigned_at,
        first_agent_response_at=row.first_agent_response_at,
        last_customer_activity_at=max(seen) if seen else None,
        last_agent_message_at=row.last_agent_message_at,
        declined_by=declined_set(row.declined_by, now, memory_s),
    )


def conversation_times(row: Any) -> ConversationTimes:
    """The stored timestamps of a conversation, for SLA clocks and metrics."""
    return ConversationTimes(
        id=row.id,
        queue_id=row.queue_id,
        channel=row.channel,
        status=ConversationStatus(row.status),
        created_at=row.created_at,
        agent_id=row.assignee_id,
        enqueued_at=row.enqueued_at,
        offered_at=row.offered_at,
        assigned_at=row.assigned_at,
        first_agent_response_at=row.first_agent_response_at,
        resolved_at=row.resolved_at,
        abandoned_at=row.abandoned_at,
    )


def log_entry(
    customer_id: int, conversation_id: int | None, kind: str, actor: str, data: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """One row for the customer's event log."""
    return {
        "customer_id": customer_id,
        "conversation_id": conversation_id,
        "kind": kind,
        "actor": actor,
        "at": now,
        "data": data,
    }


def write_log(conn: Connection, entries: Sequence[dict[str, Any]]) -> None:
    """Append entries to the customer event log in one statement."""
    if entries:
        conn.execute(events_log.insert(), list(entries))
