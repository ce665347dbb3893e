"""The agents' JSON API: login, inbox, conversations, replies, customer records, live socket."""
from __future__ import annotations

import functools
import logging
import secrets
import time
from datetime import timedelta
from typing import Any

from aiohttp import web

from agents_ui.files_api import read_reply_form
from agents_ui.push import serve_agent_socket
from agents_ui.security import (
    CSRF_HEADER,
    SESSION_COOKIE,
    current_agent,
    new_token,
    public,
    requires,
    same_origin,
    token_hash,
)
from channels.base import Attachment
from hub.actions import agent_actor
from hub.customers.errors import FieldError
from hub.customers.keys import CUSTOMERS
from hub.domain import DomainError, Presence, Role
from hub.events import Typing
from hub.handoff import handoff_card
from hub.http import field_str, json_error, path_int, read_json, request_address
from hub.keys import ACTIONS, BUS, DATABASE, LOGIN_GUARD, MERGE, PUSH, QUERIES, SETTINGS
from hub.passwords import hash_password_sync, verify_password
from hub.queries import INBOX_VIEWS
from hub.routing.service import ROUTING_SERVICE

log = logging.getLogger(__name__)
routes = web.RouteTableDef()



@functools.cache
def _dummy_hash() -> str:
    # Checked when the email is unknown, so a wrong email costs as long as a wrong password.
    return hash_password_sync(secrets.token_urlsafe(16))


def _actor(request: web.Request):  # type: ignore[no-untyped-def]
    agent = current_agent(request)
    return agent_actor(agent.id, agent.role)


@routes.post("/api/login")
@public
async def login(request: web.Request) -> web.Response:
    """Check email and password; set the session cookie and hand back the CSRF token."""
    if not same_origin(request):
        return json_error(403, "cross_origin", "log in from Kefu's own page")
    data = await read_json(request)
    email = field_str(data, "email", max_len=320)
    password = field_str(data, "password", max_len=1000)
    settings = request.app[SETTINGS]
    guard = request.app[LOGIN_GUARD]
    address = request_address(request, settings.proxy_networks)
    wait = guard.retry_after(email, address, time.monotonic())
    if wait:
        # Checked before the password, so a blocked guesser learns nothing and costs no hashing.
        response = json_error(429, "too_many_attempts", f"too many failed logins; try again in {wait} s",
                              retry_after=wait)
        response.headers["Retry-After"] = str(wait)
        return response
    queries = request.app[QUERIES]
    agent = await queries.agent_by_email(email)
    ok = await verify_password(agent.password_hash if agent else _dummy_hash(), password)
    if agent is None or not ok:
        guard.failed(email, address, time.monotonic())
        log.warning("failed login for %r from %s", email[:320], address)
        return json_error(401, "bad_credentials", "wrong email or password")
    guard.succeeded(email, address)
    token, csrf = new_token(), new_token()
    await request.app[ACTIONS].create_session(
        agent.id, token_hash(token), csrf, timedelta(hours=settings.session_ttl_hours)
    )
    # Logging in makes the agent available; through routing it is recorded and pushed now, and
    # waiting chats are offered without waiting for routing's next pass.
    await request.app[ROUTING_SERVICE].set_presence(agent.id, Presence.AVAILABLE, "login")
    response = web.json_response(
        {"agent": {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role},
         "csrf_token": csrf}
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="Lax",
        secure=settings.cookie_secure,
        max_age=settings.session_ttl_hours * 3600,
        path="/",
    )
    return response


@routes.post("/api/logout")
@requires()
async def logout(request: web.Request) -> web.Response:
    """End the session."""
    agent = current_agent(request)
    await request.app[ACTIONS].end_session(agent.session_hash)
    response = web.json_response({"ok": True})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


@routes.get("/api/me")
@requires()
async def me(request: web.Request) -> web.Response:
    """Who is logged in, with a CSRF token for the page to reuse."""
    agent = current_agent(request)
    return web.json_response(
        {"agent": {"id": agent.id, "name": agent.name, "email": agent.email, "role": agent.role.value},
         "csrf_token": agent.csrf_token, "csrf_header": CSRF_HEADER}
    )


