"""The review inbox: what the bot could not answer reaches the designer, and what the designer decides is learnt."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bots.policy import REPHRASE
from hub.domain import Role
from tests.bots_designer.conftest import put, trained
from tests.bots_service.conftest import ChatCustomer, conversation, settled
from tests.support import AgentSession, add_agent, next_frame

UNSURE_TEXT = "我想预约上门安装空调"
INSTALLATION = ["安装服务怎么预约", "可以上门安装吗", "how do I book an installation", "do you install the appliance",
                "安装要收费吗", "install service please"]
INSTALLATION_ANSWER = "安装服务请在订单页点击“预约安装”，师傅会在 48 小时内联系您。"


@pytest.fixture
async def visitors(bot_hub: TestClient) -> AsyncIterator[Any]:
    """More web chat visitors, each on its own socket."""
    sockets: list[Any] = []

    async def visitor() -> ChatCustomer:
        ws = await bot_hub.ws_connect("/webchat/ws")
        sockets.append(ws)
        await ws.send_json({"type": "hello"})
        await next_frame(ws, "welcome")
        return ChatCustomer(bot_hub, ws)

    yield visitor
    for ws in sockets:
        await ws.close()


async def inbox(designer: AgentSession, query: str = "") -> dict[str, Any]:
    status, body = await designer.get(f"/api/bot/review{query}")
    assert status == 200, body
    return body  # type: ignore[no-any-return]


async def test_an_unsure_message_is_assigned_trained_activated_and_then_answered(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer
) -> None:
    starter_id = (await designer.get("/api/bot/versions"))[1]["active_version_id"]
    assert (await customer.ask(UNSURE_TEXT))["text"] == REPHRASE["zh"]
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)

    listing = await inbox(designer)
    [item] = listing["items"]
    assert item["text"] == UNSURE_TEXT and item["reason"] == "unsure" and item["status"] == "pending"
    assert item["language"] == "zh" and item["channel"] == "webchat" and item["version_id"] == starter_id
    assert item["conversation_id"] == customer.conversation_id and item["intent"] == "out_of_scope"
    assert 0 < item["confidence"] < 1
    assert listing["counts"] == {"unsure": 1, "kb_fallback": 0, "handed_off": 0, "did_not_help": 0}

    # nothing is created silently: the intent must exist, or the designer says create
    status, body = await designer.post(f"/api/bot/review/{item['id']}/assign", {"intent": "installation"})
    assert status == 422 and body["error"] == "unknown_intent" and "create" in body["message"]
    assert (await inbox(designer))["items"][0]["status"] == "pending"

    revision = (await designer.get("/api/bot/draft"))[1]["draft"]["revision"]
    status, _ = await put(designer, "/api/bot/draft/intents/installation",
                          {"revision": revision, "examples": [{"text": t} for t in INSTALLATION]})
    assert status == 200
    status, _ = await put(designer, "/api/bot/draft/responses/utter_installation",
                          {"revision": revision + 1, "variations": [{"text": INSTALLATION_ANSWER}]})
    assert status == 200
    status, body = await designer.post(f"/api/bot/review/{item['id']}/assign", {"intent": "installation"})
    assert status == 200, body
    assert body["item"]["status"] == "assigned" and body["item"]["resolution"] == "intent"
    assert body["item"]["target"] == "installation" and body["item"]["resolved_by"] == f"agent:{designer.agent_id}"
    assert body["item"]["resolved_at"] and body["draft"]["revision"] == revision + 3
    status, body = await designer.post(f"/api/bot/review/{item['id']}/assign", {"intent": "installation"})
    assert status == 409 and body["error"] == "already_resolved"
    assert (await inbox(designer))["items"] == []
    assert (await inbox(designer, "?status=assigned"))["items"][0]["id"] == item["id"]
    draft = (await designer.get("/api/bot/draft"))[1]["draft"]
    [installation] = [i for i in draft["content"]["intents"] if i["name"] == "installation"]
    assert installation["examples"][-1] == {"text": UNSURE_TEXT}

    # the next training uses it; once active, the same message gets the new answer in the web chat
    status, body = await designer.post("/api/bot/draft/versions", {"label": "installation from the inbox"})
    assert status == 202
    version = await trained(designer, body["version"]["id"])
    assert version["status"] == "ready", version["error"]
    status, body = await designer.post(f"/api/bot/versions/{version['id']}/activate")
    assert status == 200
    assert (await customer.ask(UNSURE_TEXT))["text"] == INSTALLATION_ANSWER
    await settled(bot_hub, customer.conversation_id)
    assert (await inbox(designer))["items"] == []  # answered by intent: nothing new to review


async def test_articles_out_of_scope_dismissal_and_a_verdict_that_did_not_help(
    bot_hub: TestClient, designer: AgentSession, visitors: Any
) -> None:
    status, body = await designer.post("/api/kb/articles", {
        "title": "空调安装预约", "language": "zh", "status": "published",
        "body_markdown": "空调安装预约：在订单页点击预约安装，选择上门安装时间。安装空调免费。"})
    assert status == 201, body
    article_id = body["article"]["id"]

    first = await visitors()
    answer = await first.ask("空调安装怎么预约")
    assert "空调安装预约" in answer["text"]  # answered by the article, not by an intent
    await settled(bot_hub, first.conversation_id)
    [item] = (await inbox(designer))["items"]
    assert item["reason"] == "kb_fallback" and item["text"] == "空调安装怎么预约"
    # the customer says it did not help: the question (not "没有帮助") is what the inbox keeps
    await first.ask("没有帮助")
    await settled(bot_hub, first.conversation_id)
    listing = await inbox(designer)
    assert [(i["id"], i["reason"], i["text"]) for i in listing["items"]] == [
        (item["id"], "did_not_help", "空调安装怎么预约")]
    assert listing["counts"]["did_not_help"] == 1 and listing["counts"]["kb_fallback"] == 0

    status, body = await designer.post(f"/api/bot/review/{item['id']}/article", {"article_id": 99999})
    assert status == 422 and body["error"] == "unknown_article"
    status, body = await designer.post(f"/api/bot/review/{item['id']}/article", {"article_id": str(article_id)})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post(f"/api/bot/review/{item['id']}/article", {"article_id": article_id})
    assert status == 200 and body["item"]["resolution"] == "article"
    assert body["item"]["target"] == str(article_id)
    status, exported = await designer.get("/api/bot/draft/export?format=kefu")
    assert [(link["text"], link["article_id"]) for link in exported["article_links"]] == [
        ("空调安装怎么预约", article_id)]

    second, third = await visitors(), await visitors()
    asked = ((second, "what's the weather like on mars"), (third, "who won the football game yesterday"))
    for visitor, text in asked:
        await visitor.ask(text)
        await settled(bot_hub, visitor.conversation_id)  # recorded in this order, so newest first is known
    listing = await inbox(designer, "?limit=1")
    assert listing["items"][0]["text"] == "who won the football game yesterday" and listing["total"] == 2
    page_two = await inbox(designer, f"?limit=1&cursor={listing['next_cursor']}")
    assert page_two["items"][0]["text"] == "what's the weather like on mars" and page_two["next_cursor"] is None
    mars, football = page_two["items"][0], listing["items"][0]

    revision = (await designer.get("/api/bot/draft"))[1]["draft"]["revision"]
    status, body = await designer.post(f"/api/bot/review/{mars['id']}/out-of-scope")
    assert status == 200 and body["item"]["resolution"] == "out_of_scope"
    assert body["draft"]["revision"] == revision + 1
    draft = (await designer.get("/api/bot/draft"))[1]["draft"]
    [oos] = [i for i in draft["content"]["intents"] if i["name"] == "out_of_scope"]
    assert oos["examples"][-1] == {"text": "what's the weather like on mars"}

    status, body = await designer.post(f"/api/bot/review/{football['id']}/dismiss")
    assert status == 200 and body["item"]["status"] == "dismissed" and body["draft"]["revision"] == revision + 1
    assert [i["id"] for i in (await inbox(designer, "?status=dismissed"))["items"]] == [football["id"]]
    assert (await inbox(designer))["total"] == 0


async def test_the_same_question_from_many_customers_is_one_entry_settled_once(
    bot_hub: TestClient, designer: AgentSession, visitors: Any
) -> None:
    asked = ["我想预约上门安装空调", "我想预约上门安装空调！", "what's the weather like on mars",
             "  我想预约上门安装空调？", "What's the weather like on Mars?"]
    for text in asked:
        visitor = await visitors()
        await visitor.ask(text)
        await settled(bot_hub, visitor.conversation_id)

    grouped = await inbox(designer, "?group=text")
    assert [(i["text"].strip(), i["count"]) for i in grouped["items"]] == [
        ("What's the weather like on Mars?", 2), ("我想预约上门安装空调？", 3)]  # newest of each, newest first
    assert grouped["total"] == 5 and len((await inbox(designer))["items"]) == 5
    page = await inbox(designer, "?group=text&limit=1")
    assert page["items"][0]["count"] == 2
    rest = await inbox(designer, f"?group=text&limit=1&cursor={page['next_cursor']}")
    assert [i["count"] for i in rest["items"]] == [3] and rest["next_cursor"] is None

    # One decision settles the three customers' items, and the draft gets the example once.
    install = rest["items"][0]
    status, body = await designer.post(f"/api/bot/review/{install['id']}/assign",
                                       {"intent": "book_installation", "create": True})
    assert status == 200 and body["also_resolved"] == 2
    draft = (await designer.get("/api/bot/draft"))[1]["draft"]
    [intent] = [i for i in draft["content"]["intents"] if i["name"] == "book_installation"]
    assert intent["examples"] == [{"text": install["text"]}]
    assigned = await inbox(designer, "?status=assigned")
    assert sorted(i["text"].strip() for i in assigned["items"]) == sorted(t.strip() for t in asked if "空调" in t)
    assert {i["target"] for i in assigned["items"]} == {"book_installation"}
    left = await inbox(designer, "?group=text")
    assert [(i["count"], i["status"]) for i in left["items"]] == [(2, "pending")]
    status, _ = await designer.post(f"/api/bot/review/{install['id']}/dismiss")
    assert status == 409
    status, body = await designer.get("/api/bot/review?group=words")
    assert status == 400 and body["error"] == "invalid_field"


async def test_a_question_linked_to_an_article_is_answered_with_it_from_then_on(
    bot_hub: TestClient, designer: AgentSession, visitors: Any
) -> None:
    status, body = await designer.post("/api/kb/articles", {
        "title": "门店服务说明", "language": "zh", "status": "published",
        "body_markdown": "到店请携带购物凭证，工作人员会为您办理。"})
    assert status == 201, body
    article_id = body["article"]["id"]

    first = await visitors()
    assert (await first.ask("旧冰箱可以折价吗"))["text"] == REPHRASE["zh"]  # search finds nothing to offer
    await settled(bot_hub, first.conversation_id)
    [item] = (await inbox(designer))["items"]
    status, _ = await designer.post(f"/api/bot/review/{item['id']}/article", {"article_id": article_id})
    assert status == 200

    # The designer's link answers the same question, however it is typed, with no retraining.
    second = await visitors()
    answer = await second.ask("旧冰箱可以折价吗？")
    assert "门店服务说明" in answer["text"] and "购物凭证" in answer["text"]
    status, tried = await designer.post(f"/api/bot/versions/{item['version_id']}/test",
                                        {"text": "旧冰箱可以折价吗!", "channel": "webchat"})
    assert status == 200 and tried["articles"][0]["title"] == "门店服务说明"

    # Unpublished, the article is no longer offered.
    status, _ = await designer.post(f"/api/kb/articles/{article_id}/unpublish")
    assert status == 200, _
    third = await visitors()
    assert (await third.ask("旧冰箱可以折价吗"))["text"] == REPHRASE["zh"]


async def test_bad_review_requests_are_refused(designer: AgentSession) -> None:
    for query, code in (("?status=done", 400), ("?reason=angry", 400), ("?limit=0", 400), ("?limit=201", 400),
                        ("?limit=x", 400), ("?cursor=-3", 400)):
        status, body = await designer.get(f"/api/bot/review{query}")
        assert status == code and body["error"] == "invalid_field", query
    for path in ("assign", "article", "out-of-scope", "dismiss"):
        status, body = await designer.post(f"/api/bot/review/999/{path}", {"intent": "greet", "article_id": 1})
        assert status == 404 and body["error"] == "not_found", path
    status, body = await designer.post("/api/bot/review/999/assign", {})
    assert status == 400 and body["error"] == "missing_field"
    status, body = await designer.post("/api/bot/review/999/assign", {"intent": "  "})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post("/api/bot/review/999/assign", {"intent": "greet", "create": "yes"})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post("/api/bot/review/abc/dismiss")
    assert status == 404


async def test_erasing_a_customer_removes_their_words_from_the_inbox(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer, login_as: Any
) -> None:
    await customer.ask(UNSURE_TEXT)
    await settled(bot_hub, customer.conversation_id)
    assert (await inbox(designer))["total"] == 1
    customer_id = (await conversation(bot_hub, customer.conversation_id))["customer_id"]
    await add_agent(bot_hub, "root@example.com", Role.ADMIN)
    admin = await login_as("root@example.com")
    status, exported = await admin.get(f"/api/customers/{customer_id}/privacy/export")
    assert status == 200, exported
    [section] = exported["sections"]["bot_review_inbox"]
    assert section["data"][0]["text"] == UNSURE_TEXT
    status, body = await admin.post(f"/api/customers/{customer_id}/privacy/erase",
                                    {"confirm": customer_id, "basis": "gdpr"})
    assert status == 200, body
    assert (await inbox(designer))["total"] == 0


async def test_asking_for_a_person_after_an_answer_puts_the_question_in_the_inbox(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer
) -> None:
    assert "7天内" in (await customer.ask("我要退款"))["text"]  # answered by intent: nothing to review yet
    await settled(bot_hub, customer.conversation_id)
    assert (await inbox(designer))["total"] == 0
    await customer.ask("转人工")
    await settled(bot_hub, customer.conversation_id)
    [item] = (await inbox(designer))["items"]
    assert (item["reason"], item["text"], item["intent"]) == ("handed_off", "我要退款", None)
    assert (await conversation(bot_hub, customer.conversation_id))["status"] == "queued"
