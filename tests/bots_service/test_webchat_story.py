"""A web chat customer talks to the bot: answers, buttons, and hand-offs to a person with the reason."""
from __future__ import annotations

import asyncio
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


async def test_an_english_customer_asking_for_a_human_is_handed_over_in_english(
    bot_hub: TestClient, customer: ChatCustomer
) -> None:
    greeting = await customer.ask("hello")
    assert greeting["text"].startswith("Hi!")
    assert [b["payload"] for b in greeting["buttons"]] == ["/order_status", "/refund_policy", "/ask_human"]

    notice = await customer.ask("I want a human")
    assert notice["text"] == "Let me connect you with a member of our team. One moment, please."
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    conv = await conversation(bot_hub, customer.conversation_id)
    assert conv["status"] == "queued" and conv["handoff_reason"] == (
        "asked_for_human: the customer asked for a person (“human”)"
    )


async def test_a_complaint_goes_to_a_person_with_its_category(bot_hub: TestClient, customer: ChatCustomer) -> None:
    await customer.ask("你们这什么垃圾服务！快递丢了也没人管，我要投诉到12315！")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    conv = await conversation(bot_hub, customer.conversation_id)
    assert conv["status"] == "queued"
    assert conv["handoff_reason"].startswith("complaint: the message reads as a complaint")


async def test_a_key_account_is_handed_to_a_person_without_the_bot_answering(
    bot_hub: TestClient, customer: ChatCustomer, login_as: Any
) -> None:
    await customer.ask("你好")
    assert customer.conversation_id is not None
    cid = customer.conversation_id
    await add_agent(bot_hub, "sup@example.com", Role.SUPERVISOR)
    supervisor = await login_as("sup@example.com")
    _, detail = await supervisor.get(f"/api/conversations/{cid}")
    customer_id = detail["conversation"]["customer_id"]
    resp = await supervisor.client.patch(f"/api/customers/{customer_id}", json={"tier": "key"},
                                         headers={"X-CSRF-Token": supervisor.csrf})
    assert resp.status == 200

    notice = await customer.ask("我的订单到哪了")
    assert notice["text"] == "好的，正在为您转接人工客服，请稍候。"
    await settled(bot_hub, cid)
    conv = await conversation(bot_hub, cid)
    assert conv["status"] == "queued" and conv["handoff_reason"].startswith("key_account")


async def test_the_bot_asks_to_rephrase_once_then_hands_off(bot_hub: TestClient, customer: ChatCustomer) -> None:
    first = await customer.ask("zxqv blorptangle?")
    assert first["text"] == "Sorry, I didn't quite get that. Could you put it another way?"
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    assert (await conversation(bot_hub, customer.conversation_id))["status"] == "bot"

    second = await customer.ask("flibber wozzle grunk")
    assert second["text"].startswith("Let me connect you")
    await settled(bot_hub, customer.conversation_id)
    conv = await conversation(bot_hub, customer.conversation_id)
    assert conv["status"] == "queued"
    assert conv["handoff_reason"] == "unsure: the bot did not understand 2 messages in a row"


async def test_saying_the_answer_did_not_help_brings_a_person(bot_hub: TestClient, customer: ChatCustomer) -> None:
    answer = await customer.ask("how long does shipping take?")
    assert "48 hours" in answer["text"]
    notice = await customer.ask("that didn't help")
    assert notice["text"].startswith("Let me connect you")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    conv = await conversation(bot_hub, customer.conversation_id)
    assert conv["handoff_reason"].startswith("not_helpful")


async def test_a_question_no_intent_covers_is_answered_from_the_knowledge_base(
    bot_hub: TestClient, customer: ChatCustomer, login_as: Any
) -> None:
    from knowledge_base.article import Article
    from knowledge_base.keys import KNOWLEDGE_BASE

    kb = bot_hub.app[KNOWLEDGE_BASE]
    await kb.create(Article(None, "warranty", "产品保修政策",
                            "所有电子产品享受一年质保，保修期内非人为损坏免费维修。请携带购买凭证到售后网点。", "zh",
                            status="published"), None)
    await kb.create(Article(None, "gift-cards", "Gift cards", "Gift cards never expire.", "en",
                            status="published"), None)
    for _ in range(100):
        if await kb.search("保修", language="zh"):
            break
        await asyncio.sleep(0.05)

    answer = await customer.ask("我的手机坏了，还在保修期内吗？")
    assert answer["author"] == "bot"
    assert "产品保修政策" in answer["text"] and "/help/articles/warranty" in answer["text"]
    assert [b["title"] for b in answer["buttons"]] == ["解决了，谢谢", "没有帮助"]

    # the customer taps "没有帮助": the agent sees which article the bot tried
    await customer.ask("没有帮助")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    await add_agent(bot_hub, "li@example.com", Role.AGENT)
    agent = await login_as("li@example.com")
    _, detail = await agent.get(f"/api/conversations/{customer.conversation_id}")
    assert detail["conversation"]["handoff_reason"].startswith("not_helpful")
    _, events = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}/events")
    [handoff] = [e for e in events["events"] if e["kind"] == "conversation.handoff"]
    assert handoff["data"]["last_articles"] == ["warranty"]
