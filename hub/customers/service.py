"""Customer records in a running hub: one service object, its bus subscription, routes and start/stop."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.attachments import AttachmentStore
from hub.customers import privacy
from hub.customers.config import CustomerSettings
from hub.customers.csat_service import CsatService
from hub.customers.imports import CustomerImports
from hub.customers.keys import CUSTOMERS
from hub.customers.reads import CustomerReads
from hub.customers.records import CustomerRecords
from hub.customers.timeline import TimelineQuery, timeline
from hub.events import Bus, ConversationChanged, CustomerChanged
from hub.keys import ACTIONS, BUS, CHANNELS, DATABASE, SETTINGS
from hub.storage.database import Database

log = logging.getLogger(__name__)


class CustomersService:
    """Records, attributes, history, timeline, imports, CSAT and privacy requests over one database."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        clock: Callable[[], datetime],
        settings: CustomerSettings,
        attachments: AttachmentStore,
        csat: CsatService,
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.settings = settings
        self.attachments = attachments
        self.records = CustomerRecords(db, bus, clock)
        self.reads = CustomerReads(db)
        self.imports = CustomerImports(db, bus, clock, batch_size=settings.import_batch)
        self.csat = csat

    async def timeline(self, customer_id: int, query: TimelineQuery) -> dict[str, Any]:
        """One page of a customer's timeline."""
        return await timeline(self.db, customer_id, query)

    async def export_person(self, customer_id: int, actor: str) -> dict[str, Any]:
        """Everything Kefu holds about one person (the export is logged on the record)."""
        now = self.clock()
        return await self.db.run_write(lambda conn: privacy.export_tx(conn, customer_id, actor, now))

    async def erase_person(self, customer_id: int, actor: str, basis: str) -> privacy.Erasure:
        """Erase one person; attachment files only they used are deleted once the database committed."""
        now = self.clock()
        erasure = await self.db.run_write(lambda conn: privacy.erase_tx(conn, customer_id, actor, basis, now))
        await asyncio.get_running_loop().run_in_executor(None, self._delete_files, erasure.files)
        await self.bus.publish(CustomerChanged(customer_id, "erased"))
        return erasure

    def _delete_files(self, digests: tuple[str, ...]) -> None:
        for digest in digests:
            try:
                self.attachments.path_for(digest).unlink(missing_ok=True)
            except (OSError, ValueError):
                log.exception("could not delete attachment %s of an erased customer", digest)

    async def start(self) -> None:
        """Start sending due CSAT questions."""
        await self.csat.start()

    async def stop(self) -> None:
        """Stop CSAT and running imports."""
        await self.csat.stop()
        await self.imports.stop()


def _public_url(app: web.Application) -> str:
    settings = app[SETTINGS]
    return settings.public_url or f"http://{settings.host}:{settings.port}"


async def _customers_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[CUSTOMERS].start()
    yield
    await app[CUSTOMERS].stop()


def install(app: web.Application, settings: CustomerSettings | None = None) -> CustomersService:
    """Put customer records on the hub: service, CSAT subscription, agent API, rating page, start/stop."""
    from agents_ui.customers_api import routes as api_routes
    from hub.customers.csat_page import routes as page_routes

    settings = settings or CustomerSettings.from_env()
    actions = app[ACTIONS]
    channels = app[CHANNELS]
    csat = CsatService(app[DATABASE], app[BUS], actions, channels, settings, _public_url(app), actions.clock)
    service = CustomersService(app[DATABASE], app[BUS], actions.clock, settings, actions.attachments, csat)
    app[CUSTOMERS] = service
    app[BUS].subscribe(csat.on_event, name="csat", events=(ConversationChanged,))
    app.router.add_routes(api_routes)
    app.router.add_routes(page_routes)
    app.cleanup_ctx.append(_customers_ctx)
    return service

