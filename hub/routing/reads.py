"""Read-side queries for routing: queues, calendars, agents' routing state, offers, what web chat visitors see."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, or_, select

from hub.domain import NotFound
from hub.routing.checks import QUEUE_COLUMNS
from hub.routing.model import Priority, WaitingConversation
from hub.routing.store import (
    agent_queues,
    agents,
    calendars,
    conversations,
    customers,
    identities,
    kind_of,
    offers,
    queues,
)
from hub.storage.database import Database

_QUEUED = "queued"
_ASSIGNED = "assigned"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def queue_dict(row: Row[Any], members: list[int], waiting: int) -> dict[str, Any]:
    """A queue as the API shows it (the same field names it accepts)."""
    data: dict[str, Any] = {"id": row.id}
    for api, column in QUEUE_COLUMNS.items():
        data[api] = getattr(row, column)
    data["agent_ids"] = members
    data["waiting"] = waiting
    return data


def calendar_dict(row: Row[Any]) -> dict[str, Any]:
    """A calendar as the API shows it."""
    return {
        "id": row.id,
        "name": row.name,
        "timezone": row.timezone,
        "hours": row.hours or {},
        "holidays": row.holidays or [],
        "special_hours": row.special_hours or {},
        "updated_at": _iso(row.updated_at),
    }


class RoutingReads:
    """Read models for the routing API and the web chat's queue notices."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def queues(self, queue_id: int | None = None) -> list[dict[str, Any]]:
        """Every queue (or one) with its member agents and how many conversations wait in it."""
        query = select(queues).order_by(queues.c.id)
        if queue_id is not None:
            query = query.where(queues.c.id == queue_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            members: defaultdict[int, list[int]] = defaultdict(list)
            for agent_id, qid in (
                await conn.execute(
                    select(agent_queues.c.agent_id, agent_queues.c.queue_id).order_by(agent_queues.c.agent_id)
                )
            ).all():
                members[qid].append(agent_id)
            counts: dict[int, int] = dict(
                (
                    await conn.execute(
                        select(conversations.c.queue_id, func.count())
                        .where(conversations.c.status == _QUEUED)
                        .group_by(conversations.c.queue_id)
                    )
                ).all()
            )
        if queue_id is not None and not rows:
            raise NotFound(f"queue {queue_id} does not exist")
        return [queue_dict(r, members[r.id], int(counts.get(r.id, 0))) for r in rows]

    async def queue_names(self) -> dict[int, str]:
        """Queue names by id."""
        async with self.db.read() as conn:
            return {r.id: r.name for r in (await conn.execute(select(queues.c.id, queues.c.name))).all()}

    async def calendars(self, calendar_id: str | None = None) -> list[dict[str, Any]]:
        """Every calendar (or one)."""
        query = select(calendars).order_by(calendars.c.id)
        if calendar_id is not None:
            query = query.where(calendars.c.id == calendar_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        if calendar_id is not None and not rows:
            raise NotFound(f"calendar {calendar_id!r} does not exist")
        return [calendar_dict(r) for r in rows]

    async def agents(self, agent_id: int | None = None) -> list[dict[str, Any]]:
        """Agents with skills, languages, capacity, queues, presence, open load and ringing offers."""
        query = select(agents).order_by(agents.c.id)
        if agent_id is not None:
            query = query.where(agents.c.id == agent_id)
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
            member: defaultdict[int, list[int]] = defaultdict(list)
            for aid, qid in (
                await conn.execute(
                    select(agent_queues.c.agent_id, agent_queues.c.queue_id).order_by(agent_queues.c.queue_id)
                )
            ).all():
                member[aid].append(qid)
            load: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
            for aid, channel, n in (
                await conn.execute(
                    select(conversations.c.assignee_id, conversations.c.channel, func.count())
                    .where(conversations.c.status == _ASSIGNED, conversations.c.assignee_id.is_not(None))
                    .group_by(conversations.c.assignee_id, conversations.c.channel)
                )
            ).all():
                kind = kind_of(channel)
                if kind is not None:
                    load[aid][kind] += n
            ringing: defaultdict[int, dict[str, int]] = defaultdict(dict)
            for aid, kind, n in (
                await conn.execute(
                    select(offers.c.agent_id, offers.c.channel_type, func.count()).group_by(
                        offers.c.agent_id, offers.c.channel_type
                    )
                )
            ).all():
                ringing[aid][kind] = n
        if agent_id is not None and not rows:
            raise NotFound(f"agent {agent_id} does not exist")
        return [
            {
                "id": r.id,
                "name": r.name,
                "role": r.role,
                "active": r.active,
                "presence": r.presence,
                "skills": r.skills or [],
                "languages": r.languages or [],
                "capacity": r.capacity or {},
                "queue_ids": member[r.id],
                "open_load": dict(load[r.id]),
                "pending_offers": ringing[r.id],
                "missed_offers_in_a_row": r.missed_offers_in_a_row,
                "last_activity_at": _iso(r.last_activity_at),
            }
            for r in rows
        ]

    async def offers_for(self, agent_id: int) -> list[dict[str, Any]]:
        """The offers ringing at an agent, oldest first."""
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        offers,
                        conversations.c.channel,
                        conversations.c.priority,
                        conversations.c.subject,
                        conversations.c.last_message_preview,
                        conversations.c.customer_id,
                    )
                    .join(conversations, conversations.c.id == offers.c.conversation_id)
                    .where(offers.c.agent_id == agent_id)
                    .order_by(offers.c.offered_at, offers.c.id)
                )
            ).all()
        return [offer_dict(r) for r in rows]

    async def offer(self, conversation_id: int) -> dict[str, Any] | None:
        """The offer ringing for a conversation, if any."""
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        offers,
                        conversations.c.channel,
                        conversations.c.priority,
                        conversations.c.subject,
                        conversations.c.last_message_preview,
                        conversations.c.customer_id,
                    )
                    .join(conversations, conversations.c.id == offers.c.conversation_id)
                    .where(offers.c.conversation_id == conversation_id)
                )
            ).first()
        return offer_dict(row) if row is not None else None

    async def visitor_conversations(self, addresses: list[str]) -> list[Any]:
        """Open web chat conversations of these visitor addresses."""
        found: list[Any] = []
        async with self.db.read() as conn:
            for start in range(0, len(addresses), 500):
                chunk = addresses[start : start + 500]
                found += (
                    await conn.execute(
                        select(
                            identities.c.address,
                            conversations.c.id,
                            conversations.c.queue_id,
                            conversations.c.status,
                        )
                        .join(identities, identities.c.id == conversations.c.identity_id)
                        .where(
                            identities.c.channel == "webchat",
                            identities.c.address.in_(chunk),
                            conversations.c.channel == "webchat",
                            conversations.c.status.in_((_QUEUED, _ASSIGNED)),
                        )
                    )
                ).all()
        return found

    async def waiting_in(self, queue_ids: list[int]) -> list[WaitingConversation]:
        """Every waiting conversation of these queues, for places in line."""
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(
                        conversations.c.id,
                        conversations.c.queue_id,
                        conversations.c.channel,
                        conversations.c.enqueued_at,
                        conversations.c.created_at,
                        conversations.c.priority,
                        (customers.c.tier == "key").label("key_account"),
                    )
                    .join(customers, customers.c.id == conversations.c.customer_id)
                    .where(conversations.c.status == _QUEUED, conversations.c.queue_id.in_(queue_ids))
                )
            ).all()
        return [
            WaitingConversation(
                id=r.id,
                queue_id=r.queue_id,
                channel=r.channel,
                enqueued_at=r.enqueued_at or r.created_at,
                priority=Priority(r.priority) if r.priority in Priority._value2member_map_ else Priority.NORMAL,
                key_account=bool(r.key_account),
            )
            for r in rows
        ]

    async def recent_asa(self, queue_ids: list[int], since: datetime, now: datetime) -> dict[int, float]:
        """Average speed of answer per queue over answers in [since, now)."""
        c = conversations.c
        async with self.db.read() as conn:
            rows = (
                await conn.execute(
                    select(c.queue_id, c.enqueued_at, c.first_agent_response_at).where(
                        c.queue_id.in_(queue_ids),
                        c.first_agent_response_at >= since,
                        c.first_agent_response_at <= now,
                        c.enqueued_at.is_not(None),
                        or_(c.abandoned_at.is_(None), c.first_agent_response_at <= c.abandoned_at),
                    )
                )
            ).all()
        waits: defaultdict[int, list[float]] = defaultdict(list)
        for r in rows:
            waits[r.queue_id].append((r.first_agent_response_at - r.enqueued_at).total_seconds())
        return {q: sum(w) / len(w) for q, w in waits.items()}


def offer_dict(row: Row[Any]) -> dict[str, Any]:
    """An offer as the agent's console shows it (with a countdown to expires_at)."""
    return {
        "conversation_id": row.conversation_id,
        "agent_id": row.agent_id,
        "queue_id": row.queue_id,
        "kind": row.kind,
        "from_agent_id": row.from_agent_id,
        "note": row.note,
        "offered_at": _iso(row.offered_at),
        "expires_at": _iso(row.expires_at),
        "channel": row.channel,
        "priority": row.priority,
        "subject": row.subject,
        "preview": row.last_message_preview,
        "customer_id": row.customer_id,
    }
