"""Scoring takes a message this hub just stored from what it wrote, and reads the others (stored by
another process, or scored again later) from the database: the scores are the same either way, and a
message scored twice keeps its first score."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from hub.keys import ACTIONS, DATABASE
from hub.snapshots import InboundFields, RecentInbound
from hub.storage.complaint_tables import ComplaintMessageScore
from hub.storage.tables import Message
from tests.complaints_db.conftest import Desk

scores = ComplaintMessageScore.__table__
messages = Message.__table__
COMPLAINT = "This is the third time I write: my parcel never arrived and nobody answers. I want a refund now!"
QUESTION = "Hello, what time do you open on Saturday?"


async def _score(desk: Desk, message_id: int) -> dict[str, Any]:
    boss = desk.sessions[0] if desk.sessions else (await desk.staff("lead@example.com")).session
    status, body = await boss.get(f"/api/messages/{message_id}/complaint")
    assert status == 200, body
    return body["score"]


async def _stored(desk: Desk, message_id: int) -> tuple[Any, Any]:
    """The score row as stored, and when its message was received."""
    async with desk.hub.app[DATABASE].read() as conn:
        row = (await conn.execute(select(scores).where(scores.c.message_id == message_id))).one()
        received_at = (
            await conn.execute(select(messages.c.created_at).where(messages.c.id == message_id))
        ).scalar_one()
    return row, received_at


async def _score_rows(desk: Desk, message_id: int) -> int:
    async with desk.hub.app[DATABASE].read() as conn:
        return (
            await conn.execute(select(func.count()).select_from(scores).where(scores.c.message_id == message_id))
        ).scalar_one()


async def test_a_message_stored_elsewhere_is_read_and_scored_like_one_stored_here(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = await desk.writes("webchat", "visitor:here", COMPLAINT)
    recent = desk.hub.app[ACTIONS].recent_inbound
    assert recent.take([here.message_id]) == ([], [here.message_id]), "scoring took what this hub wrote"

    # Another process stores the next one: this hub has nothing of it in memory.
    monkeypatch.setattr(recent, "put", lambda fields: None)
    elsewhere = await desk.writes("webchat", "visitor:elsewhere", COMPLAINT)

    first, second = await _score(desk, here.message_id), await _score(desk, elsewhere.message_id)
    assert first["is_complaint"] is second["is_complaint"] is True
    assert (first["probability"], first["category"]) == (second["probability"], second["category"])
    for result in (here, elsewhere):
        row, received_at = await _stored(desk, result.message_id)
        assert (row.customer_id, row.conversation_id, row.channel) == (
            result.customer_id, result.conversation_id, "webchat"
        )
        assert row.received_at == received_at


async def test_scoring_a_message_again_keeps_its_first_score(desk: Desk) -> None:
    question = await desk.writes("webchat", "visitor:asks", QUESTION)
    complaint = await desk.writes("webchat", "visitor:angry", COMPLAINT)
    before = [await _score(desk, question.message_id), await _score(desk, complaint.message_id)]

    # A catch-up after a restart (or a redelivered event) scores both again, in one burst.
    cases = await desk.complaints.score_many([question.message_id, complaint.message_id])

    assert cases[question.message_id] is None
    after = [await _score(desk, question.message_id), await _score(desk, complaint.message_id)]
    assert after == before
    assert [await _score_rows(desk, m.message_id) for m in (question, complaint)] == [1, 1]


def test_the_recent_messages_are_bounded_and_each_is_taken_once() -> None:
    recent = RecentInbound(capacity=2)
    for i in (1, 2, 3):
        recent.put(InboundFields(i, f"text {i}", "sms", 10 + i, 20 + i, None))  # type: ignore[arg-type]

    found, missing = recent.take([1, 2, 3])

    assert [f.id for f in found] == [2, 3]
    assert missing == [1], "the oldest was let go"
    assert recent.take([2, 3]) == ([], [2, 3])
