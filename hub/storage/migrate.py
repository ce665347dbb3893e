"""Apply Alembic migrations at start, on whichever database the engine points to."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, func, select

from hub.storage.database import BUSY_TIMEOUT_MS, Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key for "migrating Kefu's schema" (any constant unique within Kefu).
MIGRATION_LOCK = 0x6B656675_0000
# A process that finds another migrating waits this long for it (a long migration on a big database).
MIGRATION_WAIT_MS = 600_000


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at Kefu's migrations, bound to a live connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection, target: str) -> None:
    _take_migration_lock(connection)
    command.upgrade(alembic_config(connection), target)


def _take_migration_lock(connection: Connection) -> None:
    """Hold the schema lock until this transaction ends: processes starting together on one database
    migrate one after another, and the later ones find the schema already at head."""
    if connection.dialect.name == "postgresql":
        connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
    elif connection.dialect.name == "sqlite":
        # The write lock up front (the driver would otherwise run DDL outside any transaction); the
        # migrations then run inside this one transaction, as they do on PostgreSQL.
        connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


async def upgrade(db: Database, target: str = "head") -> None:
    """Bring the schema up to `target` (head by default)."""
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, target)
