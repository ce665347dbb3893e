"""Engine and transactions: SQLite in WAL mode by default, PostgreSQL through asyncpg.

Writes are plain functions over a synchronous Connection, run by `run_write`; they must not change
anything outside the database except through their return value, because a write may run twice. On
SQLite one writer connection runs them in batches, one transaction per batch ("group commit"), so a
burst of messages costs one commit instead of one per statement; if any write in a batch fails, the
batch rolls back and each write runs again in its own transaction. Batches of light writes (a message
in, a reply, a status change: a few indexed statements each) run on the event loop itself, with the
lock never waited for and the WAL checkpointed by a helper thread, so they cost no thread hop and no
GIL hand-off; any batch holding a heavy write, or finding the file locked by another process, runs on
the writer thread. On PostgreSQL each write is its own transaction through the async engine, so
processes write in parallel.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from hub.wire import column_loads, dumps

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteFn = Callable[[Connection], T]

MAX_BATCH = 256
INLINE_MAX_BATCH = 32  # light writes run on the loop in batches of at most this many (~2 ms of SQLite)
BUSY_TIMEOUT_MS = 10000
WRITER_CACHE_KIB = 64 * 1024
MMAP_BYTES = 256 * 1024 * 1024
# Group commit under load, as PostgreSQL's commit_delay: when light writes are arriving close together,
# the first waits this long for company, so a steady 1,000 messages/s shares commits instead of paying
# one each (a commit's WAL writes cost more than a message's statements). A lone write never waits.
GATHER_S = 0.002
GATHER_WHEN_APART_S = 0.005
# Checkpoints often, so each has little to copy: a checkpoint ends with an fsync of the database file, and
# a commit that lands during that fsync waits for it (1 s apart, at 1,000 messages/s, that was a 25-45 ms
# stall every second; 0.25 s apart, none over ~13 ms).
CHECKPOINT_INTERVAL_S = 0.25
# SQLite starts the WAL over only when a write transaction begins with every frame already copied: after
# any pause in writing longer than a checkpoint, by itself. Under writes that never pause, the WAL would
# grow without end (and every page lookup searches a longer WAL index), so past this many frames (~512 MB)
# the writer copies the last frames itself between two batches. That ends with an fsync the queued writes
# wait out (30-60 ms on this project's 2-core VM), hence a bound far above what a pause resets (at a
# steady 1,000 messages/s, one restart every ~20 s; at 128 MB, every ~5 s put the stall in the p99). The file
# keeps its size after a restart (up to the limit below) and is written over from its start: appending to
# a fresh file costs the filesystem allocations that make every fsync slower.
WAL_RESTART_FRAMES = 131_072
WAL_SIZE_LIMIT_BYTES = 640 * 1024 * 1024


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; NORMAL sync is safe with WAL and far faster.
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _enable_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # The file mapped, so a page read costs no system call (the OS's page cache is shared by all).
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()


def _enable_wal(cursor: Any) -> None:
    # Switching a new file to WAL needs the file to itself, and SQLite answers "locked" at once rather
    # than through busy_timeout while another process starting at the same moment has it open: retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)  # only ever on a brand-new file, at start


def _writer_connect(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so savepoints work.
    dbapi_connection.isolation_level = None
    # Checkpoints copy the WAL into the database and fsync: a helper thread runs them, not a commit.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
    # A page cache that holds the hot index pages: past a few 10,000 messages the default 2 MB does not,
    # and each insert into the external-id index (scattered keys) would read its page back.
    dbapi_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    # After a restart, a WAL file larger than this is cut back to it; smaller ones are reused as they are.
    dbapi_connection.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")


def _reader_connect(dbapi_connection: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_connection, record)
    # Reads on the loop never wait long: a busy file sends them through aiosqlite instead.
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    dbapi_connection.execute("PRAGMA query_only=ON")


def _writer_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a second process waits on busy_timeout instead of
    # failing half-way through a transaction. Straight on the DBAPI connection: Core's statement
    # machinery costs more than the BEGIN itself, once per batch.
    conn.connection.driver_connection.execute("BEGIN IMMEDIATE")  # type: ignore[union-attr]


class _Pending:
    __slots__ = ("fn", "future", "light")

    def __init__(self, fn: WriteFn[Any], future: asyncio.Future[Any], light: bool) -> None:
        self.fn = fn
        self.future = future
        self.light = light


def _is_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked/busy": another process holds the write lock."""
    text_ = str(exc).lower()
    return "database is locked" in text_ or "database is busy" in text_


