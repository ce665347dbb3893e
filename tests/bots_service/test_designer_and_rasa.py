"""A designer imports, trains, tests, activates and rolls back bot versions; remote Rasa answers or fails."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.bots_service.conftest import ChatCustomer, conversation, settled
from tests.fakes.rasa_server import FakeRasa
from tests.support import AgentSession, add_agent

RASA_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rasa"


@pytest.fixture
async def designer(bot_hub: TestClient, login_as: Any) -> AgentSession:
    await add_agent(bot_hub, "dana@example.com", Role.DESIGNER)
    return await login_as("dana@example.com")  # type: ignore[no-any-return]


@pytest.fixture
async def rasa() -> AsyncIterator[FakeRasa]:
    async with FakeRasa(token="s3cret") as server:
        yield server


async def trained(designer: AgentSession, version_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the version until training ends; the progress seen on the way is returned with it."""
    seen: list[float] = []
    async with asyncio.timeout(timeout):
        while True:
            status, body = await designer.get(f"/api/bot/versions/{version_id}")
            assert status == 200
            version = body["version"]
            seen.append(version["progress"])
            if version["status"] in ("ready", "failed"):
                version["seen_progress"] = seen
                return version  # type: ignore[no-any-return]
            await asyncio.sleep(0.05)


async def test_an_agent_without_the_designer_role_cannot_touch_the_bot(bot_hub: TestClient, login_as: Any) -> None:
    await add_agent(bot_hub, "ag@example.com", Role.AGENT)
    agent = await login_as("ag@example.com")
    status, body = await agent.get("/api/bot/versions")
    assert status == 403 and body["error"] == "forbidden"


async def test_import_rasa_files_train_test_activate_and_roll_back(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer
) -> None:
    status, listing = await designer.get("/api/bot/versions")
    [starter] = listing["versions"]
    assert starter["active"] and starter["source"] == "starter" and starter["status"] == "ready"

    status, created = await designer.post("/api/bot/versions", {
        "format": "rasa", "label": "Shop bot from Rasa",
        "nlu": (RASA_FIXTURES / "zh" / "nlu.yml").read_text(encoding="utf-8"),
        "domain": (RASA_FIXTURES / "zh" / "domain.yml").read_text(encoding="utf-8"),
    })
    assert status == 201, created
    version_id = created["version"]["id"]
    version = await trained(designer, version_id)
    assert version["status"] == "ready", version["error"]
    assert version["metrics"]["intents"] == 5 and version["progress"] == 1.0

    status, tried = await designer.post(f"/api/bot/versions/{version_id}/test", {"text": "我要退款"})
    assert status == 200
    assert tried["understanding"]["intent"] == "退款"
    assert tried["decision"]["action"] == "reply"
    assert tried["decision"]["messages"][0]["text"] == "退款将在 5-7 个工作日内原路返回。"
    status, tried = await designer.post(f"/api/bot/versions/{version_id}/test", {"text": "帮我转人工"})
    assert tried["decision"]["would_hand_off"] is True and tried["decision"]["reason"] == "asked_for_human"

    # not active yet: the customer still talks to the starter bot
    assert "7天内" in (await customer.ask("我要退款"))["text"]

    status, activated = await designer.post(f"/api/bot/versions/{version_id}/activate")
    assert status == 200 and activated["previous_version_id"] == starter["id"]
    assert (await customer.ask("我要退款"))["text"] == "退款将在 5-7 个工作日内原路返回。"

    status, rolled = await designer.post("/api/bot/rollback")
    assert status == 200 and rolled["version"]["id"] == starter["id"] and rolled["version"]["active"]
    assert "7天内" in (await customer.ask("我要退款"))["text"]

    status, exported = await designer.get(f"/api/bot/versions/{version_id}/content?format=rasa")
    assert status == 200 and "退款" in exported["nlu"] and "utter_退款" in exported["domain"]


async def test_untrained_versions_and_missing_history_are_refused(designer: AgentSession) -> None:
    status, body = await designer.post("/api/bot/rollback")
    assert status == 409 and body["error"] == "nothing_to_roll_back"
    starter = (await designer.get("/api/bot/versions"))[1]["versions"][0]
    status, created = await designer.post("/api/bot/versions", {
        "format": "kefu", "content": {"format": "kefu-bot", "version": 1}, "train": False})
    assert status == 201 and created["version"]["status"] == "new"
    status, body = await designer.post(f"/api/bot/versions/{created['version']['id']}/activate")
    assert status == 409 and body["error"] == "version_not_ready"
    # content with fewer than two intents cannot be trained: the version says why
    await designer.post(f"/api/bot/versions/{created['version']['id']}/train")
    failed = await trained(designer, created["version"]["id"])
    assert failed["status"] == "failed" and "at least two intents" in failed["error"]
    status, body = await designer.get("/api/bot/versions/999")
    assert status == 404
    assert (await designer.get("/api/bot/versions"))[1]["active_version_id"] == starter["id"]


