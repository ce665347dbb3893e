"""create_app: the aiohttp application, one cleanup context per resource."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime

from aiohttp import web

from agents_ui.api import routes as api_routes
from agents_ui.console_api import install_console
from agents_ui.pages import routes as page_routes
from agents_ui.push import PUSHED_EVENTS, AgentPush
from agents_ui.security import security_middleware
from bots.service import install as install_bot
from channels.base import Channel, HubPort, utcnow
from channels.webchat.adapter import WebchatChannel, WebchatConfig
from hub.actions import Actions
from hub.analysis.service import install as install_analysis
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.customers.service import install as install_customers
from hub.events import DeliveryChanged, Event, MessageQueued, MessageReceived, Typing
from hub.files import customer_file_acceptor, max_bytes_from_env
from hub.http import error_middleware
from hub.keys import ACTIONS, BUS, CHANNELS, DATABASE, LOGIN_GUARD, MERGE, OUTBOX, PUSH, QUERIES, SETTINGS
from hub.merge import CustomerMerge
from hub.outbox import OutboxDispatcher
from hub.queries import Queries, conversation_recipient
from hub.ratelimit import LoginGuard
from hub.redis_bus import RedisBus, make_bus
from hub.remote_replies import remote_reply_mirror
from hub.routing.service import install as install_routing
from hub.snapshots import WriteSnapshots
from hub.storage import migrate
from hub.storage.database import Database
from hub.webchat_directory import WebchatDirectory
from knowledge_base.service import install as install_knowledge_base

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 when it does not; Redis away (when configured) is only degraded."""
    ok = await request.app[DATABASE].ping()
    body = {"status": "ok" if ok else "unavailable", "database": "ok" if ok else "unreachable"}
    link_status = getattr(request.app[BUS], "link_status", None)
    if link_status is not None:
        body["redis"] = link_status()
        if ok and body["redis"] != "ok":
            body["status"] = "degraded"
    return web.json_response(body, status=200 if ok else 503)


def _typing_relay(app: web.Application) -> Callable[[Event], object]:
    async def relay(event: Event) -> None:
        if not isinstance(event, Typing) or event.who != "agent":
            return
        target = await conversation_recipient(app[DATABASE], event.conversation_id)
        if target is None:
            return
        channel = app[CHANNELS].get(target[0])
        send_typing = getattr(channel, "send_typing", None)
        if send_typing is not None:
            await send_typing(target[1], event.active)

    return relay


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    await migrate.upgrade(app[DATABASE])
    await app[ACTIONS].ensure_default_queue()
    yield
    await app[DATABASE].dispose()


async def _bus_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[BUS].start()
    yield
    await app[BUS].stop()


async def _channels_ctx(app: web.Application) -> AsyncIterator[None]:
    actions = app[ACTIONS]
    port = HubPort(deliver=actions.receive_inbound, report_delivery=actions.record_delivery)
    started: list[Channel] = []
    try:
        for channel in app[CHANNELS].values():
            await channel.start(port)
            started.append(channel)
        yield
    finally:
        for channel in reversed(started):
            await channel.stop()


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[OUTBOX].start()
    yield
    await app[OUTBOX].stop()


async def _close_sockets(app: web.Application) -> None:
    # Websockets are closed on shutdown, before aiohttp waits for open handlers to finish.
    await app[PUSH].close_all()
    for channel in app[CHANNELS].values():
        close = getattr(channel, "close_sockets", None)
        if close is not None:
            await close()


def create_app(
    settings: Settings,
    *,
    extra_channels: Sequence[Channel] = (),
    clock: Callable[[], datetime] = utcnow,
) -> web.Application:
    """Build the hub: storage, bus, actions, channels, outbox, agent API and pages."""
    database = Database(settings.effective_database_url)
    bus = make_bus(settings)
    snapshots = WriteSnapshots()
    queries = Queries(database, snapshots)
    actions = Actions(
        database, bus, settings, AttachmentStore(settings.data_dir / "attachments"), clock, snapshots=snapshots
    )
    push = AgentPush(queries)
    webchat = WebchatChannel(
        WebchatConfig(
            identity_secret=settings.webchat_identity_secret,
            max_text=settings.webchat_max_text,
            max_frame=settings.webchat_max_frame,
            allowed_origins=settings.webchat_allowed_origins,
            max_upload=max_bytes_from_env(),
            uploads_per_minute=settings.webchat_uploads_per_minute,
            messages_per_minute=settings.webchat_messages_per_minute,
            messages_per_minute_per_address=settings.webchat_messages_per_minute_per_address,
            trusted_proxies=settings.proxy_networks,
        ),
        WebchatDirectory(queries, bus),
    )
    webchat.accept_file = customer_file_acceptor(settings.data_dir, webchat.config.max_upload)
    channels: dict[str, Channel] = {webchat.kind: webchat}
    for channel in extra_channels:
        channels[channel.kind] = channel
    outbox = OutboxDispatcher(actions, queries, channels, sweep_interval_s=settings.outbox_sweep_interval_s)

    app = web.Application(
        middlewares=[error_middleware, security_middleware(lambda h: queries.session(h, clock()))],
        client_max_size=2 * 1024 * 1024,
    )
    app[SETTINGS] = settings
    app[DATABASE] = database
    app[BUS] = bus
    app[QUERIES] = queries
    app[ACTIONS] = actions
    app[PUSH] = push
    app[CHANNELS] = channels
    app[OUTBOX] = outbox
    app[MERGE] = CustomerMerge(database, bus, clock)
    app[LOGIN_GUARD] = LoginGuard(
        settings.login_max_failures, settings.login_max_failures_per_address, settings.login_failure_window_s
    )

    bus.subscribe(push.on_event, name="agent-push", origin="any", events=PUSHED_EVENTS)
    bus.subscribe(outbox.on_event, name="outbox", events=(MessageQueued,))
    bus.subscribe(_typing_relay(app), name="typing-relay", origin="any", events=(Typing,))  # type: ignore[arg-type]
    bus.subscribe(
        remote_reply_mirror(app), name="reply-mirror", origin="remote", events=(DeliveryChanged, MessageReceived)
    )

    app.cleanup_ctx.extend([_database_ctx, _bus_ctx, _channels_ctx, _outbox_ctx])
    app.on_shutdown.append(_close_sockets)
    if isinstance(bus, RedisBus):
        # Back from a Redis outage: clients reconnect, and resume what other processes published meanwhile.
        bus.on_relink(lambda: _close_sockets(app))
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(api_routes)
    app.router.add_routes(page_routes)
    for channel in channels.values():
        app.router.add_routes(channel.routes())
    install_knowledge_base(app)
    install_bot(app)
    install_routing(app)
    install_analysis(app)
    install_customers(app)
    install_console(app)
    return app
