"""Several hub processes share one database: each builds its index from it and follows the others' saves."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.config import Settings
from hub.events import Event, KbArticlesChanged, event_from_dict
from hub.keys import BUS, DATABASE
from hub.storage.schema import metadata
from knowledge_base.keys import KNOWLEDGE_BASE
from tests.knowledge_base_api.conftest import Desk


async def eventually_found(client: TestClient, query: str, expected: list[str], timeout: float = 10.0) -> None:
    """Wait until the process's own search service answers the query with these slugs."""
    kb = client.app[KNOWLEDGE_BASE]
    async with asyncio.timeout(timeout):
        while [h.slug for h in await kb.search(query)] != expected:
            await asyncio.sleep(0.02)


async def test_a_second_process_builds_from_the_database_and_follows_bus_events(
    hub: TestClient, designer: Desk, aiohttp_client: Any, settings: Settings
) -> None:
    await designer.write("Opening hours", "Our team answers chats from 9 to 21.", slug="hours")
    await designer.write("Draft plan", "Weekend hours are coming.", publish=False, slug="plan")

    from hub.app import create_app

    other = await aiohttp_client(create_app(settings))  # a restart, or a second process
    await eventually_found(other, "chat team answers", ["hours"], timeout=0.5)
    assert await other.app[KNOWLEDGE_BASE].search("weekend") == []

    async def bridge(event: Event) -> None:
        # What a cross-process bus does: the event travels as JSON and is published over there.
        if isinstance(event, KbArticlesChanged):
            await other.app[BUS].publish(event_from_dict(json.loads(json.dumps(event.to_dict()))))

    hub.app[BUS].subscribe(bridge, name="bridge")
    status, data = await designer.get("/api/kb/articles?status=draft")
    plan_id = data["articles"][0]["id"]
    await designer.post(f"/api/kb/articles/{plan_id}/publish")
    await eventually_found(other, "weekend", ["plan"])

    status, data = await designer.get("/api/kb/articles?status=published")
    hours_id = next(a["id"] for a in data["articles"] if a["slug"] == "hours")
    await designer.patch(f"/api/kb/articles/{hours_id}", {"body_markdown": "Our team answers calls around the clock."})
    await eventually_found(other, "around the clock", ["hours"])
    await eventually_found(other, "chats", [])
    await designer.delete(f"/api/kb/articles/{plan_id}")
    await eventually_found(other, "weekend", [])

    job = (
        await designer.upload(
            "/api/kb/imports/csv?status=published",
            [("faq.csv", b"question,answer\nGift cards,Gift cards never expire.\n", "text/csv")],
        )
    )[1]
    await designer.finished(job["job"])
    await eventually_found(other, "gift card expire", ["gift-cards"])


async def test_migrations_create_the_knowledge_base_tables_as_declared(hub: TestClient) -> None:
    def kb_only(name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or (name or "").startswith("kb_")

    def differences(conn: Any) -> list[Any]:
        # Only the knowledge base's tables, on both sides: the other tables are not this test's.
        opts = {
            "compare_type": True,
            "include_name": kb_only,
            "include_object": lambda obj, name, type_, *_: kb_only(name, type_),
        }
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))

    async with hub.app[DATABASE].engine.connect() as conn:
        assert await conn.run_sync(differences) == []
