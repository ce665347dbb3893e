"""The designer's working draft in the database: read, replace or edit it under optimistic concurrency.

Transaction functions follow hub.actions' rules: they may run twice on SQLite, so they change
nothing outside the database and edits passed in are pure functions of the content.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bots.content import BotContent, content_from_json, content_to_json
from channels.base import utcnow
from hub.domain import Conflict
from hub.storage.bot_tables import BotActivation, BotDraft, BotVersion
from hub.storage.database import Database

drafts = cast(Table, BotDraft.__table__)
versions = cast(Table, BotVersion.__table__)
activations = cast(Table, BotActivation.__table__)

DRAFT_ID = 1  # one bot, one draft
Edit = Callable[[BotContent], BotContent]


def draft_dict(row: Any) -> dict[str, Any]:
    """The draft as the API shows it."""
    return {
        "content": row.content,
        "base_version_id": row.base_version_id,
        "revision": row.revision,
        "updated_at": row.updated_at.isoformat(),
        "updated_by": row.updated_by,
    }


def locked_draft(conn: Connection, now: datetime) -> Any:
    """The draft row, locked for this transaction; made from the active (else newest) version the first time."""
    found = conn.execute(select(drafts).where(drafts.c.id == DRAFT_ID).with_for_update()).first()
    if found is not None:
        return found
    active = conn.execute(select(activations.c.version_id).order_by(activations.c.id.desc()).limit(1)).scalar()
    query = select(versions.c.id, versions.c.content)
    source = conn.execute(
        query.where(versions.c.id == active) if active is not None else query.order_by(versions.c.id.desc()).limit(1)
    ).first()
    content = source.content if source is not None else content_to_json(BotContent())
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # two processes may both see no draft: one insert wins, the other reads the winner's row
    conn.execute(dialect.insert(drafts).values(
        id=DRAFT_ID, content=content, base_version_id=source.id if source is not None else None, revision=1,
        updated_at=now, updated_by="system").on_conflict_do_nothing(index_elements=["id"]))
    return conn.execute(select(drafts).where(drafts.c.id == DRAFT_ID).with_for_update()).one()


def edit_draft(conn: Connection, edit: Edit, *, revision: int | None, actor: str, now: datetime,
               base_version_id: int | None = None, rebase: bool = False) -> Any:
    """Apply `edit` to the draft's content and raise its revision; a stale `revision` is a 409."""
    row = locked_draft(conn, now)
    if revision is not None and revision != row.revision:
        raise Conflict(f"the draft changed since revision {revision} (it is now {row.revision} by "
                       f"{row.updated_by}); reload it and apply your edit again", code="stale_revision")
    content = content_to_json(edit(content_from_json(row.content)))
    values: dict[str, Any] = {"content": content, "revision": row.revision + 1, "updated_at": now,
                              "updated_by": actor[:64]}
    if rebase:
        values["base_version_id"] = base_version_id
    conn.execute(update(drafts).where(drafts.c.id == DRAFT_ID).values(**values))
    return conn.execute(select(drafts).where(drafts.c.id == DRAFT_ID)).one()


class DraftStore:
    """Reads and writes of the draft over one Database."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def get(self) -> dict[str, Any]:
        """The draft (created on first use)."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(drafts).where(drafts.c.id == DRAFT_ID))).first()
        if row is None:
            now = self.clock()
            row = await self.db.run_write(lambda conn: locked_draft(conn, now))
        return draft_dict(row)

    async def content(self) -> BotContent:
        """The draft's content, parsed."""
        return content_from_json((await self.get())["content"])

    async def edit(self, edit: Edit, *, revision: int | None, actor: str, base_version_id: int | None = None,
                   rebase: bool = False) -> dict[str, Any]:
        """Change the draft with a pure edit of its content; returns the new draft."""
        now = self.clock()
        row = await self.db.run_write(lambda conn: edit_draft(
            conn, edit, revision=revision, actor=actor, now=now, base_version_id=base_version_id, rebase=rebase))
        return draft_dict(row)

    async def rebase(self, version_id: int) -> None:
        """Record that the draft's content is now stored as `version_id` (its revision does not move)."""

        def tx(conn: Connection) -> None:
            locked_draft(conn, self.clock())
            conn.execute(update(drafts).where(drafts.c.id == DRAFT_ID).values(base_version_id=version_id))

        await self.db.run_write(tx)
