"""The complaint tables as migrated; unscored messages are scored at start; shutting down never waits on training."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from channels.base import InboundMessage
from hub.actions import Actions
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.events import InProcessBus
from hub.keys import DATABASE
from hub.storage import migrate
from hub.storage.database import Database
from hub.storage.schema import metadata
from tests.complaints_db.conftest import Desk
from tests.support import add_agent, login


async def test_migrations_create_the_complaint_tables_as_declared(desk: Desk) -> None:
    def ours(name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or (name or "").startswith("complaint_")

    def differences(conn: Any) -> list[Any]:
        opts = {
            "compare_type": True,
            "include_name": ours,
            "include_object": lambda obj, name, type_, *_: ours(name, type_),
        }
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))

    async with desk.hub.app[DATABASE].engine.connect() as conn:
        assert await conn.run_sync(differences) == []


async def test_messages_stored_while_no_hub_was_scoring_are_scored_at_start(
    aiohttp_client: Any, settings: Settings
) -> None:
    from hub.app import create_app

    # A process stored these and died before publishing: nobody heard MessageReceived.
    db = Database(settings.effective_database_url)
    await migrate.upgrade(db)
    quiet = Actions(db, InProcessBus(), settings, AttachmentStore(settings.data_dir / "attachments"))
    stored = [
        await quiet.receive_inbound(InboundMessage(channel="sms", external_id=f"SM{n}", sender="+15550109", text=text))
        for n, text in enumerate(["Where is my parcel?! Ordered 3 weeks ago and still nothing.", "Any update?"])
    ]
    await db.dispose()

    hub: TestClient = await aiohttp_client(create_app(settings))
    await add_agent(hub, "night@example.com")
    agent = await login(hub, "night@example.com")
    try:
        async with asyncio.timeout(30):
            while (await agent.get(f"/api/messages/{stored[-1].message_id}/complaint"))[0] != 200:
                await asyncio.sleep(0.1)
        status, body = await agent.get(f"/api/complaints/cases?customer_id={stored[0].customer_id}")
        (case,) = body["cases"]
        assert (case["category"], case["first_message_id"]) == ("delivery", stored[0].message_id)
    finally:
        await agent.client.close()


async def test_shutting_down_before_the_first_detector_is_trained_does_not_hang(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.analysis import service as service_module
    from hub.analysis.config import AnalysisSettings
    from hub.analysis.service import ComplaintService
    from hub.events import MessageReceived

    release = threading.Event()

    def slow_training(rows: list[Any]) -> Any:
        release.wait(10)
        raise RuntimeError("training was abandoned")

    monkeypatch.setattr(service_module, "train_detector", slow_training)
    db = Database(settings.effective_database_url)
    await migrate.upgrade(db)
    bus = InProcessBus()
    actions = Actions(db, bus, settings, AttachmentStore(settings.data_dir / "attachments"))
    service = ComplaintService(db, bus, actions, AnalysisSettings(), actions.clock)
    try:
        await service.start()
        got = await actions.receive_inbound(InboundMessage(channel="sms", external_id="SM1", sender="+1", text="hi"))
        waiting = asyncio.create_task(service.on_event(MessageReceived(got.message_id, got.conversation_id, 1)))
        await asyncio.sleep(0.1)
        assert not waiting.done()

        async with asyncio.timeout(5):
            await service.stop()
            assert await waiting is None
    finally:
        release.set()
        await db.dispose()
