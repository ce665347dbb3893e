"""The designer's working draft: made from the active version, saved under revisions, edited, imported, exported."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from bots.content import content_to_json
from bots.starter import load_starter
from hub.domain import Role
from tests.bots_designer.conftest import delete, put, trained
from tests.support import AgentSession, add_agent

RASA_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rasa"


async def test_the_first_draft_is_the_active_version_and_saves_are_guarded_by_revision(
    designer: AgentSession,
) -> None:
    status, listing = await designer.get("/api/bot/versions")
    starter_id = listing["active_version_id"]
    status, body = await designer.get("/api/bot/draft")
    assert status == 200
    draft = body["draft"]
    assert draft["base_version_id"] == starter_id and draft["revision"] == 1 and draft["updated_by"] == "system"
    assert draft["content"] == content_to_json(load_starter())

    content = copy.deepcopy(draft["content"])
    content["intents"][0]["examples"].append({"text": "good evening there"})
    status, body = await put(designer, "/api/bot/draft", {"content": content, "revision": 1})
    assert status == 200, body
    assert body["draft"]["revision"] == 2 and body["draft"]["updated_by"] == f"agent:{designer.agent_id}"
    assert body["draft"]["content"]["intents"][0]["examples"][-1] == {"text": "good evening there"}

    # a second tab still on revision 1 must not overwrite the edit
    status, body = await put(designer, "/api/bot/draft", {"content": draft["content"], "revision": 1})
    assert status == 409 and body["error"] == "stale_revision" and "now 2" in body["message"]
    assert (await designer.get("/api/bot/draft"))[1]["draft"]["content"] == content


async def test_bad_drafts_are_refused_naming_the_place(designer: AgentSession) -> None:
    content = (await designer.get("/api/bot/draft"))[1]["draft"]["content"]
    broken = copy.deepcopy(content)
    broken["intents"][2]["examples"][1] = {"text": "  "}
    status, body = await put(designer, "/api/bot/draft", {"content": broken, "revision": 1})
    assert status == 422 and body["error"] == "invalid_content"
    assert body["message"].startswith("$.intents[2].examples[1]")
    span = copy.deepcopy(content)
    span["intents"][0]["examples"][0] = {"text": "hi", "entities": [{"start": 0, "end": 9, "entity": "x"}]}
    status, body = await put(designer, "/api/bot/draft", {"content": span, "revision": 1})
    assert status == 422 and "$.intents[0].examples[0]" in body["message"] and "outside" in body["message"]
    status, body = await put(designer, "/api/bot/draft", {"content": content})
    assert status == 400 and body["error"] == "missing_field"
    status, body = await put(designer, "/api/bot/draft", {"content": content, "revision": "1"})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await put(designer, "/api/bot/draft", {"revision": 1})
    assert status == 400 and body["error"] == "missing_field"
    resp = await designer.client.put("/api/bot/draft", data="{nope", headers={
        "X-CSRF-Token": designer.csrf, "Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json())["error"] == "bad_json"
    assert (await designer.get("/api/bot/draft"))[1]["draft"]["revision"] == 1


async def test_only_designers_and_admins_reach_the_draft(bot_hub: TestClient, login_as: Any) -> None:
    await add_agent(bot_hub, "agent@example.com", Role.AGENT)
    await add_agent(bot_hub, "boss@example.com", Role.ADMIN)
    agent = await login_as("agent@example.com")
    for path in ("/api/bot/draft", "/api/bot/draft/intents", "/api/bot/review", "/api/bot/versions/1/evaluation"):
        status, body = await agent.get(path)
        assert status == 403 and body["error"] == "forbidden", path
    status, body = await put(agent, "/api/bot/draft", {"content": {}, "revision": 1})
    assert status == 403
    admin = await login_as("boss@example.com")
    assert (await admin.get("/api/bot/draft"))[0] == 200


async def test_one_intent_at_a_time(designer: AgentSession) -> None:
    status, body = await put(designer, "/api/bot/draft/intents/opening_hours", {
        "revision": 1, "examples": [{"text": "几点开门"}, {"text": "when do you open"}]})
    assert status == 200, body
    assert body["draft"]["revision"] == 2 and "content" not in body["draft"]
    assert body["intent"] == {"name": "opening_hours", "examples": [{"text": "几点开门"}, {"text": "when do you open"}]}

    # a new intent, with an entity span; then renamed
    status, body = await put(designer, "/api/bot/draft/intents/warranty", {
        "revision": 2, "examples": [{"text": "is the X100 under warranty",
                                      "entities": [{"start": 7, "end": 11, "entity": "product"}]}]})
    assert status == 200, body
    status, body = await put(designer, "/api/bot/draft/intents/warranty", {
        "revision": 3, "name": "warranty_check", "examples": [{"text": "保修多久"}]})
    assert status == 200
    status, listing = await designer.get("/api/bot/draft/intents")
    names = [i["name"] for i in listing["intents"]]
    assert "warranty_check" in names and "warranty" not in names and listing["revision"] == 4
    by_name = {i["name"]: i for i in listing["intents"]}
    assert by_name["opening_hours"]["example_count"] == 2 and by_name["greet"]["responses"] == ["utter_greet"]
    assert by_name["warranty_check"]["responses"] == [] and by_name["warranty_check"]["precision"] is None

    status, body = await put(designer, "/api/bot/draft/intents/warranty_check", {
        "revision": 4, "name": "greet", "examples": []})
    assert status == 422 and "already exists" in body["message"]
    status, body = await put(designer, "/api/bot/draft/intents/greet", {
        "revision": 4, "examples": [{"text": "hello", "entities": [{"start": 3, "end": 1, "entity": "x"}]}]})
    assert status == 422 and body["message"].startswith("$.examples[0]")
    status, body = await put(designer, "/api/bot/draft/intents/greet", {"revision": 4, "examples": "hello"})
    assert status == 422 and "$.examples" in body["message"]
    status, body = await put(designer, "/api/bot/draft/intents/greet", {"revision": 3, "examples": []})
    assert status == 409 and body["error"] == "stale_revision"

    status, body = await delete(designer, "/api/bot/draft/intents/warranty_check?revision=4")
    assert status == 200 and body["draft"]["revision"] == 5
    status, body = await delete(designer, "/api/bot/draft/intents/warranty_check?revision=5")
    assert status == 404 and body["error"] == "not_found"
    status, body = await delete(designer, "/api/bot/draft/intents/greet")
    assert status == 400 and body["error"] == "missing_field"
    status, body = await delete(designer, "/api/bot/draft/intents/greet?revision=abc")
    assert status == 400 and body["error"] == "invalid_field"


async def test_one_response_at_a_time(designer: AgentSession) -> None:
    variations = [
        {"text": "我们每天 9:00–21:00 营业。", "conditions": [{"type": "slot", "name": "language", "value": "zh"}]},
        {"text": "We are open 9:00-21:00.", "buttons": [{"title": "Talk to a person", "payload": "/ask_human"}]},
        {"text": "Open 9-21.", "channel": "sms"},
    ]
    status, body = await put(designer, "/api/bot/draft/responses/utter_opening_hours",
                             {"revision": 1, "variations": variations})
    assert status == 200, body
    content = (await designer.get("/api/bot/draft"))[1]["draft"]["content"]
    [response] = [r for r in content["responses"] if r["name"] == "utter_opening_hours"]
    assert response["variations"] == variations
    status, body = await put(designer, "/api/bot/draft/responses/utter_x", {"revision": 2, "variations": []})
    assert status == 422 and "no variations" in body["message"]
    status, body = await put(designer, "/api/bot/draft/responses/utter_x",
                             {"revision": 2, "variations": [{"buttons": [{"title": "a"}]}]})
    assert status == 422 and "$.variations[0]" in body["message"]
    status, body = await delete(designer, "/api/bot/draft/responses/utter_opening_hours?revision=2")
    assert status == 200
    status, lint = await designer.get("/api/bot/draft/lint")
    assert {"intent": "opening_hours", "response": "utter_opening_hours"} in lint["lint"]["missing_responses"]
    status, body = await delete(designer, "/api/bot/draft/responses/utter_opening_hours?revision=3")
    assert status == 404


async def test_import_export_and_reset(designer: AgentSession) -> None:
    starter_id = (await designer.get("/api/bot/versions"))[1]["active_version_id"]
    status, body = await designer.post("/api/bot/draft/import", {
        "format": "rasa",
        "nlu": (RASA_FIXTURES / "zh" / "nlu.yml").read_text(encoding="utf-8"),
        "domain": (RASA_FIXTURES / "zh" / "domain.yml").read_text(encoding="utf-8"),
    })
    assert status == 200, body
    assert "退款" in [i["name"] for i in body["draft"]["content"]["intents"]] and body["draft"]["revision"] == 2

    status, exported = await designer.get("/api/bot/draft/export?format=rasa")
    assert status == 200 and "intent: 退款" in exported["nlu"] and "utter_退款" in exported["domain"]
    assert exported["article_links"] == [] and exported["revision"] == 2
    status, kefu = await designer.get("/api/bot/draft/export?format=kefu")
    assert status == 200 and kefu["content"]["format"] == "kefu-bot"
    # what was exported imports back unchanged (Kefu's format) and through Rasa's files
    status, body = await designer.post("/api/bot/draft/import", {"format": "kefu", "content": kefu["content"],
                                                                  "revision": 2})
    assert status == 200 and body["draft"]["content"] == kefu["content"]
    status, body = await designer.post("/api/bot/draft/import", {"format": "kefu", "content": kefu["content"],
                                                                  "revision": 2})
    assert status == 409 and body["error"] == "stale_revision"

    status, body = await designer.get("/api/bot/draft/export?format=csv")
    assert status == 400 and body["error"] == "invalid_field"
    misspelled = "nlu:\n- intent: a\n  exmples: x\n"
    status, body = await designer.post("/api/bot/draft/import", {"format": "rasa", "nlu": misspelled})
    assert status == 422 and "nlu.yml" in body["message"]
    status, body = await designer.post("/api/bot/draft/import", {"format": "yaml"})
    assert status == 400

    status, body = await designer.post("/api/bot/draft/reset", {"version_id": starter_id})
    assert status == 200 and body["draft"]["content"] == content_to_json(load_starter())
    assert body["draft"]["base_version_id"] == starter_id and body["draft"]["revision"] == 4
    status, body = await designer.post("/api/bot/draft/reset", {"version_id": 999})
    assert status == 404
    status, body = await designer.post("/api/bot/draft/reset", {})
    assert status == 400 and body["error"] == "missing_field"
    status, body = await designer.post("/api/bot/draft/reset", {"version_id": "1"})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post("/api/bot/draft/reset", {"version_id": starter_id, "revision": 1})
    assert status == 409


async def test_a_version_from_the_draft_trains_with_progress_and_the_draft_moves_onto_it(
    designer: AgentSession,
) -> None:
    await put(designer, "/api/bot/draft/intents/warranty", {"revision": 1, "examples": [
        {"text": t} for t in ("is it under warranty", "how long is the warranty", "保修多久", "还在保修期吗",
                              "warranty period", "保修期是多久")]})
    await put(designer, "/api/bot/draft/responses/utter_warranty", {"revision": 2, "variations": [
        {"text": "All products have a 2-year warranty."}]})
    status, body = await designer.post("/api/bot/draft/versions", {"label": "with warranty", "revision": 3})
    assert status == 202, body
    version_id = body["version"]["id"]
    assert body["version"]["source"] == "designer" and body["draft_revision"] == 3
    version = await trained(designer, version_id)
    assert version["status"] == "ready", version["error"]
    assert version["evaluated"] is True and version["progress_note"].startswith("trained; held-out accuracy")
    draft = (await designer.get("/api/bot/draft"))[1]["draft"]
    assert draft["base_version_id"] == version_id and draft["revision"] == 3
    status, tried = await designer.post(f"/api/bot/versions/{version_id}/test", {"text": "保修期多久"})
    assert tried["understanding"]["intent"] == "warranty"

    status, body = await designer.post("/api/bot/draft/versions", {"revision": 2})
    assert status == 409 and body["error"] == "stale_revision"
    status, body = await designer.post("/api/bot/draft/versions", {"train": "yes"})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post("/api/bot/draft/versions", {"settings": {"unsure_limit": "many"}})
    assert status == 400 and body["error"] == "invalid_settings"
    status, body = await designer.post("/api/bot/draft/versions", {"settings": ["fast"]})
    assert status == 400 and body["error"] == "invalid_field"
    status, body = await designer.post("/api/bot/draft/versions", {"label": "x" * 201})
    assert status == 400 and body["error"] == "too_long"
    status, body = await designer.post("/api/bot/draft/versions", {"train": False, "label": "kept for later"})
    assert status == 201 and body["version"]["status"] == "new"


async def test_two_designers_saving_at_once_merge_and_only_the_same_item_conflicts(
    designer: AgentSession, bot_hub: TestClient, login_as: Any
) -> None:
    await add_agent(bot_hub, "ming@example.com", Role.DESIGNER)
    ming = await login_as("ming@example.com")
    loaded = (await designer.get("/api/bot/draft"))[1]["draft"]
    base = loaded["content"]
    first, second = base["intents"][0]["name"], base["intents"][1]["name"]

    theirs = copy.deepcopy(base)
    theirs["intents"][1]["examples"].append({"text": "好的，再见"})
    status, body = await put(ming, "/api/bot/draft", {"content": theirs, "revision": 1, "base": base})
    assert status == 200 and body["merged"] is False and body["draft"]["revision"] == 2

    # Dana is still on revision 1: her edit to another intent is merged with Ming's, not refused.
    mine = copy.deepcopy(base)
    mine["intents"][0]["examples"].append({"text": "good evening there"})
    status, body = await put(designer, "/api/bot/draft", {"content": mine, "revision": 1, "base": base})
    assert status == 200, body
    assert body["merged"] is True and body["draft"]["revision"] == 3
    saved = {i["name"]: i for i in body["draft"]["content"]["intents"]}
    assert {"text": "good evening there"} in saved[first]["examples"]
    assert {"text": "好的，再见"} in saved[second]["examples"]

    # Both change the same intent: the later save is refused with the item named, and nothing is written.
    base = body["draft"]["content"]
    ming_edit, dana_edit = copy.deepcopy(base), copy.deepcopy(base)
    ming_edit["intents"][0]["examples"].append({"text": "evening!"})
    dana_edit["intents"][0]["examples"].pop(0)
    assert (await put(ming, "/api/bot/draft", {"content": ming_edit, "revision": 3, "base": base}))[0] == 200
    status, body = await put(designer, "/api/bot/draft", {"content": dana_edit, "revision": 3, "base": base})
    assert status == 409 and body["error"] == "merge_conflict"
    assert body["conflicts"] == [{"kind": "intent", "name": first, "mine": "changed", "theirs": "changed"}]
    assert f"intent '{first}'" in body["message"]
    assert (await designer.get("/api/bot/draft"))[1]["draft"]["content"] == ming_edit

    status, body = await put(designer, "/api/bot/draft", {"content": dana_edit, "revision": 4, "base": "nope"})
    assert status == 400 and body["error"] == "invalid_field"