async def test_bad_imports_are_refused_with_the_place_of_the_mistake(designer: AgentSession) -> None:
    misspelled = 'version: "3.1"\nnlu:\n- intent: greet\n  exmples: |\n    - hi\n'
    status, body = await designer.post("/api/bot/versions", {"format": "rasa", "nlu": misspelled})
    assert status == 422 and "nlu.yml, line 3" in body["message"]
    status, body = await designer.post("/api/bot/versions", {"format": "kefu", "content": {"format": "kefu-bot"}})
    assert status == 422 and "$" in body["message"]
    status, body = await designer.post("/api/bot/versions", {
        "format": "kefu", "content": {"format": "kefu-bot", "version": 1}, "engine": "rasa",
        "settings": {"rasa": {"url": "ftp://nowhere"}}})
    assert status == 422 and "Rasa URL" in body["message"]


async def test_rasa_rest_mode_answers_and_a_rasa_outage_hands_off(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer, rasa: FakeRasa
) -> None:
    status, created = await designer.post("/api/bot/versions", {
        "format": "kefu", "content": {"format": "kefu-bot", "version": 1}, "label": "Rasa dialogue",
        "engine": "rasa", "settings": {"rasa": {"url": rasa.url, "mode": "rest", "token": "s3cret", "timeout": 2}},
        "activate": True,
    })
    assert status == 201
    assert created["version"]["settings"]["rasa"]["token"] == "***"
    version = await trained(designer, created["version"]["id"])
    assert version["status"] == "ready" and version["metrics"]["rasa_version"] == "3.6.20" and version["active"]

    answer = await customer.ask("where is my order A1234567?")
    assert answer["text"] == "Order A1234567 is on its way.\n\nAnything else?"
    assert [b["title"] for b in answer["buttons"]] == ["Track parcel", "Talk to a person"]
    [call] = rasa.calls_to("/webhooks/rest/webhook")
    assert call.body["sender"] == f"kefu-conversation-{customer.conversation_id}"
    assert call.body["metadata"] == {"channel": "webchat"}

    rasa.fail(503, times=5)
    notice = await customer.ask("and my refund?")
    assert notice["text"].startswith("Let me connect you")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    conv = await conversation(bot_hub, customer.conversation_id)
    assert conv["status"] == "queued"
    assert conv["handoff_reason"].startswith("engine_failed: the bot's engine failed: Rasa: Rasa at")
    assert "s3cret" not in conv["handoff_reason"]


async def test_rasa_parse_mode_understands_and_kefu_answers(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer, rasa: FakeRasa
) -> None:
    content = {"format": "kefu-bot", "version": 1, "responses": [
        {"name": "utter_refund", "variations": [{"text": "Refunds reach your card within 5 working days."}]},
        {"name": "utter_order_status", "variations": [{"text": "Order {order_id} left our warehouse."}]},
    ]}
    status, created = await designer.post("/api/bot/versions", {
        "format": "kefu", "content": content, "engine": "rasa", "activate": True,
        "settings": {"rasa": {"url": rasa.url, "mode": "parse", "token": "s3cret"}, "intent_threshold": 0.5},
    })
    assert status == 201
    assert (await trained(designer, created["version"]["id"]))["status"] == "ready"

    status, tried = await designer.post(f"/api/bot/versions/{created['version']['id']}/test",
                                        {"text": "where is order B7654321"})
    assert tried["understanding"]["entities"] == [{"entity": "order_id", "value": "B7654321", "start": 15, "end": 23}]
    assert tried["decision"]["messages"][0]["text"] == "Order B7654321 left our warehouse."

    assert (await customer.ask("I'd like my money back"))["text"] == "Refunds reach your card within 5 working days."
    assert rasa.calls_to("/model/parse")[-1].body["text"] == "I'd like my money back"

    rasa.hang_up(times=3)
    notice = await customer.ask("refund status?")
    assert notice["text"].startswith("Let me connect you")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    assert (await conversation(bot_hub, customer.conversation_id))["handoff_reason"].startswith("engine_failed")


async def test_activation_from_another_process_takes_effect_at_the_next_message(
    bot_hub: TestClient, designer: AgentSession, customer: ChatCustomer, bot_settings: Any
) -> None:
    import os
    import sys

    status, created = await designer.post("/api/bot/versions", {
        "format": "rasa", "label": "English shop bot",
        "nlu": (RASA_FIXTURES / "en" / "nlu.yml").read_text(encoding="utf-8"),
        "domain": (RASA_FIXTURES / "en" / "domain.yml").read_text(encoding="utf-8"),
    })
    assert status == 201
    version_id = created["version"]["id"]
    assert (await trained(designer, version_id))["status"] == "ready"
    assert (await customer.ask("hello"))["text"].startswith("Hi! I'm Kefu's assistant")

    env = {**os.environ, "KEFU_DATA_DIR": str(bot_settings.data_dir),
           "KEFU_DATABASE_URL": bot_settings.effective_database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", "bot", "activate", str(version_id), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == f"bot version {version_id} is active (was 1)"

    status, content = await designer.get(f"/api/bot/versions/{version_id}/content")
    [greet] = [r for r in content["content"]["responses"] if r["name"] == "utter_greet"]
    assert (await customer.ask("hello"))["text"] in {v.get("text") for v in greet["variations"]}
