"""Agent authentication: session cookies, CSRF tokens, and a role on every route."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from hub.domain import Role, role_allows
from hub.http import Handler, json_error

SESSION_COOKIE = "kefu_session"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

F = TypeVar("F", bound=Callable[..., Any])

PUBLIC = "public"
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class CurrentAgent:
    """The logged-in agent behind a request."""

    id: int
    name: str
    email: str
    role: Role
    csrf_token: str
    session_hash: str


AGENT_KEY = "kefu.agent"


def token_hash(token: str) -> str:
    """What the database stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A fresh unguessable token."""
    return secrets.token_urlsafe(32)


def requires(*roles: Role) -> Callable[[F], F]:
    """Declare which roles may call a route (admins always may)."""

    def mark(handler: F) -> F:
        handler.kefu_roles = frozenset(roles) if roles else ALL_ROLES  # type: ignore[attr-defined]
        return handler

    return mark


def public(handler: F) -> F:
    """Declare a route that needs no login."""
    handler.kefu_roles = PUBLIC  # type: ignore[attr-defined]
    return handler


def current_agent(request: web.Request) -> CurrentAgent:
    """The agent the security middleware found for this request."""
    agent = request.get(AGENT_KEY)
    if agent is None:
        raise web.HTTPUnauthorized(text="log in first")
    return agent  # type: ignore[no-any-return]


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request comes from another site."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    parts = urlsplit(origin)
    return parts.netloc == request.host


SessionLookup = Callable[[str], Any]


def security_middleware(lookup_session: Callable[[str], Any]) -> Callable[[web.Request, Handler], Any]:
    """Check login, role and CSRF for every route that is not marked public."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        roles = getattr(request.match_info.handler, "kefu_roles", None)
        if roles is None and request.match_info.http_exception is None and request.path.startswith("/api/"):
            # Fail closed: an agent API route that forgot to declare its roles is not served.
            return json_error(500, "route_without_roles", "this route declares no roles")
        if roles is None or roles == PUBLIC:
            return await handler(request)
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return json_error(401, "unauthorized", "log in first")
        session = await lookup_session(token_hash(token))
        if session is None:
            return json_error(401, "unauthorized", "your session has expired; log in again")
        agent = CurrentAgent(
            id=session.agent_id,
            name=session.name,
            email=session.email,
            role=Role(session.role),
            csrf_token=session.csrf_token,
            session_hash=session.id,
        )
        if not role_allows(agent.role, roles):
            return json_error(403, "forbidden", f"the {agent.role.value} role may not do this")
        if request.method in UNSAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not same_origin(request) or not hmac.compare_digest(sent, agent.csrf_token):
                return json_error(403, "csrf_failed", f"missing or wrong {CSRF_HEADER} header")
        request[AGENT_KEY] = agent
        return await handler(request)

    return middleware
