"""Engine and transactions: SQLite in WAL mode by default, PostgreSQL through asyncpg.

Writes are plain functions over a synchronous Connection, run by `run_write`; they must not change
anything outside the database except through their return value, because a write may run twice. On
SQLite one writer thread runs them in batches, one transaction per batch ("group commit"), so a burst
of messages costs one thread hop and one commit instead of one per statement; if any write in a batch
fails, the batch rolls back and each write runs again in its own transaction. On
PostgreSQL each write is its own transaction through the async engine, so processes write in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[Connection], T]

MAX_BATCH = 256


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; NORMAL sync is safe with WAL and far faster.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _writer_connect(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so savepoints work.
    dbapi_connection.isolation_level = None


def _writer_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a second process waits on busy_timeout instead of
    # failing half-way through a transaction.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Pending:
    __slots__ = ("fn", "future")

    def __init__(self, fn: WriteFn[Any], future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.future = future


class Database:
    """One database: an async engine for reads (and PostgreSQL writes), a writer thread for SQLite."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        self._writer: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        if self.is_sqlite:
            db_path = self.url.database
            if not db_path or db_path == ":memory:":
                raise ValueError("Kefu needs a SQLite file, not an in-memory database")
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = create_engine(self.url.set(drivername="sqlite"), echo=echo, pool_size=1, max_overflow=0)
            event.listen(self._writer, "connect", _writer_connect)
            event.listen(self._writer, "begin", _writer_begin)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def run_write(self, fn: WriteFn[T]) -> T:
        """Run one write function in a transaction and return its result once committed."""
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn)
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-sqlite-writer")
            self._worker = asyncio.create_task(self._write_loop(), name="sqlite-writer")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(fn, future))
        return await future

    async def _write_loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                outcomes = await loop.run_in_executor(self._thread, self._run_batch, batch)
            except BaseException as exc:  # the commit itself failed: every write in the batch failed
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for item, (ok, value) in zip(batch, outcomes, strict=True):
                if item.future.done():
                    continue
                if ok:
                    item.future.set_result(value)
                else:
                    item.future.set_exception(value)

    def _run_batch(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        assert self._writer is not None
        if len(batch) > 1:
            try:
                with self._writer.begin() as conn:
                    values = [item.fn(conn) for item in batch]
                return [(True, value) for value in values]
            except Exception:
                # Something in the batch failed (a conflict, a duplicate): the whole transaction rolled
                # back, so run each write on its own and let only the bad one fail.
                pass
        outcomes: list[tuple[bool, Any]] = []
        for item in batch:
            try:
                with self._writer.begin() as conn:
                    outcomes.append((True, item.fn(conn)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries."""
        async with self.engine.connect() as conn:
            yield conn

    async def ping(self) -> bool:
        """True when the database answers."""
        try:
            async with asyncio.timeout(3):
                async with self.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        """Stop the writer and close every pooled connection."""
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):
                pass
            self._worker = None
            self._queue = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._writer is not None:
            self._writer.dispose()
        await self.engine.dispose()
