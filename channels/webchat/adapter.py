"""The web chat channel: the widget's websocket, live replies, resume after reconnect."""
from __future__ import annotations

import logging
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import unquote

from aiohttp import BodyPartReader, WSMsgType, web

from channels.base import (
    Attachment,
    Capabilities,
    DeliveryStatus,
    HubPort,
    InboundMessage,
    OutboundMessage,
    SendResult,
)
from channels.webchat.protocol import (
    UPLOAD_FIELDS,
    FrameError,
    Hello,
    Identity,
    Ping,
    SendText,
    TypingFrame,
    ack_frame,
    customer_view,
    parse_frame,
    parse_upload_fields,
    user_address,
    verify_identity,
    visitor_address,
)
from hub.client_address import Network
from hub.domain import DomainError
from hub.files import read_part_limited
from hub.http import request_address
from hub.ratelimit import SlidingWindow
from hub.wire import dumps

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


class VisitorDirectory(Protocol):
    """What the web chat needs to read from the hub (it never writes except through deliver)."""

    async def history(self, address: str, after: tuple[int, int] | None) -> list[dict[str, Any]]:
        """Messages the visitor should see after a cursor (all when None)."""
        ...

    async def typing(self, address: str, active: bool) -> None:
        """The visitor is typing (or stopped)."""
        ...


@dataclass(frozen=True, slots=True)
class WebchatConfig:
    """Limits and secrets for the web chat."""

    identity_secret: str = ""
    max_text: int = 4000
    max_frame: int = 64 * 1024
    allowed_origins: tuple[str, ...] = ()
    max_upload: int = 10 * 1024 * 1024  # a file from the widget (KEFU_ATTACHMENT_MAX_BYTES)
    uploads_per_minute: int = 20  # per client address; 0 = no limit
    messages_per_minute: int = 60  # per visitor; 0 = no limit
    messages_per_minute_per_address: int = 600  # per client address, all its visitors together
    trusted_proxies: tuple[Network, ...] = ()


class _Visitor:
    def __init__(self, ws: web.WebSocketResponse, peer: str) -> None:
        self.ws = ws
        self.peer = peer  # the client address, for rate limits
        self.address: str | None = None
        self.verified: tuple[tuple[str, str], ...] = ()
        self.name: str | None = None


