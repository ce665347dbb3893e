"""The routing API: offers, transfers, queues, calendars, agents' skills and capacity, and metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from agents_ui.security import current_agent, requires
from hub.domain import DomainError, Presence, Role
from hub.http import path_int, read_json
from hub.routing import admin
from hub.routing.checks import (
    check_agent_routing,
    check_calendar,
    check_conversation_routing,
    check_queue,
    check_unknown,
)
from hub.routing.reports import agent_csat, agent_metrics, metrics_dict, queue_metrics
from hub.routing.service import ROUTING_SERVICE, RoutingService
from hub.routing.transfer import ToAgent, ToQueue

routes = web.RouteTableDef()

MAX_NOTE = 2000
SUPERVISORS = (Role.SUPERVISOR,)  # admins are always allowed


def _routing(request: web.Request) -> RoutingService:
    return request.app[ROUTING_SERVICE]


def _is_supervisor(request: web.Request) -> bool:
    return current_agent(request).role in (Role.SUPERVISOR, Role.ADMIN)


# ---------------------------------------------------------------- offers


@routes.get("/api/offers")
@requires()
async def my_offers(request: web.Request) -> web.Response:
    """The offers ringing at me now, each with expires_at for a countdown."""
    offers = await _routing(request).reads.offers_for(current_agent(request).id)
    return web.json_response({"offers": offers})


@routes.post("/api/offers/{id}/accept")
@requires()
async def accept_offer(request: web.Request) -> web.Response:
    """Take the conversation offered to me."""
    conversation_id = path_int(request, "id")
    routing = _routing(request)
    await routing.accept(conversation_id, current_agent(request).id)
    return web.json_response({"conversation_id": conversation_id, "accepted": True})


@routes.post("/api/offers/{id}/decline")
@requires()
async def decline_offer(request: web.Request) -> web.Response:
    """Say no to an offer; it goes to the next agent."""
    conversation_id = path_int(request, "id")
    await _routing(request).decline(conversation_id, current_agent(request).id)
    return web.json_response({"conversation_id": conversation_id, "declined": True})


@routes.get("/api/me/routing")
@requires()
async def my_routing(request: web.Request) -> web.Response:
    """My presence, skills, capacity, open load and ringing offers."""
    routing = _routing(request)
    agent_id = current_agent(request).id
    (me,) = await routing.reads.agents(agent_id)
    return web.json_response({"agent": me, "offers": await routing.reads.offers_for(agent_id)})


# ---------------------------------------------------------------- transfers and conversation needs


@routes.post("/api/conversations/{id}/transfer")
@requires()
async def transfer(request: web.Request) -> web.Response:
    """Transfer to an agent ({"agent_id"}) or a queue ({"queue_id"}), with an optional note."""
    conversation_id = path_int(request, "id")
    data = await read_json(request)
    check_unknown(data, {"agent_id", "queue_id", "note", "force"})
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise DomainError(f"'note' must be a string of at most {MAX_NOTE} characters", code="invalid_field")
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise DomainError("'force' must be true or false", code="invalid_field")
    target: ToAgent | ToQueue
    if ("agent_id" in data) == ("queue_id" in data):
        raise DomainError("give exactly one of 'agent_id' or 'queue_id'", code="missing_field")
    key = "agent_id" if "agent_id" in data else "queue_id"
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DomainError(f"'{key}' must be an id", code="invalid_field")
    target = ToAgent(value, force=force) if key == "agent_id" else ToQueue(value)
    agent = current_agent(request)
    await _routing(request).transfer(
        conversation_id, agent.id, _is_supervisor(request), target, note.strip() if note else None
    )
    return web.json_response({"conversation_id": conversation_id, "transfer": {key: value}})


@routes.patch("/api/conversations/{id}/routing")
@requires(*SUPERVISORS)
async def conversation_routing(request: web.Request) -> web.Response:
    """Set a conversation's priority, required skills or language."""
    conversation_id = path_int(request, "id")
    values = check_conversation_routing(await read_json(request))
    await _routing(request).set_conversation_routing(conversation_id, values, f"agent:{current_agent(request).id}")
    return web.json_response({"conversation_id": conversation_id, **values})


# ---------------------------------------------------------------- queues


@routes.get("/api/queues")
@requires()
async def list_queues(request: web.Request) -> web.Response:
    """Every queue with its settings, members and waiting count."""
    return web.json_response({"queues": await _routing(request).reads.queues()})


