"""The inbound hot path runs prepared statements on SQLite's own connection; what it stores must be
exactly what SQLAlchemy Core stores, and what it reads back must be typed the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import sqlite as sqlite_dialect

from hub.storage.database import Database
from hub.storage.migrate import upgrade
from hub.storage.prepared import Prepared, _sqlite_utc_text
from hub.storage.tables import Conversation, Customer, Identity, Message, UTCDateTime

messages = Message.__table__
conversations = Conversation.__table__
customers = Customer.__table__
identities = Identity.__table__

COLUMNS = (
    "conversation_id",
    "seq",
    "direction",
    "author",
    "agent_id",
    "channel",
    "external_id",
    "text",
    "html",
    "attachments",
    "buttons",
    "meta",
    "automated",
    "delivery_status",
    "attempts",
    "created_at",
)
AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _message(conversation_id: int, seq: int, external_id: str) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "seq": seq,
        "direction": "in",
        "author": "customer",
        "agent_id": None,
        "channel": "webchat",
        "external_id": external_id,
        "text": "你好, where is my parcel?",
        "html": None,
        "attachments": [{"name": "收据.pdf", "size": 3}],
        "buttons": [],
        "meta": {"client_id": "c-1"},
        "automated": False,
        "delivery_status": "received",
        "attempts": 0,
        "created_at": AT,
    }


async def _conversation(db: Database) -> int:
    def tx(conn: Connection) -> int:
        customer = conn.execute(
            insert(customers).returning(customers.c.id),
            {
                "display_name": "Li",
                "lifecycle_stage": "customer",
                "tier": "standard",
                "tags": [],
                "attributes": {},
                "created_at": AT,
                "updated_at": AT,
            },
        ).scalar_one()
        identity = conn.execute(
            insert(identities).returning(identities.c.id),
            {
                "customer_id": customer,
                "channel": "webchat",
                "address": "v-1",
                "verified": False,
                "opted_out": False,
                "created_at": AT,
            },
        ).scalar_one()
        return int(
            conn.execute(
                insert(conversations).returning(conversations.c.id),
                {
                    "customer_id": customer,
                    "identity_id": identity,
                    "channel": "webchat",
                    "status": "queued",
                    "priority": "normal",
                    "labels": [],
                    "last_seq": 0,
                    "unread_count": 0,
                    "created_at": AT,
                    "updated_at": AT,
                },
            ).scalar_one()
        )

    return await db.run_write(tx)


async def test_a_prepared_insert_stores_the_same_row_as_core(database_url: str) -> None:
    db = Database(database_url)
    await upgrade(db)
    try:
        conversation_id = await _conversation(db)
        prepared = Prepared(insert(messages).returning(messages.c.id), COLUMNS)

        def both(conn: Connection) -> tuple[int, int]:
            fast = prepared.one(conn, _message(conversation_id, 1, "fast"))[0]
            core = conn.execute(insert(messages).returning(messages.c.id), _message(conversation_id, 2, "core"))
            return fast, core.scalar_one()

        fast_id, core_id = await db.run_write(both)
        async with db.read() as conn:
            rows = {r.id: r._asdict() for r in (await conn.execute(select(messages))).all()}
        fast_row, core_row = rows[fast_id], rows[core_id]
        for differs in ("id", "seq", "external_id"):
            fast_row.pop(differs), core_row.pop(differs)
        assert fast_row == core_row
        if db.is_sqlite:  # byte for byte what Core wrote: datetime format, JSON text
            async with db.read() as conn:
                raw = (
                    await conn.exec_driver_sql("SELECT created_at, attachments, meta FROM messages ORDER BY id")
                ).all()
            assert raw[0] == raw[1]
        assert fast_row["created_at"] == AT and fast_row["attachments"] == [{"name": "收据.pdf", "size": 3}]
    finally:
        await db.dispose()


async def test_prepared_reads_return_aware_datetimes_and_use_literal_defaults(database_url: str) -> None:
    db = Database(database_url)
    await upgrade(db)
    try:
        conversation_id = await _conversation(db)
        latest = Prepared(
            select(conversations.c.id, conversations.c.created_at)
            .where(conversations.c.channel == "webchat")
            .order_by(conversations.c.id.desc())
            .limit(1)
        )
        row = await db.run_write(lambda conn: latest.one(conn, {}))
        assert tuple(row) == (conversation_id, AT)
        assert row[1].tzinfo is not None
        assert await db.run_write(lambda conn: latest.rows(conn, {})) != []
    finally:
        await db.dispose()


async def test_a_statement_that_needs_python_defaults_is_refused(tmp_path: Any) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    await upgrade(db)
    try:
        missing_defaults = Prepared(insert(messages), ("conversation_id", "seq", "direction", "author", "channel"))
        with pytest.raises(ValueError, match="attachments"):
            await db.run_write(lambda conn: missing_defaults.rows(conn, {}))
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    "value",
    [
        AT,
        datetime(2026, 3, 1, 12, 30, 15, tzinfo=UTC),  # no microseconds: still written with six zeros
        datetime(2026, 3, 1, 20, 30, 15, 5, tzinfo=timezone(timedelta(hours=8))),  # Beijing time, stored as UTC
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
    ],
)
def test_the_fast_datetime_binding_writes_what_sqlalchemy_writes(value: datetime | None) -> None:
    dialect = sqlite_dialect.dialect()
    core = UTCDateTime()._cached_bind_processor(dialect)
    assert core is not None
    assert _sqlite_utc_text(value) == core(value)


def test_a_naive_datetime_is_refused_like_core_refuses_it() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        _sqlite_utc_text(datetime(2026, 3, 1))


async def test_a_prepared_insert_of_many_rows_stores_what_core_stores(database_url: str) -> None:
    from hub.storage.complaint_tables import ComplaintMessageScore

    scores = ComplaintMessageScore.__table__
    db = Database(database_url)
    await upgrade(db)
    try:
        conversation_id = await _conversation(db)
        customer_id = await db.run_read(
            lambda conn: conn.execute(
                select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
            ).scalar_one()
        )
        ids = await db.run_write(
            lambda conn: [
                conn.execute(insert(messages).returning(messages.c.id), _message(conversation_id, n, f"m{n}"))
                .scalar_one()
                for n in range(1, 5)
            ]
        )

        def score(message_id: int, complaint: bool) -> dict[str, Any]:
            return {
                "message_id": message_id, "conversation_id": conversation_id, "customer_id": customer_id,
                "channel": "webchat", "probability": 0.8125 if complaint else 0.0625, "detected": complaint,
                "is_complaint": complaint, "category": "delivery" if complaint else None,
                "severity": "high" if complaint else None, "cues": ["催促: 还没到"] if complaint else [],
                "model_version": 3, "case_id": None, "received_at": AT,
                "scored_at": AT.astimezone(timezone(timedelta(hours=8))),  # not UTC: stored as UTC
            }

        prepared = Prepared(insert(scores), tuple(score(0, True)))

        def both(conn: Connection) -> None:
            prepared.many(conn, [score(ids[0], True), score(ids[1], False)])
            conn.execute(insert(scores), [score(ids[2], True), score(ids[3], False)])

        await db.run_write(both)
        async with db.read() as conn:
            rows = [r._asdict() for r in (await conn.execute(select(scores).order_by(scores.c.message_id))).all()]
        for row in rows:
            row.pop("message_id")
        assert rows[0] == rows[2] and rows[1] == rows[3]
        assert rows[0]["scored_at"] == AT and rows[0]["cues"] == ["催促: 还没到"] and rows[1]["detected"] is False
        if db.is_sqlite:
            async with db.read() as conn:
                raw = [
                    tuple(r)
                    for r in (
                        await conn.exec_driver_sql(
                            "SELECT detected, cues, received_at, scored_at FROM complaint_scores ORDER BY message_id"
                        )
                    ).all()
                ]
            assert raw[0] == raw[2] and raw[1] == raw[3]
    finally:
        await db.dispose()