class Database:
    """One database: an async engine for reads (and PostgreSQL writes); on SQLite one writer connection
    (light batches on the loop, heavy ones on a thread) and a read-only connection for short reads."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "json_serializer": dumps, "json_deserializer": column_loads}
        self._writer: Engine | None = None
        self._reader: Engine | None = None
        self._reader_conn: Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._queue: deque[_Pending] = deque()
        self._queued = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._busy_timeout_ms = BUSY_TIMEOUT_MS
        self._checkpointer: asyncio.Task[None] | None = None
        self._wrote_since_checkpoint = False
        self._checkpoint_conn: Any = None
        self._wal_restart_wanted = False
        self._writer_conn: Connection | None = None
        self._last_light_at = float("-inf")
        self._gathering = False
        if self.is_sqlite:
            db_path = self.url.database
            if not db_path or db_path == ":memory:":
                raise ValueError("Kefu needs a SQLite file, not an in-memory database")
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = create_engine(
                self.url.set(drivername="sqlite"), pool_size=1, max_overflow=0, **kwargs
            )
            event.listen(self._writer, "connect", _writer_connect)
            event.listen(self._writer, "begin", _writer_begin)
            self._reader = create_engine(
                self.url.set(drivername="sqlite"), pool_size=1, max_overflow=0, **kwargs
            )
            event.listen(self._reader, "connect", _reader_connect)
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)

    async def run_write(self, fn: WriteFn[T], *, light: bool = False) -> T:
        """Run one write function in a transaction and return its result once committed.

        `light` marks a write of a few indexed statements (the per-message hot path): on SQLite it may
        run on the event loop in a batch with others instead of hopping to the writer thread.
        """
        if not self.is_sqlite:
            async with self.engine.begin() as conn:
                return await conn.run_sync(fn)
        if self._worker is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-sqlite-writer")
            self._worker = asyncio.create_task(self._write_loop(), name="sqlite-writer")
            self._checkpointer = asyncio.create_task(self._checkpoint_loop(), name="sqlite-checkpoint")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if light:
            now = loop.time()
            if now - self._last_light_at < GATHER_WHEN_APART_S:
                self._gathering = True
            self._last_light_at = now
        self._queue.append(_Pending(fn, future, light))
        self._queued.set()
        return await future

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            if not queue:
                self._queued.clear()
                await self._queued.wait()
            if self._wal_restart_wanted:
                self._wal_restart_wanted = False
                await self._restart_wal(loop)
            if self._gathering and queue[0].light and len(queue) < INLINE_MAX_BATCH:
                self._gathering = False
                await asyncio.sleep(GATHER_S)
            batch = [queue.popleft()]
            limit = INLINE_MAX_BATCH if batch[0].light else MAX_BATCH
            # A light batch stops before the first heavy write, which leads the next (thread) batch.
            while queue and len(batch) < limit and (queue[0].light or not batch[0].light):
                batch.append(queue.popleft())
            try:
                if batch[0].light:
                    outcomes = await self._run_light(batch)
                else:
                    outcomes = await loop.run_in_executor(self._thread, self._run_batch, batch, BUSY_TIMEOUT_MS)
            except BaseException as exc:  # the commit itself failed: every write in the batch failed
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(str(exc)))
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            self._wrote_since_checkpoint = True
            for item, (ok, value) in zip(batch, outcomes, strict=True):
                if item.future.done():
                    continue
                if ok:
                    item.future.set_result(value)
                else:
                    item.future.set_exception(value)

    async def _run_light(self, batch: list[_Pending]) -> list[tuple[bool, Any]]:
        """Run a batch of light writes on the loop; writes that found the file locked go to the thread."""
        outcomes = self._run_batch(batch, 0)
        locked = [i for i, (ok, value) in enumerate(outcomes) if not ok and _is_locked(value)]
        if locked:
            # Another process holds the lock (a CLI command, say): wait for it off the loop.
            loop = asyncio.get_running_loop()
            retried = await loop.run_in_executor(
                self._thread, self._run_batch, [batch[i] for i in locked], BUSY_TIMEOUT_MS
            )
            for i, outcome in zip(locked, retried, strict=True):
                outcomes[i] = outcome
        return outcomes

    def _run_batch(self, batch: list[_Pending], busy_timeout_ms: int) -> list[tuple[bool, Any]]:
        assert self._writer is not None
        if busy_timeout_ms != self._busy_timeout_ms:
            # On the DBAPI connection: a statement through SQLAlchemy would begin a transaction.
            raw = self._writer_connection().connection.driver_connection
            assert raw is not None
            raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._busy_timeout_ms = busy_timeout_ms
        if len(batch) > 1:
            try:
                with self._transaction() as conn:
                    values = [item.fn(conn) for item in batch]
                return [(True, value) for value in values]
            except Exception:
                # Something in the batch failed (a conflict, a duplicate): the whole transaction rolled
                # back, so run each write on its own and let only the bad one fail.
                pass
        outcomes: list[tuple[bool, Any]] = []
        for item in batch:
            try:
                with self._transaction() as conn:
                    outcomes.append((True, item.fn(conn)))
            except Exception as exc:
                outcomes.append((False, exc))
        return outcomes

    def _writer_connection(self) -> Connection:
        """The one writer connection, kept checked out: a pool round trip per batch costs more than its work."""
        assert self._writer is not None
        if self._writer_conn is None or self._writer_conn.closed or self._writer_conn.invalidated:
            if self._writer_conn is not None:
                self._writer_conn.close()
            self._writer_conn = self._writer.connect()
            self._busy_timeout_ms = BUSY_TIMEOUT_MS  # a new connection starts with the connect-time pragmas
        return self._writer_conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        conn = self._writer_connection()
        with conn.begin():
            yield conn

    async def _checkpoint_loop(self) -> None:
        """Copy the WAL into the database file now and then, on a thread of its own (it fsyncs)."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-sqlite-checkpoint") as pool:
            while True:
                await asyncio.sleep(CHECKPOINT_INTERVAL_S)
                if not self._wrote_since_checkpoint:
                    continue
                self._wrote_since_checkpoint = False
                try:
                    frames = await loop.run_in_executor(pool, self._checkpoint)
                    if frames >= WAL_RESTART_FRAMES:
                        self._wal_restart_wanted = True
                except Exception:
                    log.exception("SQLite checkpoint failed; retrying in %s s", CHECKPOINT_INTERVAL_S)

    def _checkpoint(self) -> int:
        """Copy what the WAL holds into the database file; returns the WAL's length in frames."""
        # PASSIVE never waits for the writer or readers; what it cannot copy now, the next one does.
        if self._checkpoint_conn is None:
            self._checkpoint_conn = sqlite3.connect(str(self.url.database), timeout=0, check_same_thread=False)
        _busy, frames, _copied = self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(frames)

    async def _restart_wal(self, loop: asyncio.AbstractEventLoop) -> None:
        """Between two batches, copy the last few frames on the writer connection itself, so the next write
        transaction begins with the whole WAL copied and SQLite starts the WAL over (one fsync, on the
        writer thread: the loop keeps serving sockets while the queued writes wait)."""

        def checkpoint_here() -> None:
            raw = self._writer_connection().connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

        try:
            await loop.run_in_executor(self._thread, checkpoint_here)
        except Exception:  # the next checkpoint asks again
            log.exception("SQLite WAL restart checkpoint failed")

    async def run_read(self, fn: Callable[[Connection], T]) -> T:
        """Run a short read (a few indexed lookups) and return its result.

        On SQLite it runs here on the loop with a connection of its own: a point lookup costs a few
        microseconds, far less than the thread hops aiosqlite makes for every statement. Elsewhere it
        runs through the async engine.
        """
        if self._reader is None:
            async with self.engine.connect() as conn:
                return await conn.run_sync(fn)
        if self._reader_conn is None or self._reader_conn.closed or self._reader_conn.invalidated:
            self._reader_conn = self._reader.connect()
        try:
            with self._reader_conn.begin():
                return fn(self._reader_conn)
        except OperationalError as exc:
            if not _is_locked(exc.orig or exc):
                raise
        # The file was briefly busy (a checkpoint restarting the WAL): read through aiosqlite instead.
        async with self.engine.connect() as conn:
            return await conn.run_sync(fn)

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
        for task in (self._checkpointer, self._worker):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._checkpointer = self._worker = None
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
        if self._writer is not None:
            if self._wrote_since_checkpoint:
                try:
                    self._checkpoint()
                except sqlite3.Error as exc:  # the next start's first checkpoint does it
                    log.info("SQLite checkpoint at shutdown skipped: %s", exc)
            if self._writer_conn is not None:
                self._writer_conn.close()
                self._writer_conn = None
            self._writer.dispose()
        if self._reader is not None:
            if self._reader_conn is not None:
                self._reader_conn.close()
                self._reader_conn = None
            self._reader.dispose()
        if self._checkpoint_conn is not None:
            self._checkpoint_conn.close()
            self._checkpoint_conn = None
        await self.engine.dispose()
