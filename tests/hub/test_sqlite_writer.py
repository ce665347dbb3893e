"""The SQLite writer: light writes run on the loop, yet a lock held by another process never stalls the
loop, writes keep their order, and the WAL is copied into the database file without a commit doing it."""

from __future__ import annotations

import asyncio
import sqlite3
import struct
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from hub.storage import database as database_module
from hub.storage.database import Database


async def _fresh(tmp_path: Path) -> Database:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}")

    def schema(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

    await db.run_write(schema)
    return db


def _insert(body: str):  # type: ignore[no-untyped-def]
    def tx(conn: Connection) -> int:
        return int(conn.execute(text("INSERT INTO notes (body) VALUES (:b) RETURNING id"), {"b": body}).scalar_one())

    return tx


async def test_a_lock_held_by_another_process_delays_the_write_but_not_the_loop(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    other = sqlite3.connect(tmp_path / "kefu.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process (a CLI command, say) holds the write lock
        write = asyncio.create_task(db.run_write(_insert("waited for the lock"), light=True))
        gaps: list[float] = []
        last = time.perf_counter()
        for _ in range(40):  # 0.4 s of a ticker: the loop must keep turning meanwhile
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now
        assert not write.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(write, 10) == 1
        assert max(gaps) < 0.2, f"the event loop stalled for {max(gaps):.3f} s"
    finally:
        other.close()
        await db.dispose()


async def test_light_and_heavy_writes_commit_in_the_order_they_were_asked_for(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    try:
        bodies = [f"note {i}" for i in range(60)]
        # Every fifth write is heavy (thread); the rest are light (loop): ids must follow the asking order.
        ids = await asyncio.gather(*(db.run_write(_insert(body), light=i % 5 != 0) for i, body in enumerate(bodies)))
        assert ids == list(range(1, 61))
    finally:
        await db.dispose()


async def test_one_bad_write_in_a_light_batch_fails_alone(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    try:

        def bad(conn: Connection) -> None:
            conn.exec_driver_sql("INSERT INTO notes (body) VALUES (NULL)")

        results = await asyncio.gather(
            db.run_write(_insert("first"), light=True),
            db.run_write(bad, light=True),
            db.run_write(_insert("third"), light=True),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 2
        assert isinstance(results[1], Exception) and "NOT NULL" in str(results[1])
    finally:
        await db.dispose()


async def test_the_wal_is_copied_into_the_database_file_in_the_background(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(database_module, "CHECKPOINT_INTERVAL_S", 0.05)
    db = await _fresh(tmp_path)
    try:
        main_file = tmp_path / "kefu.db"
        before = main_file.stat().st_size
        for i in range(200):
            await db.run_write(_insert("x" * 2000 + str(i)), light=True)
        # Commits never checkpoint (wal_autocheckpoint=0): the rows reach the main file only when
        # the checkpoint thread copies them.
        deadline = time.monotonic() + 10
        while main_file.stat().st_size <= before + 200 * 2000 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert main_file.stat().st_size > before + 200 * 2000
    finally:
        await db.dispose()


async def test_short_reads_on_the_loop_see_what_was_committed_and_cannot_write(tmp_path: Path) -> None:
    db = await _fresh(tmp_path)
    try:
        await db.run_write(_insert("first"), light=True)

        def bodies(conn: Connection) -> list[str]:
            return list(conn.execute(text("SELECT body FROM notes ORDER BY id")).scalars())

        assert await db.run_read(bodies) == ["first"]
        await db.run_write(_insert("second"))
        assert await db.run_read(bodies) == ["first", "second"]

        def sneaky_write(conn: Connection) -> None:
            conn.execute(text("INSERT INTO notes (body) VALUES ('not through the writer')"))

        with pytest.raises(OperationalError, match="readonly"):
            await db.run_read(sneaky_write)
    finally:
        await db.dispose()


async def test_writes_arriving_close_together_share_a_commit_and_a_lone_write_does_not_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await _fresh(tmp_path)
    try:
        await db.run_write(_insert("warm"), light=True)
        commits: list[float] = []
        assert db._writer is not None
        from sqlalchemy import event

        event.listen(db._writer, "commit", lambda conn: commits.append(time.perf_counter()))
        await asyncio.sleep(0.05)  # quiet: the next write is alone
        with monkeypatch.context() as patch:
            patch.setattr(database_module, "GATHER_S", 2.0)  # were it to wait for company, it would show
            started = time.perf_counter()
            await db.run_write(_insert("alone"), light=True)
            alone_s = time.perf_counter() - started
        assert len(commits) == 1 and alone_s < 1.0, f"a lone write waited {alone_s:.2f} s"

        # A steady stream, one message every 0.5 ms (2,000/s): they gather into shared commits. The wait
        # and the "close together" gap are scaled up (25 ms) so that a busy machine, where a 0.5 ms sleep
        # can take several, cannot spread the stream out enough to change the outcome.
        commits.clear()
        writes = []
        with monkeypatch.context() as patch:
            patch.setattr(database_module, "GATHER_S", 0.025)
            patch.setattr(database_module, "GATHER_WHEN_APART_S", 0.025)
            for i in range(40):
                writes.append(asyncio.create_task(db.run_write(_insert(f"stream {i}"), light=True)))
                await asyncio.sleep(0.0005)
            ids = await asyncio.gather(*writes)
        assert ids == sorted(ids) and len(set(ids)) == 40
        assert len(commits) <= 20, f"{len(commits)} commits for 40 writes arriving 0.5 ms apart"
    finally:
        await db.dispose()


async def test_the_wal_starts_over_under_writes_that_never_pause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small figures for a test: a checkpoint every 20 ms, the WAL started over past 64 frames.
    monkeypatch.setattr(database_module, "CHECKPOINT_INTERVAL_S", 0.02)
    monkeypatch.setattr(database_module, "WAL_RESTART_FRAMES", 64)
    db = await _fresh(tmp_path)
    wal = tmp_path / "kefu.db-wal"
    seen: list[int] = []
    try:
        body = "x" * 3000  # about a page a row: the WAL grows by a frame or more per write
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            # Writers that never pause for a whole checkpoint, as a busy chat keeps the hub.
            await asyncio.gather(*(db.run_write(_insert(body), light=True) for _ in range(8)))
            seen.append(_wal_frames(wal))
        grew_to = max(seen)
        assert grew_to >= 64, "the test wrote too little to need a restart"
        assert any(later < earlier for earlier, later in zip(seen, seen[1:], strict=False)), (
            f"the WAL only grew: {seen[0]} -> {seen[-1]} frames"
        )
        assert seen[-1] < 64 * 4, f"the WAL ended at {seen[-1]} frames"
    finally:
        await db.dispose()


def _wal_frames(wal: Path) -> int:
    """Frames in the WAL now, as SQLite's shared WAL index records them (mxFrame in its header), read
    without a connection of our own (which could itself checkpoint or hold a read lock)."""
    header = wal.with_name("kefu.db-shm").read_bytes()[:48]
    return int(struct.unpack_from("=I", header, 16)[0])
