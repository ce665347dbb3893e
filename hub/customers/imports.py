"""CSV imports in the background: parse off the event loop, apply in batches, progress on the job row."""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select, update

from hub.customers import store
from hub.customers.attributes import AttributeDef
from hub.customers.csv_io import MAX_PROBLEMS, ImportRow, Problem, decode, parse, read_header
from hub.domain import DomainError, NotFound
from hub.events import Bus, CustomersImported
from hub.storage.customer_tables import CustomerImportJob
from hub.storage.database import Database

log = logging.getLogger(__name__)

jobs = cast(Table, CustomerImportJob.__table__)
RUNNING = ("parsing", "importing")
# A running job whose row has not moved for this long was left behind by a process that stopped.
STALE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one committed batch did."""

    customer_ids: tuple[int, ...]
    done: int
    total: int


def _match(conn: Connection, row: ImportRow) -> int | None:
    for email in row.changes.emails or []:
        found = store.find_by_email(conn, email)
        if found is not None:
            return found
    for phone in row.changes.phones or []:
        found = store.find_by_phone(conn, phone)
        if found is not None:
            return found
    return None


def _apply_row(conn: Connection, row: ImportRow, actor: str, job_id: str, now: datetime) -> tuple[str, int]:
    extra = {"job": job_id}
    target = row.customer_id if row.customer_id is not None else _match(conn, row)
    if target is None:
        return "created", store.create_record(conn, row.changes, actor=actor, source="import", now=now, extra=extra)
    record = store.require_editable(conn, target)
    changed = store.apply_changes(conn, record, row.changes, actor=actor, source="import", now=now, extra=extra)
    return ("updated" if changed else "unchanged"), target


def batch_tx(conn: Connection, job_id: str, rows: Sequence[ImportRow], actor: str, now: datetime) -> BatchOutcome:
    """Apply a batch of rows and move the job's counters in the same transaction."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    problems: list[Problem] = []
    touched: list[int] = []
    for row in rows:
        try:
            outcome, customer_id = _apply_row(conn, row, actor, job_id, now)
        except DomainError as error:
            # Raised before the row wrote anything (unknown, merged or erased id).
            problems.append(Problem(row.line, "id", error.code, error.message))
            continue
        counts[outcome] += 1
        if outcome != "unchanged":
            touched.append(customer_id)
    job = conn.execute(select(jobs).where(jobs.c.id == job_id)).one()
    kept = list(job.problems or [])
    kept.extend(p.as_dict() for p in problems[: max(0, MAX_PROBLEMS - len(kept))])
    done = job.done + len(rows) - len(problems)
    skipped = job.skipped + len(problems)
    conn.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(
            done=done,
            created=job.created + counts["created"],
            updated=job.updated + counts["updated"],
            unchanged=job.unchanged + counts["unchanged"],
            skipped=skipped,
            problems=kept,
            updated_at=now,
        )
    )
    return BatchOutcome(tuple(touched), done + skipped, job.total)


def job_dict(row: Any, now: datetime) -> dict[str, Any]:
    """A job as the API shows it; a running job nobody has touched for a while shows as interrupted."""
    state = row.state
    if state in RUNNING and now - row.updated_at > STALE_AFTER:
        state = "interrupted"
    processed = row.done + row.skipped
    return {
        "id": row.id,
        "state": state,
        "filename": row.filename,
        "total": row.total,
        "processed": processed,
        "created": row.created,
        "updated": row.updated,
        "unchanged": row.unchanged,
        "skipped": row.skipped,
        "problems": row.problems or [],
        "error": row.error,
        "created_at": row.created_at.isoformat(),
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


class CustomerImports:
    """Starts imports, runs them in the background, and reports their progress."""

    def __init__(
        self, db: Database, bus: Bus, clock: Callable[[], datetime], *, batch_size: int = 500
    ) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock
        self.batch_size = batch_size
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, data: bytes, filename: str, author_id: int | None, actor: str) -> str:
        """Check the header now (a bad one is a 400), then import in the background; returns the job id."""
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(None, decode, data)
        async with self.db.read() as conn:
            definitions = await conn.run_sync(store.load_definitions)
        read_header(text, definitions)
        job_id = uuid.uuid4().hex
        now = self.clock()

        def tx(conn: Connection) -> None:
            conn.execute(
                insert(jobs),
                {"id": job_id, "state": "parsing", "filename": filename[:300], "total": 0, "done": 0, "created": 0,
                 "updated": 0, "unchanged": 0, "skipped": 0, "problems": [], "author_id": author_id,
                 "created_at": now, "updated_at": now},
            )

        await self.db.run_write(tx)
        task = asyncio.create_task(self._run(job_id, text, definitions, actor), name=f"customer-import:{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    async def _run(self, job_id: str, text: str, definitions: Mapping[str, AttributeDef], actor: str) -> None:
        try:
            parsed = await asyncio.get_running_loop().run_in_executor(None, parse, text, definitions)
            await self._set(job_id, state="importing", total=parsed.total, skipped=len(parsed.problems),
                            problems=[p.as_dict() for p in parsed.problems])
            for start in range(0, len(parsed.rows), self.batch_size):
                batch = parsed.rows[start : start + self.batch_size]
                now = self.clock()
                outcome = await self.db.run_write(partial(batch_tx, job_id=job_id, rows=batch, actor=actor, now=now))
                await self.bus.publish(CustomersImported(job_id, outcome.customer_ids, outcome.done, outcome.total))
            await self._set(job_id, state="done", finished_at=self.clock())
        except asyncio.CancelledError:
            await self._quietly(job_id, "interrupted: the hub shut down")
            raise
        except Exception as error:
            log.exception("customer import %s failed", job_id)
            await self._quietly(job_id, f"{type(error).__name__}: {error}")

    async def _set(self, job_id: str, **values: Any) -> None:
        now = self.clock()

        def tx(conn: Connection) -> None:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values, updated_at=now))

        await self.db.run_write(tx)

    async def _quietly(self, job_id: str, error: str) -> None:
        try:
            await self._set(job_id, state="failed", error=error, finished_at=self.clock())
        except Exception:
            log.exception("could not record the end of customer import %s", job_id)

    async def job(self, job_id: str) -> dict[str, Any]:
        """An import's progress and per-row problems, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
        if row is None:
            raise NotFound(f"no import job {job_id}")
        return job_dict(row, self.clock())

    async def wait(self) -> None:
        """Wait for running imports (tests and shutdown)."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel running imports; their jobs are marked failed (interrupted)."""
        for task in list(self._tasks):
            task.cancel()
        await self.wait()
