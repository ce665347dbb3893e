"""Every trained version keeps its evaluation; the designer reads it with the content's lint."""
from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.keys import DATABASE
from hub.storage.schema import metadata
from tests.bots_designer.conftest import put, trained
from tests.support import AgentSession


async def test_the_starter_bot_is_evaluated_per_intent(designer: AgentSession) -> None:
    starter_id = (await designer.get("/api/bot/versions"))[1]["active_version_id"]
    status, body = await designer.get(f"/api/bot/versions/{starter_id}/evaluation")
    assert status == 200
    evaluation = body["evaluation"]
    assert body["version"]["id"] == starter_id and body["version"]["evaluated"] is True
    assert evaluation["folds"] == 5 and evaluation["examples"] == 230 and evaluation["mode"] == "fast"
    assert 0.5 < evaluation["accuracy"] <= 1 and 0.5 < evaluation["macro_f1"] <= 1
    assert len(evaluation["per_intent"]) == 14
    assert sum(s["support"] for s in evaluation["per_intent"].values()) == 230
    for confusion in evaluation["confused"]:
        assert confusion["intent"] != confusion["predicted"] and 1 <= len(confusion["examples"]) <= 3
        assert confusion["count"] >= len(confusion["examples"])
    assert body["lint"]["conflicting_examples"] == [] and body["lint"]["min_examples"] == 5


async def test_a_draft_with_conflicts_and_a_thin_intent_is_evaluated_and_linted(designer: AgentSession) -> None:
    draft = (await designer.get("/api/bot/draft"))[1]["draft"]
    refund = next(i for i in draft["content"]["intents"] if i["name"] == "refund_policy")
    order = next(i for i in draft["content"]["intents"] if i["name"] == "order_status")
    clash = order["examples"][0]["text"]
    status, _ = await put(designer, "/api/bot/draft/intents/refund_policy", {
        "revision": 1, "examples": [*refund["examples"], {"text": clash.upper() + "?"}]})
    assert status == 200
    status, _ = await put(designer, "/api/bot/draft/intents/warranty", {
        "revision": 2, "examples": [{"text": "does the blender come with a guarantee"}, {"text": "搅拌机有质保卡吗"}]})
    assert status == 200
    status, lint = await designer.get("/api/bot/draft/lint")
    assert lint["revision"] == 3
    assert [c["intents"] for c in lint["lint"]["conflicting_examples"]] == [["order_status", "refund_policy"]]
    assert {"intent": "warranty", "examples": 2, "minimum": 5} in lint["lint"]["too_few_examples"]
    assert {"intent": "warranty", "response": "utter_warranty"} in lint["lint"]["missing_responses"]

    status, created = await designer.post("/api/bot/draft/versions", {"label": "conflicted"})
    version = await trained(designer, created["version"]["id"])
    assert version["status"] == "ready", version["error"]
    status, body = await designer.get(f"/api/bot/versions/{version['id']}/evaluation")
    assert status == 200
    assert body["evaluation"]["per_intent"]["warranty"]["support"] == 2
    assert body["lint"]["conflicting_examples"][0]["intents"] == ["order_status", "refund_policy"]
    assert body["lint"] == lint["lint"]  # the version's lint is the draft's it was made from

    status, listing = await designer.get("/api/bot/draft/intents")
    assert listing["evaluation_version_id"] == version["id"]
    by_name = {i["name"]: i for i in listing["intents"]}
    scores = body["evaluation"]["per_intent"]
    for name in ("greet", "warranty", "refund_policy"):
        assert by_name[name]["precision"] == scores[name]["precision"]
        assert by_name[name]["recall"] == scores[name]["recall"]
    assert by_name["warranty"]["example_count"] == 2 and by_name["refund_policy"]["example_count"] == 19


async def test_versions_without_an_evaluation_and_unknown_versions(designer: AgentSession) -> None:
    status, created = await designer.post("/api/bot/draft/versions", {"train": False})
    assert status == 201
    status, body = await designer.get(f"/api/bot/versions/{created['version']['id']}/evaluation")
    assert status == 200 and body["evaluation"] is None and body["lint"]["missing_responses"] == []
    assert body["version"]["evaluated"] is False
    for path in ("/api/bot/versions/999/evaluation", "/api/bot/versions/x/evaluation"):
        status, body = await designer.get(path)
        assert status == 404 and body["error"] == "not_found"


async def test_migrations_create_the_bot_tables_as_declared(bot_hub: TestClient) -> None:
    def ours(name: str | None, type_: str, *_: Any) -> bool:
        return type_ != "table" or (name or "").startswith("bot_")

    def differences(conn: Any) -> list[Any]:
        opts = {"compare_type": True, "include_name": ours,
                "include_object": lambda obj, name, type_, *_: ours(name, type_)}
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))

    async with bot_hub.app[DATABASE].engine.connect() as conn:
        assert await conn.run_sync(differences) == []
