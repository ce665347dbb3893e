"""Apply Alembic migrations at start, on whichever database the engine points to."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from hub.storage.database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at Kefu's migrations, bound to a live connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, target: str) -> None:
    command.upgrade(alembic_config(connection), target)


async def upgrade(db: Database, target: str = "head") -> None:
    """Bring the schema up to `target` (head by default)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, target)
