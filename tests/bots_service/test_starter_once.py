"""Hub processes starting together on an empty database: one migrates while the other waits, and they
train one starter bot between them."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select, text

from bots.service import BOT_SERVICE as BOT
from hub.app import create_app
from hub.config import Settings
from hub.keys import DATABASE
from hub.storage import migrate
from hub.storage.bot_tables import BotVersion
from hub.storage.database import Database


async def test_two_processes_migrating_a_new_database_at_once_both_succeed(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        await asyncio.gather(migrate.upgrade(first), migrate.upgrade(second))
        async with first.read() as conn:
            heads = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert len(heads) == 1
    finally:
        await asyncio.gather(first.dispose(), second.dispose())


async def test_hubs_starting_together_on_an_empty_database_create_one_starter_bot(bot_settings: Settings) -> None:
    if not bot_settings.effective_database_url.startswith("postgresql"):
        pytest.skip("several hub processes share a database on PostgreSQL (one hub per SQLite file)")
    first, second = TestServer(create_app(bot_settings)), TestServer(create_app(bot_settings))
    try:
        await asyncio.gather(first.start_server(), second.start_server())
        async with first.app[DATABASE].read() as conn:
            versions = (await conn.execute(select(func.count()).select_from(BotVersion.__table__))).scalar_one()
        assert versions == 1
        trainers = [s for s in (first, second) if s.app[BOT]._starter is not None]
        assert len(trainers) == 1, "exactly one process trains the starter"
        await trainers[0].app[BOT].wait_ready(timeout=120)
    finally:
        await asyncio.gather(first.close(), second.close())