@routes.post("/api/me/presence")
@requires()
async def set_presence(request: web.Request) -> web.Response:
    """Set my presence: available, away or offline."""
    data = await read_json(request)
    value = field_str(data, "presence", max_len=16)
    try:
        presence = Presence(value)
    except ValueError as exc:
        raise DomainError("presence must be available, away or offline", code="invalid_field") from exc
    # Through routing, so the change is recorded and published now: offers to an agent going away are
    # withdrawn and their chats requeued at once, not on routing's next pass.
    await request.app[ROUTING_SERVICE].set_presence(current_agent(request).id, presence, "console")
    return web.json_response({"presence": presence.value})


@routes.get("/api/conversations")
@requires()
async def list_conversations(request: web.Request) -> web.Response:
    """An inbox view: queued, mine, assigned, bot, resolved or all."""
    view = request.query.get("view", "queued")
    if view not in INBOX_VIEWS:
        raise DomainError(f"view must be one of {', '.join(INBOX_VIEWS)}", code="invalid_view")
    try:
        limit = min(200, max(1, int(request.query.get("limit", "50"))))
        before = int(request.query["before"]) if "before" in request.query else None
    except ValueError as exc:
        raise DomainError("limit and before must be numbers", code="invalid_field") from exc
    agent = current_agent(request)
    queries = request.app[QUERIES]
    items = await queries.inbox(view, agent.id, limit=limit, before_id=before)
    counts = await queries.counts(agent.id)
    return web.json_response({"view": view, "conversations": items, "counts": counts})


@routes.get("/api/conversations/{id}")
@requires()
async def get_conversation(request: web.Request) -> web.Response:
    """A conversation with every message and note, and the bot's hand-off card when it handed over."""
    conversation_id = path_int(request, "id")
    queries = request.app[QUERIES]
    conversation = await queries.conversation(conversation_id)
    messages = await queries.messages(conversation_id)
    if conversation["handoff_reason"]:
        db = request.app[DATABASE]
        conversation["handoff"] = await handoff_card(db, conversation_id, conversation["customer_id"])
    return web.json_response({"conversation": conversation, "messages": messages})


@routes.post("/api/conversations/{id}/take")
@requires()
async def take(request: web.Request) -> web.Response:
    """Take a waiting conversation."""
    conversation_id = path_int(request, "id")
    await request.app[ACTIONS].take_conversation(conversation_id, _actor(request))
    return web.json_response({"conversation": await request.app[QUERIES].conversation(conversation_id)})


@routes.post("/api/conversations/{id}/messages")
@requires()
async def reply(request: web.Request) -> web.Response:
    """Reply to the customer on the conversation's channel: JSON {"text"}, or a form with text and files."""
    conversation_id = path_int(request, "id")
    max_text = request.app[SETTINGS].webchat_max_text * 4
    files: list[Attachment] = []
    if request.content_type == "multipart/form-data":
        # With files from the composer: a `text` field and `file` parts (see agents_ui/files_api.py).
        text, files = await read_reply_form(request, max_text)
    else:
        text = field_str(await read_json(request), "text", max_len=max_text)
    message_id = await request.app[ACTIONS].post_reply(conversation_id, _actor(request), text, attachments=files)
    return web.json_response({"message": await request.app[QUERIES].message(message_id)}, status=201)


@routes.post("/api/conversations/{id}/notes")
@requires()
async def note(request: web.Request) -> web.Response:
    """Add a private note that the customer never sees."""
    conversation_id = path_int(request, "id")
    data = await read_json(request)
    text = field_str(data, "text", max_len=20_000)
    message_id = await request.app[ACTIONS].add_note(conversation_id, _actor(request), text)
    return web.json_response({"message": await request.app[QUERIES].message(message_id)}, status=201)


@routes.post("/api/conversations/{id}/resolve")
@requires()
async def resolve(request: web.Request) -> web.Response:
    """Resolve a conversation."""
    conversation_id = path_int(request, "id")
    await request.app[ACTIONS].resolve(conversation_id, _actor(request))
    return web.json_response({"conversation": await request.app[QUERIES].conversation(conversation_id)})


@routes.post("/api/conversations/{id}/reopen")
@requires()
async def reopen(request: web.Request) -> web.Response:
    """Reopen a resolved conversation and take it."""
    conversation_id = path_int(request, "id")
    await request.app[ACTIONS].reopen(conversation_id, _actor(request))
    return web.json_response({"conversation": await request.app[QUERIES].conversation(conversation_id)})


