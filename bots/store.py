"""The bot's reads and writers: versions, activation history, per-conversation memory.

Writers follow hub.actions: a transaction function run by `Database.run_write` (it may run twice,
so it touches nothing outside the database), then an event once committed.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bots.content import BotContent, content_from_json, content_to_json
from bots.policy import Memory
from channels.base import utcnow
from hub.domain import Conflict, DomainError, NotFound
from hub.events import BotVersionChanged, Bus
from hub.storage.bot_tables import BotActivation, BotConversation, BotVersion
from hub.storage.database import Database
from hub.storage.tables import Conversation, Customer, Message

versions = cast(Table, BotVersion.__table__)
activations = cast(Table, BotActivation.__table__)
memories = cast(Table, BotConversation.__table__)
conversations = cast(Table, Conversation.__table__)
customers = cast(Table, Customer.__table__)
messages = cast(Table, Message.__table__)

ENGINES = ("embedded", "rasa")
STATUSES = ("new", "training", "ready", "failed")

# pg_advisory_xact_lock key for "create the first bot version" (any constant unique within Kefu).
FIRST_VERSION_LOCK = 0x6B656675_0001
_LATEST_ACTIVATION = select(activations).order_by(activations.c.id.desc()).limit(1)


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One bot version as stored, content parsed."""

    id: int
    label: str
    source: str
    engine: str
    settings: Mapping[str, Any]
    content: BotContent
    content_sha: str
    status: str
    model_path: str | None
    metrics: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Everything the bot reads before answering one message, in one round trip."""

    conversation_id: int
    status: str
    channel: str
    customer_id: int
    tier: str
    text: str
    direction: str
    memory: Memory
    active_version_id: int | None


def version_dict(row: Any, active_id: int | None) -> dict[str, Any]:
    """A version as the designer API shows it: no content, and never a Rasa token."""
    settings = dict(row.settings or {})
    if isinstance(settings.get("rasa"), dict) and settings["rasa"].get("token"):
        settings["rasa"] = {**settings["rasa"], "token": "***"}
    content = row.content or {}
    return {
        "id": row.id,
        "label": row.label,
        "source": row.source,
        "engine": row.engine,
        "settings": settings,
        "status": row.status,
        "progress": round(float(row.progress or 0.0), 3),
        "progress_note": row.progress_note,
        "error": row.error,
        "metrics": row.metrics or {},
        "intents": len(content.get("intents", [])),
        "responses": len(content.get("responses", [])),
        "created_by": row.created_by,
        "created_at": _iso(row.created_at),
        "trained_at": _iso(row.trained_at),
        "activated_at": _iso(row.activated_at),
        "active": row.id == active_id,
        "evaluated": row.evaluation is not None,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class BotStore:
    """Reads and writes of the bot's tables over one Database; writers publish BotVersionChanged."""

    def __init__(self, db: Database, bus: Bus | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def _changed(self, version_id: int, change: str) -> None:
        if self.bus is not None:
            await self.bus.publish(BotVersionChanged(version_id, change))

    # ------------------------------------------------------------------------------------------ versions

    async def create_version(self, content: BotContent, *, label: str, source: str, engine: str = "embedded",
                             settings: Mapping[str, Any] | None = None, actor: str = "system",
                             content_sha: str, only_if_first: bool = False) -> int | None:
        """Store new content as a version that still needs training.

        `only_if_first`: only when no version exists yet, else None. Checked and inserted in one
        transaction (on PostgreSQL under an advisory lock), so hub processes starting together on an
        empty database create one starter bot between them, not one each."""
        if engine not in ENGINES:
            raise DomainError(f"engine must be one of {', '.join(ENGINES)}", code="invalid_engine")
        now = self.clock()
        row = {
            "label": label[:200] or "bot", "source": source, "engine": engine, "settings": dict(settings or {}),
            "content": content_to_json(content), "content_sha": content_sha, "status": "new", "progress": 0.0,
            "metrics": {}, "created_by": actor, "created_at": now,
        }

        def tx(conn: Connection) -> int | None:
            if only_if_first:
                if conn.dialect.name == "postgresql":
                    conn.execute(select(func.pg_advisory_xact_lock(FIRST_VERSION_LOCK)))
                if conn.execute(select(func.count()).select_from(versions)).scalar_one():
                    return None
            return int(conn.execute(insert(versions).returning(versions.c.id), row).scalar_one())

        version_id = await self.db.run_write(tx)
        if version_id is not None:
            await self._changed(version_id, "created")
        return version_id

    async def list_versions(self) -> tuple[list[dict[str, Any]], int | None]:
        """Every version, newest first, and the active one's id."""
        async with self.db.read() as conn:
            rows = (await conn.execute(select(versions).order_by(versions.c.id.desc()))).all()
            active = (await conn.execute(_LATEST_ACTIVATION)).first()
        active_id = active.version_id if active is not None else None
        return [version_dict(r, active_id) for r in rows], active_id

    async def version_info(self, version_id: int) -> dict[str, Any]:
        """One version as the API shows it, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(versions).where(versions.c.id == version_id))).first()
            active = (await conn.execute(_LATEST_ACTIVATION)).first()
        if row is None:
            raise NotFound(f"bot version {version_id} does not exist")
        return version_dict(row, active.version_id if active is not None else None)

    async def version(self, version_id: int) -> VersionRecord:
        """One version with its content, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(versions).where(versions.c.id == version_id))).first()
        if row is None:
            raise NotFound(f"bot version {version_id} does not exist")
        return VersionRecord(
            id=row.id, label=row.label, source=row.source, engine=row.engine, settings=row.settings or {},
            content=content_from_json(row.content), content_sha=row.content_sha, status=row.status,
            model_path=row.model_path, metrics=row.metrics or {},
        )

    async def evaluation(self, version_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A version's API view and its stored evaluation (None until trained), or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(versions).where(versions.c.id == version_id))).first()
            active = (await conn.execute(_LATEST_ACTIVATION)).first()
        if row is None:
            raise NotFound(f"bot version {version_id} does not exist")
        return version_dict(row, active.version_id if active is not None else None), row.evaluation

    async def latest_evaluation(self) -> tuple[int | None, dict[str, Any] | None]:
        """The newest version that has an evaluation, and that evaluation."""
        query = (select(versions.c.id, versions.c.evaluation).where(versions.c.evaluation.is_not(None))
                 .order_by(versions.c.id.desc()).limit(1))
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return (row.id, row.evaluation) if row is not None else (None, None)

    async def count_versions(self) -> int:
        """How many versions exist."""
        async with self.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(versions))).scalar_one())

    async def active_version_id(self) -> int | None:
        """The version that answers customers now, if any."""
        async with self.db.read() as conn:
            row = (await conn.execute(_LATEST_ACTIVATION)).first()
        return row.version_id if row is not None else None

    async def start_training(self, version_id: int) -> None:
        """Mark a version as training; refused while it already is."""

        def tx(conn: Connection) -> None:
            status = conn.execute(select(versions.c.status).where(versions.c.id == version_id)).scalar()
            if status is None:
                raise NotFound(f"bot version {version_id} does not exist")
            if status == "training":
                raise Conflict(f"bot version {version_id} is already training", code="already_training")
            conn.execute(update(versions).where(versions.c.id == version_id).values(
                status="training", progress=0.0, progress_note="queued", error=None))

        await self.db.run_write(tx)
        await self._changed(version_id, "training")

    async def report_progress(self, version_id: int, fraction: float, note: str) -> None:
        """Record how far training has come."""

        def tx(conn: Connection) -> None:
            conn.execute(update(versions).where(versions.c.id == version_id, versions.c.status == "training").values(
                progress=max(0.0, min(1.0, fraction)), progress_note=note[:200]))

        await self.db.run_write(tx)
        await self._changed(version_id, "progress")

    async def finish_training(self, version_id: int, model_path: str | None, metrics: Mapping[str, Any], *,
                              activate_as: str | None = None, evaluation: Mapping[str, Any] | None = None) -> None:
        """The model is written: the version is ready (and, with `activate_as`, active in the same commit)."""
        now = self.clock()
        note = "trained"
        if evaluation is not None:
            # the evaluation's headline stays on the version, where a designer polling progress sees it last
            note = (f"trained; held-out accuracy {evaluation['accuracy']:.1%}, macro-F1 {evaluation['macro_f1']:.1%}"
                    f" ({evaluation['folds']}-fold)")

        def tx(conn: Connection) -> None:
            conn.execute(update(versions).where(versions.c.id == version_id).values(
                status="ready", progress=1.0, progress_note=note, model_path=model_path,
                metrics=dict(metrics), trained_at=now, error=None,
                evaluation=dict(evaluation) if evaluation is not None else None))
            if activate_as is not None:
                self._activate(conn, version_id, activate_as, now)

        await self.db.run_write(tx)
        await self._changed(version_id, "trained")
        if activate_as is not None:
            await self._changed(version_id, "activated")

    async def fail_training(self, version_id: int, error: str) -> None:
        """Training failed; the error is kept for the designer."""

        def tx(conn: Connection) -> None:
            conn.execute(update(versions).where(versions.c.id == version_id).values(
                status="failed", error=error[:4000], progress_note="failed"))

        await self.db.run_write(tx)
        await self._changed(version_id, "failed")

    async def recover_interrupted(self) -> list[int]:
        """Versions left "training" by a stopped process: mark them failed so they can be trained again."""

        def tx(conn: Connection) -> list[int]:
            ids = [r.id for r in conn.execute(select(versions.c.id).where(versions.c.status == "training"))]
            if ids:
                conn.execute(update(versions).where(versions.c.id.in_(ids)).values(
                    status="failed", error="training was interrupted when Kefu stopped", progress_note="failed"))
            return ids

        return await self.db.run_write(tx)

    async def activate(self, version_id: int, actor: str) -> int | None:
        """Make a trained version the one that answers; returns the version it replaced."""
        now = self.clock()
        previous = await self.db.run_write(lambda conn: self._activate(conn, version_id, actor, now))
        await self._changed(version_id, "activated")
        return previous

    @staticmethod
    def _activate(conn: Connection, version_id: int, actor: str, now: datetime) -> int | None:
        status = conn.execute(select(versions.c.status).where(versions.c.id == version_id)).scalar()
        if status is None:
            raise NotFound(f"bot version {version_id} does not exist")
        if status != "ready":
            raise Conflict(f"bot version {version_id} is {status}; train it before activating",
                           code="version_not_ready")
        current = conn.execute(_LATEST_ACTIVATION).first()
        previous = current.version_id if current is not None else None
        if previous == version_id:
            return previous
        conn.execute(insert(activations), {"version_id": version_id, "previous_version_id": previous,
                                           "kind": "activate", "actor": actor, "at": now})
        conn.execute(update(versions).where(versions.c.id == version_id).values(activated_at=now))
        return previous

    async def rollback(self, actor: str) -> int:
        """Go back to the version that was active before the current one; returns it."""
        now = self.clock()

        def tx(conn: Connection) -> int:
            current = conn.execute(_LATEST_ACTIVATION).first()
            if current is None or current.previous_version_id is None:
                raise Conflict("there is no earlier version to roll back to", code="nothing_to_roll_back")
            target = current.previous_version_id
            # the target's own predecessor, so a second rollback goes one step further back
            made_active = conn.execute(
                select(activations.c.previous_version_id)
                .where(activations.c.version_id == target, activations.c.id < current.id)
                .order_by(activations.c.id.desc()).limit(1)
            ).first()
            before = made_active.previous_version_id if made_active is not None else None
            conn.execute(insert(activations), {"version_id": target, "previous_version_id": before,
                                               "kind": "rollback", "actor": actor, "at": now})
            conn.execute(update(versions).where(versions.c.id == target).values(activated_at=now))
            return int(target)

        target = await self.db.run_write(tx)
        await self._changed(target, "rolled_back")
        return target

    # ------------------------------------------------------------------------------------------ turns

    async def turn_context(self, conversation_id: int, message_id: int) -> TurnContext | None:
        """The conversation, customer tier, message text, bot memory and active version; None if gone."""
        query = (
            select(
                conversations.c.status, conversations.c.channel, conversations.c.customer_id, customers.c.tier,
                messages.c.text, messages.c.direction, memories.c.memory,
                _LATEST_ACTIVATION.with_only_columns(activations.c.version_id).scalar_subquery().label("active"),
            )
            .select_from(conversations)
            .join(customers, customers.c.id == conversations.c.customer_id)
            .join(messages, messages.c.id == message_id)
            .outerjoin(memories, memories.c.conversation_id == conversations.c.id)
            .where(conversations.c.id == conversation_id)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return TurnContext(
            conversation_id=conversation_id, status=row.status, channel=row.channel, customer_id=row.customer_id,
            tier=row.tier or "standard", text=row.text or "", direction=row.direction,
            memory=Memory.from_json(row.memory), active_version_id=row.active,
        )

    async def status(self, conversation_id: int) -> str | None:
        """A conversation's status now (None if it is gone)."""
        async with self.db.read() as conn:
            return (await conn.execute(
                select(conversations.c.status).where(conversations.c.id == conversation_id))).scalar()

    async def save_memory(self, conversation_id: int, memory: Memory, *, version_id: int | None,
                          message_id: int | None, handed_off: bool = False) -> None:
        """Remember this conversation's bot state (insert or update)."""
        now = self.clock()
        values: dict[str, Any] = {"conversation_id": conversation_id, "version_id": version_id,
                                  "memory": memory.to_json(), "last_message_id": message_id, "updated_at": now}
        if handed_off:
            values["handed_off_at"] = now

        def tx(conn: Connection) -> None:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(memories).values(**values)
            changes = {k: statement.excluded[k] for k in values if k != "conversation_id"}
            conn.execute(statement.on_conflict_do_update(index_elements=["conversation_id"], set_=changes))

        await self.db.run_write(tx)

    async def memory(self, conversation_id: int) -> Memory:
        """What the bot remembers of a conversation (empty if nothing)."""
        async with self.db.read() as conn:
            data = (await conn.execute(
                select(memories.c.memory).where(memories.c.conversation_id == conversation_id))).scalar()
        return Memory.from_json(data)
