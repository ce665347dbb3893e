"""Typed application keys for everything the hub keeps on its aiohttp app."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from hub.actions import Actions
from hub.config import Settings
from hub.events import InProcessBus
from hub.queries import Queries
from hub.ratelimit import LoginGuard
from hub.storage.database import Database

if TYPE_CHECKING:
    from agents_ui.push import AgentPush
    from channels.base import Channel
    from hub.merge import CustomerMerge
    from hub.outbox import OutboxDispatcher

SETTINGS = web.AppKey("kefu.settings", Settings)
DATABASE = web.AppKey("kefu.database", Database)
BUS = web.AppKey("kefu.bus", InProcessBus)
ACTIONS = web.AppKey("kefu.actions", Actions)
QUERIES = web.AppKey("kefu.queries", Queries)
CHANNELS: web.AppKey[dict[str, Channel]] = web.AppKey("kefu.channels", dict)
OUTBOX: web.AppKey[OutboxDispatcher] = web.AppKey("kefu.outbox")
PUSH: web.AppKey[AgentPush] = web.AppKey("kefu.push")
MERGE: web.AppKey[CustomerMerge] = web.AppKey("kefu.merge")
LOGIN_GUARD = web.AppKey("kefu.login_guard", LoginGuard)
