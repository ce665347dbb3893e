"""Alembic environment: runs on the connection Kefu hands it (see hub.storage.migrate)."""
from __future__ import annotations

from alembic import context

from hub.storage.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through hub.storage.migrate (kefu migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
