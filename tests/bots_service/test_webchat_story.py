"""A web chat customer talks to the bot: answers, buttons, and hand-offs to a person with the reason."""
from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.bots_service.conftest import ChatCustomer, conversation, settled
from tests.support import add_agent


async def test_the_bot_answers_opening_hours_then_hands_off_on_request(
    bot_hub: TestClient, customer: ChatCustomer, login_as: Any
) -> None:
    answer = await customer.ask("你们几点营业？")
    assert answer["author"] == "bot"
    assert "9:00-21:00" in answer["text"]

    notice = await customer.ask("转人工")
    assert "人工客服" in notice["text"]
    cid = customer.conversation_id
    assert cid is not None
    await settled(bot_hub, cid)
    conv = await conversation(bot_hub, cid)
    assert conv["status"] == "queued"
    assert conv["handoff_reason"].startswith("asked_for_human")

    await customer.say("喂？还在吗？我的订单到哪了")
    await settled(bot_hub, cid)
    await add_agent(bot_hub, "mei@example.com", Role.AGENT)
    agent = await login_as("mei@example.com")
    _, detail = await agent.get(f"/api/conversations/{cid}")
    said = [(m["author"], m["direction"]) for m in detail["messages"]]
    # the bot stayed silent after the hand-off: the last customer message got no bot reply
    assert said[-1] == ("customer", "in")
    assert [m for m in detail["messages"] if m["direction"] == "note"][0]["text"].startswith("Bot handed off")
    _, events = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}/events")
    [handoff] = [e for e in events["events"] if e["kind"] == "conversation.handoff"]
    assert handoff["data"]["code"] == "asked_for_human" and "人工" in handoff["data"]["words"]
