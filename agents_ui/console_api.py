"""The console's own API: filtered inbox, labels/priority/snooze, notes with @mentions, canned
responses, the customer timeline, and the supervisor's wallboard and charts."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import String, cast, func, or_, select

from agents_ui.files_api import install_files
from agents_ui.security import current_agent, requires
from hub.actions import agent_actor
from hub.console_writes import (
    PRIORITIES,
    AgentMentioned,
    CannedChanged,
    ConsoleWrites,
    canned_dict,
    check_labels,
)
from hub.domain import DomainError, Role
from hub.events import ConversationChanged, Event, MessageReceived
from hub.http import field_str, path_int, read_json
from hub.keys import ACTIONS, BUS, DATABASE, PUSH, QUERIES
from hub.queries import conversation_dict
from hub.snooze import SnoozeWaker, check_interval
from hub.storage.console_tables import CannedResponse
from hub.storage.tables import AgentQueue, Conversation, Customer, SlaEvent
from hub.wire import stored_string_patterns

routes = web.RouteTableDef()

CONSOLE_WRITES: web.AppKey[ConsoleWrites] = web.AppKey("console_writes", ConsoleWrites)
SNOOZE: web.AppKey[SnoozeWaker] = web.AppKey("kefu.snooze", SnoozeWaker)

conversations = Conversation.__table__
customers = Customer.__table__
agent_queues = AgentQueue.__table__
canned = CannedResponse.__table__
sla_events = SlaEvent.__table__

CHANNELS = ("webchat", "email", "sms", "whatsapp", "telegram")
STATUSES = ("queued", "assigned", "bot", "resolved")
SUPERVISORS = (Role.SUPERVISOR,)
MENTION = re.compile(r"@([\w.\-]+)", re.UNICODE)
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


def _choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in choices:
        raise DomainError(f"'{name}' must be one of {', '.join(choices)}", code="invalid_field")
    return value


def _customer_name() -> Any:
    return func.coalesce(customers.c.display_name, customers.c.email, customers.c.phone).label("customer_name")


# ---------------------------------------------------------------- inbox


@routes.get("/api/console/inbox")
@requires()
async def inbox(request: web.Request) -> web.Response:
    """My open conversations plus what waits in my queues, with filters and counts."""
    channel = _choice(request, "channel", CHANNELS)
    status = _choice(request, "status", STATUSES)
    priority = _choice(request, "priority", PRIORITIES)
    label = request.query.get("label") or None
    if label is not None and (len(label) > 40 or '"' in label):
        raise DomainError("'label' is at most 40 characters, without quotes", code="invalid_field")
    try:
        limit = min(500, max(1, int(request.query.get("limit", "100"))))
    except ValueError as exc:
        raise DomainError("'limit' must be a number", code="invalid_field") from exc
    snoozed = request.query.get("snoozed", "0")
    if snoozed not in ("0", "1"):
        raise DomainError("'snoozed' must be 0 or 1", code="invalid_field")
    now = request.app[CONSOLE_WRITES].clock()
    agent = current_agent(request)
    db = request.app[DATABASE]
    async with db.read() as conn:
        my_queues = list(
            (await conn.execute(select(agent_queues.c.queue_id).where(agent_queues.c.agent_id == agent.id))).scalars()
        )

        def filtered(query: Any) -> Any:
            if channel:
                query = query.where(conversations.c.channel == channel)
            if priority:
                query = query.where(conversations.c.priority == priority)
            if snoozed == "1":
                query = query.where(conversations.c.snoozed_until > now)
            else:
                # Snoozed conversations stay out of the way until their time comes.
                query = query.where(or_(conversations.c.snoozed_until.is_(None), conversations.c.snoozed_until <= now))
            if label:
                # JSON list stored as text on both databases; the quotes make it match a whole label.
                labels_text = cast(conversations.c.labels, String)
                query = query.where(
                    or_(*(labels_text.contains(p, autoescape=True) for p in stored_string_patterns(label)))
                )
            return query

        base = select(conversations, _customer_name()).join(customers, customers.c.id == conversations.c.customer_id)
        rows: list[Any] = []
        if status in (None, "assigned", "resolved"):
            mine_status = status or "assigned"
            q = filtered(base.where(conversations.c.assignee_id == agent.id, conversations.c.status == mine_status))
            rows += (await conn.execute(q.order_by(conversations.c.id.desc()).limit(limit))).all()
        if status in (None, "queued", "bot"):
            q = base.where(conversations.c.status == (status or "queued"))
            if my_queues and agent.role == Role.AGENT:
                q = q.where(or_(conversations.c.queue_id.in_(my_queues), conversations.c.queue_id.is_(None)))
            q = filtered(q).order_by(conversations.c.enqueued_at, conversations.c.id).limit(limit)
            rows += (await conn.execute(q)).all()
        # Two index-backed counts instead of one OR, which would scan every conversation.
        tally = select(func.count(), func.coalesce(func.sum(conversations.c.unread_count), 0))
        queued_n, queued_unread = (await conn.execute(tally.where(conversations.c.status == "queued"))).one()
        mine_n, mine_unread = (
            await conn.execute(
                tally.where(conversations.c.assignee_id == agent.id, conversations.c.status == "assigned")
            )
        ).one()
    counts = {"queued": int(queued_n), "mine": int(mine_n), "unread": int(queued_unread) + int(mine_unread)}
    return web.json_response(
        {"conversations": [conversation_dict(r) for r in rows], "counts": counts, "queue_ids": my_queues}
    )


# ---------------------------------------------------------------- labels, priority, snooze


def _check_meta(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    unknown = set(data) - {"labels", "priority", "snoozed_until"}
    if unknown:
        raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}", code="unknown_field")
    if not data:
        raise DomainError("give labels, priority or snoozed_until", code="missing_field")
    values: dict[str, Any] = {}
    if "labels" in data:
        values["labels"] = check_labels(data["labels"])
    if "priority" in data:
        if data["priority"] not in PRIORITIES:
            raise DomainError(f"'priority' must be one of {', '.join(PRIORITIES)}", code="invalid_field")
        values["priority"] = data["priority"]
    if "snoozed_until" in data:
        raw = data["snoozed_until"]
        if raw is None:
            values["snoozed_until"] = None
        else:
            try:
                when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
            except ValueError:
                when = None
            if when is None or when.tzinfo is None:
                raise DomainError("'snoozed_until' must be an ISO time with a zone, or null", code="invalid_field")
            if when <= now:
                raise DomainError("'snoozed_until' must be in the future", code="invalid_field")
            values["snoozed_until"] = when.astimezone(UTC)
    return values


@routes.patch("/api/conversations/{id}/meta")
@requires()
async def set_meta(request: web.Request) -> web.Response:
    """Set labels, priority or a snooze time on a conversation."""
    conversation_id = path_int(request, "id")
    data = await read_json(request)
    writes = request.app[CONSOLE_WRITES]
    values = _check_meta(data, writes.clock())
    await writes.set_meta(conversation_id, values)
    conversation = await request.app[QUERIES].conversation(conversation_id)
    return web.json_response({"conversation": conversation})


# ---------------------------------------------------------------- notes with @mentions


async def _mentioned_agents(request: web.Request, text: str) -> list[int]:
    handles = {h.lower() for h in MENTION.findall(text)}
    if not handles:
        return []
    found = []
    for agent in await request.app[QUERIES].agents():
        local = agent["email"].split("@")[0].lower()
        compact = re.sub(r"\s+", "", agent["name"]).lower()
        if local in handles or compact in handles:
            found.append(int(agent["id"]))
    return found


@routes.post("/api/conversations/{id}/mention-notes")
@requires()
async def note_with_mentions(request: web.Request) -> web.Response:
    """A private note; every @handle (email name or name without spaces) gets a push notice."""
    conversation_id = path_int(request, "id")
    data = await read_json(request)
    text = field_str(data, "text", max_len=20_000)
    agent = current_agent(request)
    message_id = await request.app[ACTIONS].add_note(conversation_id, agent_actor(agent.id, agent.role), text)
    mentioned = [a for a in await _mentioned_agents(request, text) if a != agent.id]
    await request.app[CONSOLE_WRITES].mentioned(conversation_id, message_id, mentioned, agent.id)
    message = await request.app[QUERIES].message(message_id)
    return web.json_response({"message": message, "mentioned": mentioned}, status=201)


@routes.get("/api/console/colleagues")
@requires()
async def colleagues(request: web.Request) -> web.Response:
    """Agents to mention or transfer to: id, name, handle, presence."""
    rows = await request.app[QUERIES].agents()
    return web.json_response(
        {
            "agents": [
                {"id": a["id"], "name": a["name"], "handle": a["email"].split("@")[0], "presence": a["presence"]}
                for a in rows
                if a["active"]
            ]
        }
    )


# ---------------------------------------------------------------- canned responses


def _canned_fields(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(data) - {"shortcut", "title", "text"}
    if unknown:
        raise DomainError(f"unknown field(s): {', '.join(sorted(unknown))}", code="unknown_field")
    values: dict[str, Any] = {}
    for name, limit in (("shortcut", 64), ("title", 200), ("text", 10_000)):
        if name in data or not partial:
            values[name] = field_str(data, name, max_len=limit).strip()
            if not values[name]:
                raise DomainError(f"'{name}' must not be empty", code="invalid_field")
    if "shortcut" in values and not SHORTCUT.match(values["shortcut"]):
        raise DomainError("'shortcut' is lower-case letters, digits, - and _", code="invalid_field")
    if partial and not values:
        raise DomainError("give shortcut, title or text", code="missing_field")
    return values


@routes.get("/api/canned-responses")
@requires()
async def list_canned(request: web.Request) -> web.Response:
    """Every canned response, by shortcut."""
    async with request.app[DATABASE].read() as conn:
        rows = (await conn.execute(select(canned).order_by(canned.c.shortcut))).all()
    return web.json_response({"canned_responses": [canned_dict(r) for r in rows]})


@routes.post("/api/canned-responses")
@requires()
async def create_canned(request: web.Request) -> web.Response:
    """Add a canned response {"shortcut", "title", "text"}."""
    values = _canned_fields(await read_json(request), partial=False)
    canned_id = await request.app[CONSOLE_WRITES].create_canned(
        values["shortcut"], values["title"], values["text"], current_agent(request).id
    )
    return web.json_response({"canned_response": {"id": canned_id, **values}}, status=201)


@routes.patch("/api/canned-responses/{id}")
@requires()
async def update_canned(request: web.Request) -> web.Response:
    """Edit a canned response."""
    canned_id = path_int(request, "id")
    values = _canned_fields(await read_json(request), partial=True)
    await request.app[CONSOLE_WRITES].update_canned(canned_id, values)
    return web.json_response({"canned_response": {"id": canned_id, **values}})


@routes.delete("/api/canned-responses/{id}")
@requires(*SUPERVISORS)
async def delete_canned(request: web.Request) -> web.Response:
    """Remove a canned response (supervisors)."""
    await request.app[CONSOLE_WRITES].delete_canned(path_int(request, "id"))
    return web.json_response({"deleted": True})


# ---------------------------------------------------------------- the customer's whole timeline


@routes.get("/api/console/customers/{id}/conversations")
@requires()
async def customer_conversations(request: web.Request) -> web.Response:
    """Every conversation of a customer across channels, oldest first (the console collapses earlier ones)."""
    customer_id = path_int(request, "id")
    await request.app[QUERIES].customer(customer_id)
    async with request.app[DATABASE].read() as conn:
        rows = (
            await conn.execute(
                select(conversations, _customer_name())
                .join(customers, customers.c.id == conversations.c.customer_id)
                .where(conversations.c.customer_id == customer_id)
                .order_by(conversations.c.id)
            )
        ).all()
    return web.json_response({"conversations": [conversation_dict(r) for r in rows]})


# ---------------------------------------------------------------- wallboard and charts


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@routes.get("/api/console/wallboard")
@requires(*SUPERVISORS)
async def wallboard(request: web.Request) -> web.Response:
    """Live figures per queue (today so far) and agents by presence and load."""
    from hub.routing.reports import metrics_dict, queue_metrics
    from hub.routing.service import ROUTING_SERVICE

    routing = request.app[ROUTING_SERVICE]
    now = routing.clock()
    start = _day_start(now)
    figures = await queue_metrics(
        routing.db,
        start,
        now + timedelta(seconds=1),
        now,
        routing.settings.sla_threshold_s,
        routing.settings.short_abandon_s,
    )
    names = await routing.reads.queue_names()
    agents = await routing.reads.agents()
    async with request.app[DATABASE].read() as conn:
        csat = {
            q: (float(avg) if avg is not None else None, int(n))
            for q, avg, n in (
                await conn.execute(
                    select(
                        conversations.c.queue_id,
                        func.avg(conversations.c.csat_score),
                        func.count(conversations.c.csat_score),
                    )
                    .where(conversations.c.resolved_at >= start, conversations.c.csat_score.is_not(None))
                    .group_by(conversations.c.queue_id)
                )
            ).all()
        }
        breaches = {
            q: int(n)
            for q, n in (
                await conn.execute(
                    select(sla_events.c.queue_id, func.count())
                    .where(sla_events.c.at >= start, sla_events.c.kind == "breach")
                    .group_by(sla_events.c.queue_id)
                )
            ).all()
        }
    rows = []
    for queue_id in sorted(set(names) | {q for q in figures if q is not None}):
        found = figures.get(queue_id)
        data = metrics_dict(found) if found is not None else {"queue_id": queue_id, "waiting_now": 0}
        score, rated = csat.get(queue_id, (None, 0))
        members = [a for a in agents if queue_id in a["queue_ids"]]
        rows.append(
            {
                **data,
                "name": names.get(queue_id, f"#{queue_id}"),
                "csat": score,
                "csat_responses": rated,
                "sla_breaches": breaches.get(queue_id, 0),
                "agents": {p: sum(1 for a in members if a["presence"] == p) for p in ("available", "away", "offline")},
            }
        )
    agent_rows = [
        {
            "id": a["id"],
            "name": a["name"],
            "presence": a["presence"],
            "load": sum(a["open_load"].values()),
            "capacity": sum((a["capacity"] or {}).values()),
            "queue_ids": a["queue_ids"],
        }
        for a in agents
        if a["active"] and a["role"] in ("agent", "supervisor")
    ]
    return web.json_response({"now": now.isoformat(), "from": start.isoformat(), "queues": rows, "agents": agent_rows})


@routes.get("/api/console/series")
@requires(*SUPERVISORS)
async def series(request: web.Request) -> web.Response:
    """Volume and service level over time, by hour or day, split by channel and by queue."""
    from hub.routing.service import ROUTING_SERVICE

    bucket = _choice(request, "bucket", ("hour", "day")) or "hour"
    try:
        span = int(request.query.get("span", "24" if bucket == "hour" else "14"))
    except ValueError as exc:
        raise DomainError("'span' must be a number", code="invalid_field") from exc
    if not 1 <= span <= (168 if bucket == "hour" else 90):
        raise DomainError("'span' is 1-168 hours or 1-90 days", code="invalid_field")
    routing = request.app[ROUTING_SERVICE]
    now = routing.clock().astimezone(UTC)
    step = timedelta(hours=1) if bucket == "hour" else timedelta(days=1)
    end = now.replace(minute=0, second=0, microsecond=0) + step
    if bucket == "day":
        end = _day_start(now) + step
    start = end - span * step
    threshold = routing.settings.sla_threshold_s
    async with request.app[DATABASE].read() as conn:
        rows = (
            await conn.execute(
                select(
                    conversations.c.created_at,
                    conversations.c.channel,
                    conversations.c.queue_id,
                    conversations.c.enqueued_at,
                    conversations.c.assigned_at,
                ).where(conversations.c.created_at >= start, conversations.c.created_at < end)
            )
        ).all()
    labels = [(start + i * step).isoformat() for i in range(span)]
    by_channel: dict[str, list[int]] = defaultdict(lambda: [0] * span)
    by_queue: dict[str, list[int]] = defaultdict(lambda: [0] * span)
    answered = [0] * span
    within = [0] * span
    for created, channel, queue_id, enqueued, assigned in rows:
        i = int((created.astimezone(UTC) - start) / step)
        if not 0 <= i < span:
            continue
        by_channel[channel][i] += 1
        by_queue[str(queue_id)][i] += 1
        if enqueued is not None and assigned is not None:
            answered[i] += 1
            if (assigned - enqueued).total_seconds() <= threshold:
                within[i] += 1
    service = [round(w / a, 4) if a else None for w, a in zip(within, answered, strict=True)]
    return web.json_response(
        {"bucket": bucket, "labels": labels, "by_channel": by_channel, "by_queue": by_queue, "service_level": service}
    )


# ---------------------------------------------------------------- push and install


def _push_relay(app: web.Application) -> Any:
    async def relay(event: Event) -> None:
        push = app[PUSH]
        if isinstance(event, AgentMentioned):
            await push.send_to(
                {event.agent_id},
                {
                    "type": "mention",
                    "conversation_id": event.conversation_id,
                    "message_id": event.message_id,
                    "by_agent_id": event.by_agent_id,
                },
            )
        elif isinstance(event, CannedChanged):
            await push.send_all({"type": "canned", "canned_id": event.canned_id})

    return relay


async def _snooze_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[SNOOZE].start()
    yield
    await app[SNOOZE].stop()


def install_console(app: web.Application) -> None:
    """Add the console's writers, snooze waker, routes and push frames to the hub."""
    clock = app[ACTIONS].clock
    app[CONSOLE_WRITES] = ConsoleWrites(app[DATABASE], app[BUS], clock)
    check_s = check_interval(os.environ.get("KEFU_SNOOZE_CHECK_S"))
    app[SNOOZE] = SnoozeWaker(app[DATABASE], app[BUS], clock, check_s=check_s)
    app[BUS].subscribe(_push_relay(app), name="console-push", origin="any", events=(AgentMentioned, CannedChanged))
    app[BUS].subscribe(app[SNOOZE].on_event, name="snooze", events=(MessageReceived, ConversationChanged))
    app[BUS].subscribe(
        app[SNOOZE].on_remote_event, name="snooze-remote", origin="remote", events=(ConversationChanged,)
    )
    app.router.add_routes(routes)
    app.cleanup_ctx.append(_snooze_ctx)
    install_files(app)
