"""Two hubs in one test process on one database and one Redis, as two processes would be: what one saves,
the other's caches follow at once (the knowledge base's search index has no polling; the complaint model
polls every KEFU_COMPLAINT_SYNC_EVERY seconds, an hour here)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.analysis.service import ANALYSIS
from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from hub.redis_bus import RedisBus
from knowledge_base.keys import KNOWLEDGE_BASE
from tests.knowledge_base_api.conftest import Desk
from tests.support import add_agent, login

# Several hubs on one database means PostgreSQL (one SQLite file takes one writing process).
pytestmark = [pytest.mark.parametrize("database_url", ["postgres"], indirect=True), pytest.mark.postgres]


@pytest.fixture
async def two_hubs(
    aiohttp_client: Any, settings: Settings, redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TestClient, TestClient]]:
    from hub.app import create_app

    monkeypatch.setenv("KEFU_COMPLAINT_SYNC_EVERY", "3600")
    monkeypatch.setenv("KEFU_COMPLAINT_RETRAIN_DELAY", "0.05")

    shared = replace(settings, redis_url=redis_url, redis_prefix=prefix)
    a = await aiohttp_client(create_app(shared))
    b = await aiohttp_client(create_app(replace(shared, data_dir=settings.data_dir / "b")))
    assert isinstance(a.app[BUS], RedisBus) and a.app[BUS].node != b.app[BUS].node
    yield a, b


async def test_an_article_published_on_one_hub_is_found_on_the_other_at_once(
    two_hubs: tuple[TestClient, TestClient],
) -> None:
    a, b = two_hubs
    await add_agent(a, "editor@example.com", Role.ADMIN)
    editor = Desk(await login(a, "editor@example.com"))
    try:
        article = await editor.write("退货政策 Returns", "Returns are free within 30 days. 三十天内免费退货。")
        kb = b.app[KNOWLEDGE_BASE]
        async with asyncio.timeout(3):
            while [h.slug for h in await kb.search("free returns")] != [article["slug"]]:
                await asyncio.sleep(0.02)
        assert [h.slug for h in await kb.search("退货")] == [article["slug"]]

        status, _ = await editor.post(f"/api/kb/articles/{article['id']}/unpublish")
        assert status == 200
        async with asyncio.timeout(3):
            while await kb.search("free returns"):
                await asyncio.sleep(0.02)
    finally:
        await editor.client.close()


async def test_a_complaint_correction_on_one_hub_retrains_the_other_at_once(
    two_hubs: tuple[TestClient, TestClient],
) -> None:
    a, b = two_hubs
    await a.app[ANALYSIS].ready()
    model_b = await b.app[ANALYSIS].ready()
    assert model_b is not None
    received = await a.app[ACTIONS].receive_inbound(
        InboundMessage(channel="webchat", external_id="v1:c1", sender="visitor-1",
                       text="Is the Broken Heart bracelet available in gold?")
    )
    for _ in range(3):
        await a.app[BUS].drain()
    await add_agent(a, "mei@example.com", Role.DESIGNER)
    designer = await login(a, "mei@example.com")
    try:
        status, fixed = await designer.post(
            "/api/complaints/corrections", {"message_id": received.message_id, "is_complaint": False}
        )
        assert status == 201, fixed
    finally:
        await designer.client.close()
    async with asyncio.timeout(60):
        while (model := b.app[ANALYSIS].model) is None or model.version != fixed["correction_id"]:
            await asyncio.sleep(0.1)
