"""Live push to agents: one websocket per console tab, fed by the event bus."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Any

from aiohttp import WSMsgType, web

from hub.domain import Role
from hub.events import (
    ConversationChanged,
    CustomerChanged,
    DeliveryChanged,
    Event,
    EventTypes,
    MessageQueued,
    MessageReceived,
    OfferEnded,
    OfferMade,
    PresenceChanged,
    SlaAlert,
    Typing,
)
from hub.queries import Queries
from hub.wire import dumps

log = logging.getLogger(__name__)

MAX_AGENT_FRAME = 16 * 1024


class AgentSocket:
    """One connected console tab."""

    def __init__(self, ws: web.WebSocketResponse, agent_id: int, role: Role) -> None:
        self.ws = ws
        self.agent_id = agent_id
        self.role = role
        self.watching: set[int] = set()
        # Supervisors and admins get every conversation's messages (asked once per socket per message).
        self.sees_everything = role in (Role.SUPERVISOR, Role.ADMIN)


# What the agent push acts on (on_event below); other events never wake it.
PUSHED_EVENTS: EventTypes = (
    MessageReceived,
    MessageQueued,
    ConversationChanged,
    DeliveryChanged,
    Typing,
    OfferMade,
    OfferEnded,
    SlaAlert,
    PresenceChanged,
    CustomerChanged,
)


class AgentPush:
    """Keeps the sockets and turns bus events into frames for the agents who should see them."""

    def __init__(self, queries: Queries) -> None:
        self.queries = queries
        self._sockets: set[AgentSocket] = set()
        self._by_agent: dict[int, set[AgentSocket]] = defaultdict(set)

    def add(self, sock: AgentSocket) -> None:
        """Register a connected tab."""
        self._sockets.add(sock)
        self._by_agent[sock.agent_id].add(sock)

    def remove(self, sock: AgentSocket) -> None:
        """Forget a closed tab."""
        self._sockets.discard(sock)
        self._by_agent[sock.agent_id].discard(sock)

    def connected_agents(self) -> set[int]:
        """Agents with at least one open tab."""
        return {a for a, socks in self._by_agent.items() if socks}

    async def close_all(self) -> None:
        """Close every socket (shutdown)."""
        for sock in list(self._sockets):
            await sock.ws.close(code=1001, message=b"server shutdown")

    def _audience(self, conversation_id: int, status: str, assignee_id: int | None) -> list[AgentSocket]:
        if assignee_id is None or status in ("queued", "bot"):
            return list(self._sockets)
        return [
            s for s in self._sockets if s.agent_id == assignee_id or s.sees_everything or conversation_id in s.watching
        ]

    def _agents(self, agent_ids: set[int | None], *, supervisors: bool = False) -> list[AgentSocket]:
        """Sockets of some agents (and of every supervisor, when asked)."""
        return [s for s in self._sockets if s.agent_id in agent_ids or (supervisors and s.sees_everything)]

    async def send_to(self, agent_ids: set[int], frame: dict[str, Any]) -> None:
        """Send a frame to every tab of some agents (console notices such as @mentions)."""
        await self._send(self._agents(set(agent_ids)), frame)

    async def send_all(self, frame: dict[str, Any]) -> None:
        """Send a frame to every connected tab."""
        await self._send(list(self._sockets), frame)

    async def _send(self, targets: list[AgentSocket], frame: dict[str, Any]) -> None:
        if not targets:
            return
        text = dumps(frame)
        for sock in targets:
            if sock.ws.closed:
                continue
            try:
                await sock.ws.send_str(text)
            except (ConnectionResetError, RuntimeError):
                self.remove(sock)

    async def on_event(self, event: Event) -> None:
        """Bus subscriber: build frames and fan them out."""
        if not self._sockets:
            return
        if isinstance(event, (MessageReceived, MessageQueued)):
            found = await self.queries.message_with_audience(event.message_id)
            if found is None:
                return
            message, conv = found
            targets = self._audience(event.conversation_id, conv["status"], conv["assignee_id"])
            # The message frame is enough for inboxes to update preview and unread counts; full
            # conversation frames go out only when a conversation's state changes.
            await self._send(targets, {"type": "message", "conversation_id": event.conversation_id, "message": message})
        elif isinstance(event, ConversationChanged):
            summary = await self.queries.conversation(event.conversation_id)
            await self._send(
                list(self._sockets), {"type": "conversation", "conversation": summary, "change": event.change}
            )
        elif isinstance(event, DeliveryChanged):
            await self._send(
                [s for s in self._sockets],
                {
                    "type": "delivery",
                    "conversation_id": event.conversation_id,
                    "message_id": event.message_id,
                    "status": event.status,
                },
            )
        elif isinstance(event, Typing) and event.who == "customer":
            conv = await self.queries.conversation(event.conversation_id)
            targets = self._audience(event.conversation_id, conv["status"], conv["assignee_id"])
            await self._send(
                targets,
                {"type": "typing", "conversation_id": event.conversation_id, "who": "customer", "active": event.active},
            )
        elif isinstance(event, OfferMade):
            # Only the agent it rings for; expires_at drives the console's countdown.
            summary = await self.queries.conversation(event.conversation_id)
            await self._send(
                self._agents({event.agent_id}),
                {
                    "type": "offer",
                    "conversation_id": event.conversation_id,
                    "queue_id": event.queue_id,
                    "kind": event.kind,
                    "from_agent_id": event.from_agent_id,
                    "expires_at": event.expires_at,
                    "conversation": summary,
                },
            )
        elif isinstance(event, OfferEnded):
            await self._send(
                self._agents({event.agent_id, event.from_agent_id}),
                {
                    "type": "offer_ended",
                    "conversation_id": event.conversation_id,
                    "agent_id": event.agent_id,
                    "outcome": event.outcome,
                },
            )
        elif isinstance(event, SlaAlert):
            await self._send(
                self._agents({event.assignee_id}, supervisors=True),
                {
                    "type": "sla",
                    "conversation_id": event.conversation_id,
                    "queue_id": event.queue_id,
                    "target": event.target,
                    "kind": event.kind,
                    "due_at": event.due_at,
                },
            )
        elif isinstance(event, PresenceChanged):
            await self._send(
                self._agents({event.agent_id}, supervisors=True),
                {"type": "presence", "agent_id": event.agent_id, "presence": event.presence, "reason": event.reason},
            )
        elif isinstance(event, CustomerChanged):
            await self._send(
                list(self._sockets), {"type": "customer", "customer_id": event.customer_id, "change": event.change}
            )


async def serve_agent_socket(
    request: web.Request,
    push: AgentPush,
    agent_id: int,
    role: Role,
    on_typing: Any,
) -> web.WebSocketResponse:
    """Run one agent websocket until it closes; bad frames get an error frame, not a disconnect."""
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024 * 1024)
    await ws.prepare(request)
    sock = AgentSocket(ws, agent_id, role)
    push.add(sock)
    await ws.send_json({"type": "hello", "agent_id": agent_id})
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                if msg.type == WSMsgType.BINARY:
                    await ws.send_json({"type": "error", "code": "binary_frame", "message": "send JSON text frames"})
                continue
            if len(msg.data) > MAX_AGENT_FRAME:
                await ws.send_json(
                    {
                        "type": "error",
                        "code": "frame_too_large",
                        "message": f"frames are limited to {MAX_AGENT_FRAME} bytes",
                    }
                )
                continue
            try:
                frame = json.loads(msg.data)
                if not isinstance(frame, dict):
                    raise ValueError("not an object")
            except ValueError:
                await ws.send_json({"type": "error", "code": "bad_json", "message": "frames must be JSON objects"})
                continue
            kind = frame.get("type")
            conv = frame.get("conversation_id")
            if kind == "ping":
                await ws.send_json({"type": "pong"})
            elif kind in ("watch", "unwatch", "typing") and not isinstance(conv, int):
                await ws.send_json(
                    {"type": "error", "code": "invalid_field", "message": "conversation_id must be a number"}
                )
            elif kind == "watch":
                sock.watching.add(conv)
            elif kind == "unwatch":
                sock.watching.discard(conv)
            elif kind == "typing":
                try:
                    await on_typing(conv, agent_id, bool(frame.get("active", True)))
                except Exception as exc:  # an unknown conversation must not close the socket
                    await ws.send_json({"type": "error", "code": "typing_failed", "message": str(exc)})
            else:
                await ws.send_json({"type": "error", "code": "unknown_type", "message": f"unknown frame type {kind!r}"})
    except asyncio.CancelledError:
        raise
    finally:
        push.remove(sock)
    return ws
