"""CSAT per agent: the agent table of the metrics API and the conversation carry the customers' ratings;
a rating sent as a reply does not count as an unread message."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from hub.domain import Role
from hub.keys import DATABASE
from hub.storage.customer_tables import CsatRequest
from tests.customers.helpers import customer_writes, staff, until
from tests.support import AgentSession

csat = CsatRequest.__table__


@pytest.fixture(autouse=True)
def ask_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for the rating right after resolution (the default waits a minute)."""
    monkeypatch.setenv("KEFU_CSAT_DELAY_SECONDS", "0")
    monkeypatch.setenv("KEFU_CSAT_SWEEP_SECONDS", "0.2")


async def served(agent: AgentSession, sender: str, n: int, hub: TestClient) -> int:
    first = await customer_writes(hub, "webchat", sender, f"question {n}", f"csat-{sender}-{n}")
    conversation_id = first.conversation_id
    assert (await agent.post(f"/api/conversations/{conversation_id}/take"))[0] == 200
    assert (await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": f"answer {n}"}))[0] == 201
    assert (await agent.post(f"/api/conversations/{conversation_id}/resolve"))[0] == 200
    return conversation_id


async def asked(hub: TestClient, conversation_id: int) -> str | None:
    async with hub.app[DATABASE].read() as conn:
        return (
            await conn.execute(
                select(csat.c.token).where(csat.c.conversation_id == conversation_id, csat.c.state == "asked")
            )
        ).scalar()


async def test_agents_get_their_customers_ratings(hub: TestClient, login_as: Any) -> None:
    boss = await staff(hub, login_as, Role.SUPERVISOR)
    ana = await staff(hub, login_as, Role.AGENT, "ana@example.com")
    ben = await staff(hub, login_as, Role.AGENT, "ben@example.com")
    rated = {}
    for n, (agent, score) in enumerate(((ana, 5), (ana, 2), (ben, None))):
        conversation_id = await served(agent, f"visitor-{n}", n, hub)
        token = await until(lambda c=conversation_id: asked(hub, c))
        if score is not None:
            resp = await hub.post(f"/csat/{token}", json={"score": score, "comment": f"comment {n}"})
            assert resp.status == 200, await resp.text()
            rated[conversation_id] = score

    status, body = await boss.get("/api/metrics/agents")
    assert status == 200, body
    by_name = {a["name"]: a for a in body["agents"]}
    assert (by_name["Ana"]["csat"], by_name["Ana"]["csat_responses"]) == (3.5, 2)
    assert (by_name["Ben"]["csat"], by_name["Ben"]["csat_responses"]) == (None, 0)
    assert by_name["Ana"]["handled"] == 2

    conversation_id = next(iter(rated))
    status, body = await ana.get(f"/api/conversations/{conversation_id}")
    assert (body["conversation"]["csat_score"], body["conversation"]["csat_comment"]) == (5, "comment 0")
    status, body = await ana.get("/api/metrics/agents")
    assert status == 403


async def test_a_rating_reply_is_not_an_unread_message(hub: TestClient, login_as: Any) -> None:
    ana = await staff(hub, login_as, Role.AGENT, "ana@example.com")
    conversation_id = await served(ana, "visitor-r", 9, hub)
    await until(lambda: asked(hub, conversation_id))
    again = await customer_writes(hub, "webchat", "visitor-r", "csat:4", "csat-visitor-r-rating")
    assert again.conversation_id == conversation_id
    status, body = await ana.get(f"/api/conversations/{conversation_id}")
    conversation = body["conversation"]
    assert (conversation["status"], conversation["csat_score"]) == ("resolved", 4)
    assert conversation["unread_count"] == 0