@routes.get("/api/customers/{id}")
@requires()
async def get_customer(request: web.Request) -> web.Response:
    """A customer record: fields, identities, conversations."""
    customer_id = path_int(request, "id")
    return web.json_response({"customer": await request.app[QUERIES].customer(customer_id)})


@routes.patch("/api/customers/{id}")
@requires()
async def patch_customer(request: web.Request) -> web.Response:
    """Edit a customer's fields through the record service's checks; the change is logged on the record.

    Takes the record's field names (see PATCH /api/customers/{id}/record) and, as before, `display_name`,
    `email` and `phone`: the latter two replace the primary address and keep the others.
    """
    customer_id = path_int(request, "id")
    data = await read_json(request)
    records = request.app[CUSTOMERS]
    agent = current_agent(request)
    try:
        fields = await _record_fields(records, customer_id, data)
        changed = await records.records.update(customer_id, f"agent:{agent.id}", fields)
    except FieldError as error:
        return json_error(error.status, error.code, error.message, field=error.field)
    return web.json_response({"customer": await request.app[QUERIES].customer(customer_id), "changed": changed})


_LEGACY_CONTACTS = {"email": "emails", "phone": "phones"}


async def _record_fields(records: Any, customer_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The body in the record service's names (display_name -> name, email/phone -> the contact lists)."""
    fields = dict(data)
    if "display_name" in fields:
        if "name" in fields:
            raise FieldError("name", "give name or display_name, not both", code="invalid_field")
        fields["name"] = fields.pop("display_name")
    legacy = [name for name in _LEGACY_CONTACTS if name in fields]
    if not legacy:
        return fields
    current = await records.reads.record(customer_id)
    for name in legacy:
        plural, value = _LEGACY_CONTACTS[name], fields.pop(name)
        if plural in fields:
            raise FieldError(plural, f"give {plural} or {name}, not both", code="invalid_field")
        if value is not None and not isinstance(value, str):
            raise FieldError(name, f"'{name}' must be a string or null", code="invalid_field")
        others = list(current[plural][1:])
        fields[plural] = ([value] if value else []) + others
    return fields


@routes.post("/api/customers/{id}/merge")
@requires()
async def merge_customer(request: web.Request) -> web.Response:
    """Merge this customer into another: {"into": other_id}; their histories become one."""
    source_id = path_int(request, "id")
    data = await read_json(request)
    target_id = data.get("into")
    if not isinstance(target_id, int) or isinstance(target_id, bool):
        raise DomainError("'into' must be the id of the customer to merge into", code="invalid_field")
    await request.app[MERGE].merge(source_id, target_id, _actor(request))
    return web.json_response({"customer": await request.app[QUERIES].customer(target_id)})


@routes.post("/api/customers/{id}/unmerge")
@requires()
async def unmerge_customer(request: web.Request) -> web.Response:
    """Undo a merge: the customer gets back what the merge moved."""
    source_id = path_int(request, "id")
    target_id = await request.app[MERGE].unmerge(source_id, _actor(request))
    queries = request.app[QUERIES]
    return web.json_response(
        {"customer": await queries.customer(source_id), "former_target": await queries.customer(target_id)}
    )


@routes.get("/api/customers/{id}/events")
@requires()
async def customer_events(request: web.Request) -> web.Response:
    """The customer's event log, newest first."""
    customer_id = path_int(request, "id")
    queries = request.app[QUERIES]
    await queries.customer(customer_id)
    return web.json_response({"events": await queries.customer_events(customer_id)})


@routes.get("/api/agents")
@requires(Role.SUPERVISOR)
async def list_agents(request: web.Request) -> web.Response:
    """Every agent account (supervisors and admins)."""
    return web.json_response({"agents": await request.app[QUERIES].agents()})


@routes.get("/api/ws")
@requires()
async def agent_socket(request: web.Request) -> web.StreamResponse:
    """The console's live socket."""
    if not same_origin(request):
        return json_error(403, "cross_origin", "the console socket only accepts Kefu's own pages")
    agent = current_agent(request)
    app = request.app

    async def on_typing(conversation_id: int, agent_id: int, active: bool) -> None:
        await app[QUERIES].conversation(conversation_id)
        await app[BUS].publish(Typing(conversation_id, "agent", active, agent_id))

    return await serve_agent_socket(request, app[PUSH], agent.id, agent.role, on_typing)