class WebchatChannel:
    """Kefu's own chat channel, served to the embeddable widget over a websocket."""

    kind: ClassVar[str] = "webchat"
    capabilities: ClassVar[Capabilities] = Capabilities(
        buttons=True, attachments=True, html=False, typing=True, max_text_length=None
    )

    def __init__(self, config: WebchatConfig, directory: VisitorDirectory) -> None:
        self.config = config
        self.directory = directory
        self._hub: HubPort | None = None
        self._sockets: dict[str, set[web.WebSocketResponse]] = defaultdict(set)
        # Set by the hub's routing: the visitor's place in line (a "queue" frame) right after hello.
        self.queue_status: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None
        # Set by the hub: checks a customer's file (name, content type, bytes) and gives it a signed link.
        self.accept_file: Callable[[str, str, bytes], Awaitable[Attachment]] | None = None
        self._uploads = SlidingWindow(config.uploads_per_minute, 60.0)
        self._sent_by_visitor = SlidingWindow(config.messages_per_minute, 60.0)
        self._sent_from_address = SlidingWindow(config.messages_per_minute_per_address, 60.0)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """The widget script, the demo page, the websocket and the file upload."""
        return [
            web.get("/webchat/ws", self._socket),
            web.post("/webchat/upload", self._upload),
            web.get("/webchat/widget.js", self._widget),
            web.get("/demo", self._demo),
        ]

    async def start(self, hub: HubPort) -> None:
        """Remember where to deliver."""
        self._hub = hub

    async def stop(self) -> None:
        """Close every visitor socket."""
        await self.close_sockets()

    async def close_sockets(self) -> None:
        """Close every visitor socket (also called on app shutdown, before handlers are awaited)."""
        for socks in list(self._sockets.values()):
            for ws in list(socks):
                await ws.close(code=1001, message=b"server shutdown")

    async def send(self, message: OutboundMessage) -> SendResult:
        """Push a reply to every open tab of the visitor; stored replies reach closed tabs on resume."""
        frame = customer_view(
            {
                "id": message.message_id,
                "conversation_id": message.conversation_id,
                "seq": message.metadata.get("seq"),
                "author": message.metadata.get("author", "agent"),
                "text": message.text,
                "buttons": [{"title": b.title, "payload": b.payload} for b in message.buttons],
                "attachments": [
                    {"filename": a.filename, "content_type": a.content_type, "size": a.size, "url": a.url}
                    for a in message.attachments
                ],
                "created_at": message.metadata.get("created_at"),
            }
        )
        delivered = await self._push(message.recipient, frame)
        return SendResult(DeliveryStatus.DELIVERED if delivered else DeliveryStatus.SENT)

    async def send_typing(self, recipient: str, active: bool) -> None:
        """Show the agent's typing indicator in the visitor's tabs."""
        await self._push(recipient, {"type": "typing", "who": "agent", "active": active})

    async def send_queue_status(self, address: str, frame: dict[str, Any]) -> int:
        """Show the visitor their place in line, the typical wait, or that the team is closed."""
        return await self._push(address, frame)

    def connected_addresses(self) -> set[str]:
        """Visitors with at least one open widget on this process (they have not left)."""
        return {address for address, socks in self._sockets.items() if socks}

    async def _push(self, address: str, frame: dict[str, Any], skip: web.WebSocketResponse | None = None) -> int:
        text = dumps(frame)
        sent = 0
        for ws in list(self._sockets.get(address, ())):
            if ws is skip or ws.closed:
                continue
            try:
                await ws.send_str(text)
                sent += 1
            except (ConnectionResetError, RuntimeError):
                self._sockets[address].discard(ws)
        return sent

    def _origin_allowed(self, request: web.Request) -> bool:
        if not self.config.allowed_origins:
            return True
        return request.headers.get("Origin", "") in self.config.allowed_origins

    async def _widget(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "widget.js", headers={"Cache-Control": "no-cache"})

    async def _demo(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "demo.html", headers={"Cache-Control": "no-cache"})

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            raise web.HTTPForbidden(text="this site may not embed the chat")
        # Over-size frames get an error frame, so allow more than the limit at the socket level.
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=max(self.config.max_frame * 4, 1 << 20))
        await ws.prepare(request)
        visitor = _Visitor(ws, self._peer(request))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(visitor, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    await ws.send_json({"type": "error", "code": "binary_frame", "message": "send JSON text frames"})
        finally:
            if visitor.address is not None:
                self._sockets[visitor.address].discard(ws)
                if not self._sockets[visitor.address]:
                    del self._sockets[visitor.address]
                    await self.directory.typing(visitor.address, False)
        return ws

    async def _on_text(self, visitor: _Visitor, raw: str) -> None:
        ws = visitor.ws
        # UTF-8 takes at most 4 bytes a character: most frames are measured without encoding them.
        if len(raw) * 4 > self.config.max_frame and len(raw.encode()) > self.config.max_frame:
            await ws.send_json(
                {"type": "error", "code": "frame_too_large",
                 "message": f"frames are limited to {self.config.max_frame} bytes"}
            )
            return
        try:
            frame = parse_frame(raw, max_text=self.config.max_text)
            if isinstance(frame, Hello):
                await self._hello(visitor, frame)
            elif isinstance(frame, Ping):
                await ws.send_json({"type": "pong"})
            elif visitor.address is None:
                raise FrameError("hello_first", "send a hello frame first")
            elif isinstance(frame, SendText):
                await self._message(visitor, frame)
            elif isinstance(frame, TypingFrame):
                await self.directory.typing(visitor.address, frame.active)
        except FrameError as exc:
            await ws.send_json(exc.frame())

    async def _hello(self, visitor: _Visitor, hello: Hello) -> None:
        if visitor.address is not None:
            raise FrameError("already_hello", "this socket already said hello")
        token = hello.token
        if token is None and hello.identity is None:
            token = secrets.token_urlsafe(24)
        address, visitor.verified, visitor.name = self._who(token, hello.identity)
        visitor.address = address
        self._sockets[address].add(visitor.ws)
        history = await self.directory.history(address, hello.cursor)
        await visitor.ws.send_json(
            {
                "type": "welcome",
                "token": token,
                "verified": hello.identity is not None,
                "messages": [customer_view(m) for m in history],
            },
            dumps=dumps,
        )
        if self.queue_status is not None:
            try:
                status = await self.queue_status(address)
            except Exception:  # a failed lookup must not cost the visitor their chat
                log.exception("queue status for a web chat visitor failed")
                status = None
            if status is not None:
                await visitor.ws.send_json(status)

    def _who(
        self, token: str | None, identity: Identity | None
    ) -> tuple[str, tuple[tuple[str, str], ...], str | None]:
        """The visitor's address, verified addresses and name, from a token or a signed identity."""
        if identity is None:
            assert token is not None
            return visitor_address(token), (), None
        if not self.config.identity_secret:
            raise FrameError("identity_not_configured", "identity verification is not set up on this Kefu")
        if not verify_identity(self.config.identity_secret, identity):
            raise FrameError("identity_rejected", "identity.user_hash does not match")
        verified = [("user", identity.user_id)]
        if identity.email:
            verified.append(("email", identity.email))
        return user_address(identity.user_id), tuple(verified), identity.name

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        """A customer's file (one multipart POST, from the widget's page): stored as a message, like a send
        frame with the same client_id would be, and shown in the visitor's open tabs."""
        assert self._hub is not None
        origin = request.headers.get("Origin")
        allow = origin if self.config.allowed_origins and origin else "*"
        cors = {"Access-Control-Allow-Origin": allow, "Vary": "Origin"}

        def refused(status: int, code: str, message: str) -> web.Response:
            return web.json_response({"error": code, "message": message}, status=status, headers=cors)

        if not self._origin_allowed(request):
            return refused(403, "origin_not_allowed", "this site may not embed the chat")
        if self.accept_file is None:
            return refused(503, "uploads_off", "this Kefu does not take files from the chat")
        wait = math.ceil(self._uploads.take(self._peer(request), time.monotonic()))
        if wait:
            # Refused before the body is read: a flood of files costs neither disk nor memory.
            cors["Retry-After"] = str(wait)
            return refused(429, "too_many_uploads", f"too many files in a minute; try again in {wait} s")
        try:
            fields, upload = await self._read_upload(request)
            form = parse_upload_fields(fields, max_text=self.config.max_text)
            if upload is None:
                raise FrameError("missing_file", "send one file in the 'file' field", form.client_id)
            address, verified, name = self._who(form.token, form.identity)
            attachment = await self.accept_file(*upload)
        except FrameError as exc:
            return refused(400, exc.code, exc.message)
        except DomainError as exc:
            return refused(exc.status, exc.code, exc.message)
        result = await self._hub.deliver(
            InboundMessage(
                channel=self.kind,
                external_id=f"{address}:{form.client_id}",
                sender=address,
                sender_name=name,
                text=form.text,
                attachments=(attachment,),
                verified_addresses=verified,
                metadata={"client_id": form.client_id},
            )
        )
        view = customer_view(
            {
                "id": result.message_id,
                "conversation_id": result.conversation_id,
                "seq": result.seq,
                "author": "customer",
                "text": form.text,
                "attachments": [
                    {"filename": attachment.filename, "content_type": attachment.content_type,
                     "size": attachment.size, "url": attachment.url}
                ],
                "created_at": None,
                "meta": {"client_id": form.client_id},
            }
        )
        if not result.duplicate:
            await self._push(address, view)  # every open tab of this visitor shows it
        ack = ack_frame(form.client_id, result.message_id, result.conversation_id, result.seq, result.duplicate)
        return web.json_response({**ack, "message": view}, headers=cors, dumps=dumps)

    async def _read_upload(self, request: web.Request) -> tuple[dict[str, str], tuple[str, str, bytes] | None]:
        """The form's text fields and its one file (name, content type, bytes); never reads past the limits."""
        try:
            reader = await request.multipart()
        except (AssertionError, ValueError, KeyError) as exc:
            raise FrameError("bad_form", f"send multipart/form-data ({exc})") from exc
        fields: dict[str, str] = {}
        upload: tuple[str, str, bytes] | None = None
        while True:
            part = await reader.next()
            if part is None:
                return fields, upload
            if not isinstance(part, BodyPartReader):
                raise FrameError("bad_form", "nested multipart bodies are not accepted")
            if part.name == "file":
                if upload is not None:
                    raise FrameError("too_many_files", "send one file per message")
                data = await read_part_limited(part, self.config.max_upload + 1)
                # Browsers send the name as UTF-8 with " as %22; aiohttp's client percent-encodes it all.
                upload = (unquote(part.filename or ""), part.headers.get("Content-Type", ""), data)
            elif part.name in UPLOAD_FIELDS:
                raw = await read_part_limited(part, self.config.max_text * 4 + 1)
                fields[part.name] = raw.decode("utf-8", errors="replace")
            else:
                raise FrameError("unknown_field", f"unknown form field {part.name!r}")

    def _peer(self, request: web.Request) -> str:
        return request_address(request, self.config.trusted_proxies)

    def _check_rate(self, visitor: _Visitor, client_id: str) -> None:
        """Count a message, or refuse it (nothing stored) when this visitor or address sent too many."""
        now = time.monotonic()
        wait = max(
            self._sent_by_visitor.retry_after(visitor.address, now),
            self._sent_from_address.retry_after(visitor.peer, now),
        )
        if wait:
            seconds = math.ceil(wait)
            raise FrameError(
                "rate_limited", f"too many messages; send again in {seconds} s", client_id, retry_after=seconds
            )
        self._sent_by_visitor.hit(visitor.address, now)
        self._sent_from_address.hit(visitor.peer, now)

    async def _message(self, visitor: _Visitor, frame: SendText) -> None:
        assert visitor.address is not None and self._hub is not None
        self._check_rate(visitor, frame.client_id)
        inbound = InboundMessage(
            channel=self.kind,
            external_id=f"{visitor.address}:{frame.client_id}",
            sender=visitor.address,
            sender_name=visitor.name,
            text=frame.text,
            verified_addresses=visitor.verified,
            metadata={"client_id": frame.client_id},
        )
        result = await self._hub.deliver(inbound)
        await visitor.ws.send_str(
            dumps(ack_frame(frame.client_id, result.message_id, result.conversation_id, result.seq, result.duplicate))
        )
        if not result.duplicate and len(self._sockets.get(visitor.address, ())) > 1:
            # The visitor's other open tabs show what was sent from this one.
            echo = {
                "type": "message",
                "id": result.message_id,
                "conversation_id": result.conversation_id,
                "seq": result.seq,
                "author": "customer",
                "text": frame.text,
                "buttons": [],
                "attachments": [],
                "created_at": None,
                "client_id": frame.client_id,
            }
            await self._push(visitor.address, echo, skip=visitor.ws)