@routes.get("/api/queues/{id}")
@requires()
async def get_queue(request: web.Request) -> web.Response:
    """One queue."""
    (queue,) = await _routing(request).reads.queues(path_int(request, "id"))
    return web.json_response({"queue": queue})


@routes.post("/api/queues")
@requires(*SUPERVISORS)
async def create_queue(request: web.Request) -> web.Response:
    """Add a queue."""
    values = check_queue(await read_json(request), creating=True)
    routing = _routing(request)
    queue_id = await routing.admin(lambda conn, ctx: admin.create_queue_tx(conn, values, ctx))
    (queue,) = await routing.reads.queues(queue_id)
    return web.json_response({"queue": queue}, status=201)


@routes.patch("/api/queues/{id}")
@requires(*SUPERVISORS)
async def update_queue(request: web.Request) -> web.Response:
    """Change a queue's settings."""
    queue_id = path_int(request, "id")
    values = check_queue(await read_json(request), creating=False)
    routing = _routing(request)
    await routing.admin(lambda conn, ctx: admin.update_queue_tx(conn, queue_id, values, ctx))
    (queue,) = await routing.reads.queues(queue_id)
    return web.json_response({"queue": queue})


@routes.delete("/api/queues/{id}")
@requires(*SUPERVISORS)
async def delete_queue(request: web.Request) -> web.Response:
    """Remove a queue that no conversation ever used."""
    queue_id = path_int(request, "id")
    await _routing(request).admin(lambda conn, ctx: admin.delete_queue_tx(conn, queue_id, ctx))
    return web.json_response({"deleted": queue_id})


# ---------------------------------------------------------------- agents' routing


@routes.get("/api/routing/agents")
@requires(*SUPERVISORS)
async def list_agent_routing(request: web.Request) -> web.Response:
    """Every agent's skills, languages, capacity, queues, presence and load (the settings page's table)."""
    return web.json_response({"agents": await _routing(request).reads.agents()})


@routes.get("/api/agents/{id}/routing")
@requires(*SUPERVISORS)
async def get_agent_routing(request: web.Request) -> web.Response:
    """An agent's skills, languages, capacity, queues, presence and load."""
    (agent,) = await _routing(request).reads.agents(path_int(request, "id"))
    return web.json_response({"agent": agent})


@routes.patch("/api/agents/{id}/routing")
@requires(*SUPERVISORS)
async def set_agent_routing(request: web.Request) -> web.Response:
    """Set an agent's skills, languages, capacity per channel type and queues."""
    agent_id = path_int(request, "id")
    values = check_agent_routing(await read_json(request))
    routing = _routing(request)
    await routing.admin(lambda conn, ctx: admin.set_agent_routing_tx(conn, agent_id, dict(values), ctx))
    (agent,) = await routing.reads.agents(agent_id)
    return web.json_response({"agent": agent})


@routes.post("/api/agents/{id}/presence")
@requires(*SUPERVISORS)
async def set_agent_presence(request: web.Request) -> web.Response:
    """A supervisor sets an agent available, away or offline (offline requeues their chats)."""
    agent_id = path_int(request, "id")
    data = await read_json(request)
    check_unknown(data, {"presence"})
    try:
        presence = Presence(data.get("presence"))
    except ValueError:
        raise DomainError("'presence' must be available, away or offline", code="invalid_field") from None
    await _routing(request).set_presence(agent_id, presence, f"supervisor:{current_agent(request).id}")
    return web.json_response({"agent_id": agent_id, "presence": presence.value})


# ---------------------------------------------------------------- calendars


@routes.get("/api/calendars")
@requires()
async def list_calendars(request: web.Request) -> web.Response:
    """Every business-hours calendar."""
    return web.json_response({"calendars": await _routing(request).reads.calendars()})


@routes.get("/api/calendars/{id}")
@requires()
async def get_calendar(request: web.Request) -> web.Response:
    """One calendar."""
    (calendar,) = await _routing(request).reads.calendars(request.match_info["id"])
    return web.json_response({"calendar": calendar})


@routes.post("/api/calendars")
@requires(*SUPERVISORS)
async def create_calendar(request: web.Request) -> web.Response:
    """Add a calendar: {"id", "name", "timezone", "hours": {"mon": ["09:00-17:00"]}, "holidays", "special_hours"}."""
    values = check_calendar(await read_json(request), creating=True)
    routing = _routing(request)
    calendar_id = await routing.admin(lambda conn, ctx: admin.create_calendar_tx(conn, values, ctx))
    (calendar,) = await routing.reads.calendars(calendar_id)
    return web.json_response({"calendar": calendar}, status=201)


