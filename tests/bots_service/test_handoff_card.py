"""The hand-off card: the conversation API says why the bot stepped aside, the intent, what the customer
asked and what the bot last answered, from the stored hand-off (not from the bot's note)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS
from tests.bots_service.conftest import ChatCustomer, settled
from tests.support import add_agent


async def test_the_conversation_carries_the_handoff_card(
    bot_hub: TestClient, customer: ChatCustomer, login_as: Any
) -> None:
    answer = await customer.ask("你们几点营业？")
    assert "9:00-21:00" in answer["text"]
    await customer.ask("转人工")
    cid = customer.conversation_id
    assert cid is not None
    await settled(bot_hub, cid)
    await add_agent(bot_hub, "mei@example.com", Role.AGENT)
    agent = await login_as("mei@example.com")
    status, detail = await agent.get(f"/api/conversations/{cid}")
    assert status == 200
    card = detail["conversation"]["handoff"]
    assert card["code"] == "asked_for_human"
    assert card["reason"] == detail["conversation"]["handoff_reason"]
    assert card["customer_asked"] == "转人工"
    assert "9:00-21:00" in card["bot_answer"]
    assert card["explanation"] and card["at"]

    # Later messages do not change the card; a conversation the bot kept has none.
    await customer.say("喂？还在吗？")
    await settled(bot_hub, cid)
    _, again = await agent.get(f"/api/conversations/{cid}")
    assert again["conversation"]["handoff"]["customer_asked"] == "转人工"
    other = await bot_hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel="sms", external_id="card-2", sender="+15550400", text="你们几点营业？")
    )
    await settled(bot_hub, other.conversation_id)
    _, kept = await agent.get(f"/api/conversations/{other.conversation_id}")
    assert kept["conversation"]["status"] == "bot" and "handoff" not in kept["conversation"]