@routes.patch("/api/calendars/{id}")
@requires(*SUPERVISORS)
async def update_calendar(request: web.Request) -> web.Response:
    """Change a calendar's name, time zone, hours, holidays or special hours."""
    calendar_id = request.match_info["id"]
    values = check_calendar(await read_json(request), creating=False)
    if not values:
        raise DomainError("send at least one field to change", code="missing_field")
    routing = _routing(request)
    await routing.admin(lambda conn, ctx: admin.update_calendar_tx(conn, calendar_id, values, ctx))
    (calendar,) = await routing.reads.calendars(calendar_id)
    return web.json_response({"calendar": calendar})


@routes.delete("/api/calendars/{id}")
@requires(*SUPERVISORS)
async def delete_calendar(request: web.Request) -> web.Response:
    """Remove a calendar no queue uses."""
    calendar_id = request.match_info["id"]
    await _routing(request).admin(lambda conn, ctx: admin.delete_calendar_tx(conn, calendar_id, ctx))
    return web.json_response({"deleted": calendar_id})


# ---------------------------------------------------------------- metrics


def _instant(request: web.Request, name: str, default: datetime) -> datetime:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            f"'{name}' must be an ISO 8601 time such as 2026-03-02T09:00:00Z", code="invalid_range"
        ) from None
    if value.tzinfo is None:
        raise DomainError(f"'{name}' needs a time zone (Z or +08:00)", code="invalid_range")
    return value


def _number(request: web.Request, name: str, default: float) -> float:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise DomainError(f"'{name}' must be a number of seconds", code="invalid_field") from None
    if not 0 <= value <= 86400:
        raise DomainError(f"'{name}' must be from 0 to 86400 seconds", code="invalid_field")
    return value


def _range(request: web.Request, now: datetime) -> tuple[datetime, datetime]:
    end = _instant(request, "to", now)
    start = _instant(request, "from", end - timedelta(days=1))
    if start >= end:
        raise DomainError("'from' must be before 'to'", code="invalid_range")
    return start, end


@routes.get("/api/metrics/queues")
@requires(*SUPERVISORS)
async def queue_report(request: web.Request) -> web.Response:
    """Per-queue figures over [from, to) (default: the last 24 hours) plus waiting now (docs/metrics.md)."""
    routing = _routing(request)
    now = routing.clock()
    start, end = _range(request, now)
    threshold = _number(request, "threshold", routing.settings.sla_threshold_s)
    short = _number(request, "short_abandon", routing.settings.short_abandon_s)
    figures = await queue_metrics(routing.db, start, end, now, threshold, short)
    names = await routing.reads.queue_names()
    rows: list[dict[str, Any]] = []
    for queue_id, name in sorted(names.items()):
        found = figures.get(queue_id)
        data = metrics_dict(found) if found is not None else _empty_queue(queue_id)
        rows.append({**data, "name": name})
    return web.json_response(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "now": now.isoformat(),
            "threshold_seconds": threshold,
            "short_abandon_seconds": short,
            "queues": rows,
        }
    )


def _empty_queue(queue_id: int) -> dict[str, Any]:
    return {
        "queue_id": queue_id,
        "waiting_now": 0,
        "longest_wait_seconds": None,
        "answered": 0,
        "answered_within_threshold": 0,
        "abandoned": 0,
        "short_abandoned": 0,
        "service_level": None,
        "average_speed_of_answer_seconds": None,
        "handled": 0,
        "average_handle_time_seconds": None,
        "abandonment_rate": None,
    }


@routes.get("/api/metrics/agents")
@requires(*SUPERVISORS)
async def agent_report(request: web.Request) -> web.Response:
    """Per-agent handled, handle time, available and handling time, occupancy and CSAT over [from, to)."""
    routing = _routing(request)
    now = routing.clock()
    start, end = _range(request, now)
    figures = await agent_metrics(routing.db, start, end, now)
    ratings = await agent_csat(routing.db, start, end)
    rows = []
    for agent in await routing.reads.agents():
        data = figures.get(agent["id"]) or {
            "agent_id": agent["id"],
            "handled": 0,
            "average_handle_time_seconds": None,
            "available_seconds": 0.0,
            "handling_seconds": 0.0,
            "occupancy": None,
        }
        score, rated = ratings.get(agent["id"], (None, 0))
        rows.append(
            {**data, "name": agent["name"], "presence": agent["presence"], "csat": score, "csat_responses": rated}
        )
    return web.json_response({"from": start.isoformat(), "to": end.isoformat(), "now": now.isoformat(), "agents": rows})
