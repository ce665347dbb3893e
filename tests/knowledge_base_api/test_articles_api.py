"""A designer writes, publishes, edits and retires help articles; agents find them as they change."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.knowledge_base_api.conftest import Desk

REFUND_ZH = """## 申请步骤

1. 打开 **我的订单**，选择要退款的订单。
2. 点击“申请退款”，填写原因后提交。

退款会在审核通过后 3-5 个工作日内原路退回。"""

REFUND_EN = """## How to ask for a refund

Open **My orders**, pick the order and press *Request refund*. Once approved, the money goes back
to your original payment method within 3-5 working days."""


async def test_a_published_article_is_searchable_at_once_in_chinese_and_english(
    hub: TestClient, designer: Desk, desk: Any
) -> None:
    agent = await desk("wang.agent@example.com", Role.AGENT)
    zh = await designer.write("如何申请退款", REFUND_ZH, publish=False, tags=["退款", "售后"])
    assert zh["language"] == "zh" and zh["status"] == "draft" and zh["version"] == 1 and zh["slug"] == "如何申请退款"
    assert zh["url"] is None
    assert await agent.search("怎么申请退款") == []  # a draft is never searchable

    status, data = await designer.post(f"/api/kb/articles/{zh['id']}/publish")
    assert status == 200 and data["changed"] is True
    assert data["article"]["status"] == "published" and data["article"]["version"] == 2
    assert data["article"]["url"] == "/help/articles/%E5%A6%82%E4%BD%95%E7%94%B3%E8%AF%B7%E9%80%80%E6%AC%BE"

    hits = await agent.search("请问怎么申请退款？")
    assert [h["article_id"] for h in hits] == [zh["id"]]
    assert hits[0]["score"] > 0 and "<mark>退款</mark>" in hits[0]["snippet"]["html"]
    assert hits[0]["url"] == data["article"]["url"]

    en = await designer.write("Refunds", REFUND_EN, tags=["billing"])
    assert en["language"] == "en" and en["slug"] == "refunds"
    hits = await agent.search("how do I get my money refunded", language="en")
    assert [h["title"] for h in hits] == ["Refunds"]
    assert "<mark>" in hits[0]["title_html"] and hits[0]["snippet"]["highlights"]
    # Without a language filter a Chinese question finds the Chinese article first.
    assert (await agent.search("退款多久到账"))[0]["article_id"] == zh["id"]

    page = await hub.get(data["article"]["url"])
    assert page.status == 200 and "原路退回" in await page.text()


async def test_every_save_keeps_a_version_and_search_follows_the_newest(designer: Desk) -> None:
    article = await designer.write("Shipping times", "Parcels leave our warehouse within two days.")
    status, data = await designer.patch(
        f"/api/kb/articles/{article['id']}",
        {"body_markdown": "Parcels leave within one day by express courier.", "version": article["version"]},
    )
    assert status == 200 and data["changed"] is True and data["article"]["version"] == article["version"] + 1
    assert [h["title"] for h in await designer.search("express courier")] == ["Shipping times"]
    assert await designer.search("warehouse") == []  # the old text is gone from the index

    status, data = await designer.patch(f"/api/kb/articles/{article['id']}", {"tags": "shipping, 配送"})
    assert status == 200 and data["article"]["tags"] == ["shipping", "配送"] and data["article"]["version"] == 4
    # Saving what is already there keeps no new version.
    status, same = await designer.patch(f"/api/kb/articles/{article['id']}", {"title": "Shipping times"})
    assert status == 200 and same["changed"] is False and same["article"]["version"] == 4

    status, data = await designer.get(f"/api/kb/articles/{article['id']}/versions")
    assert status == 200
    assert [(v["version"], v["change"]) for v in data["versions"]] == [
        (4, "updated"),
        (3, "updated"),
        (2, "published"),
        (1, "created"),
    ]
    assert "body_markdown" not in data["versions"][0]
    status, data = await designer.get(f"/api/kb/articles/{article['id']}/versions/1")
    assert status == 200 and data["version"]["body_markdown"] == "Parcels leave our warehouse within two days."
    assert data["version"]["status"] == "draft"
    status, data = await designer.get(f"/api/kb/articles/{article['id']}/versions/9")
    assert status == 404 and data["error"] == "not_found"

    # Someone who edited version 2 cannot overwrite the newer save without seeing it.
    status, data = await designer.patch(f"/api/kb/articles/{article['id']}", {"title": "Delivery", "version": 2})
    assert status == 409 and data["error"] == "version_conflict"


async def test_unpublished_and_archived_articles_leave_search_and_the_help_center(
    hub: TestClient, designer: Desk
) -> None:
    article = await designer.write("Reset your password", "Use the reset link we email you.")
    path = f"/api/kb/articles/{article['id']}"
    assert len(await designer.search("password reset")) == 1

    status, data = await designer.post(f"{path}/unpublish")
    assert status == 200 and data["article"]["status"] == "draft"
    assert await designer.search("password reset") == []
    assert (await hub.get(article["url"])).status == 404

    status, data = await designer.post(f"{path}/publish")
    assert len(await designer.search("password reset")) == 1
    status, data = await designer.delete(path)
    assert status == 200 and data["article"]["archived"] is True and data["article"]["status"] == "draft"
    assert await designer.search("password reset") == []
    status, listing = await designer.get("/api/kb/articles")
    assert listing["total"] == 0
    status, listing = await designer.get("/api/kb/articles?status=archived")
    assert [a["id"] for a in listing["articles"]] == [article["id"]]
    status, data = await designer.patch(path, {"title": "Passwords"})
    assert status == 409 and data["error"] == "archived"
    status, data = await designer.post(f"{path}/publish")
    assert status == 409 and data["error"] == "archived"

    status, data = await designer.post(f"{path}/restore")
    assert status == 200 and data["article"]["archived"] is False and data["article"]["status"] == "draft"
    status, data = await designer.get(f"{path}/versions")
    assert [v["change"] for v in data["versions"]][:3] == ["restored", "archived", "published"]


async def test_designers_list_and_filter_articles(designer: Desk) -> None:
    await designer.write("Change your address", "Edit it in your account before dispatch.", tags=["account"])
    await designer.write("修改收货地址", "发货前可以在账户里修改地址。", tags=["account", "地址"], publish=False)
    await designer.write("Opening hours", "We answer chats from 9 to 21.", publish=False)

    async def titles(query: str) -> list[str]:
        status, data = await designer.get(f"/api/kb/articles?{query}")
        assert status == 200, data
        return sorted(a["title"] for a in data["articles"])

    assert await titles("status=draft") == ["Opening hours", "修改收货地址"]
    assert await titles("language=zh") == ["修改收货地址"]
    assert await titles("tag=account") == ["Change your address", "修改收货地址"]
    assert await titles("tag=地址") == ["修改收货地址"]
    assert await titles("q=ADDRESS") == ["Change your address"]
    assert await titles("q=100%25") == []  # LIKE wildcards are taken literally
    status, data = await designer.get("/api/kb/articles?limit=1&offset=1")
    assert data["total"] == 3 and len(data["articles"]) == 1 and "body_markdown" not in data["articles"][0]


async def test_bad_requests_get_json_errors(designer: Desk) -> None:
    cases: list[tuple[dict[str, Any], int, str, str | None]] = [
        ({"body_markdown": "no title"}, 400, "invalid_article", "title"),
        ({"title": "Hallo", "body_markdown": "Guten Tag", "language": "de"}, 400, "invalid_article", "language"),
        ({"title": "Empty", "status": "published"}, 400, "invalid_article", "body_markdown"),
        ({"title": "Bad slug", "slug": "../etc/passwd"}, 400, "invalid_article", "slug"),
        ({"title": "x" * 201}, 400, "invalid_article", "title"),
        ({"title": "Typo", "bodi": "oops"}, 400, "unknown_field", None),
        ({"title": "Tags", "tags": [1, 2]}, 400, "invalid_field", None),
        ({"title": "Status", "status": "live"}, 400, "invalid_field", None),
        ({"title": "???"}, 400, "invalid_article", "language"),
    ]
    for body, code, error, field in cases:
        status, data = await designer.post("/api/kb/articles", body)
        assert (status, data["error"], data.get("field")) == (code, error, field), (body, data)
        assert data["message"]

    first = await designer.write("FAQ", "Answers.", slug="faq")
    status, data = await designer.post("/api/kb/articles", {"title": "Other", "slug": "faq"})
    assert status == 409 and data["error"] == "slug_taken"
    status, data = await designer.post("/api/kb/articles", {"title": "FAQ"})
    assert status == 201 and data["article"]["slug"] == "faq-2"
    status, data = await designer.patch(f"/api/kb/articles/{first['id']}", {"status": "draft"})
    assert status == 400 and data["error"] == "unknown_field" and "publish" in data["message"]
    status, data = await designer.patch(f"/api/kb/articles/{first['id']}", {})
    assert status == 400 and data["error"] == "missing_field"
    status, data = await designer.patch(f"/api/kb/articles/{first['id']}", {"body_markdown": "   "})
    assert status == 400 and data["field"] == "body_markdown"  # a published article keeps a body
    status, data = await designer.patch(f"/api/kb/articles/{first['id']}", {"title": "T", "version": "2"})
    assert status == 400 and data["error"] == "invalid_field"

    resp = await designer.client.post(
        "/api/kb/articles", data="{nope", headers={**designer.headers, "Content-Type": "application/json"}
    )
    assert resp.status == 400 and (await resp.json())["error"] == "bad_json"
    for path, code, error in [
        ("/api/kb/articles/999999", 404, "not_found"),
        ("/api/kb/articles/abc", 404, "not_found"),
        ("/api/kb/articles?status=live", 400, "invalid_status"),
        ("/api/kb/articles?limit=0", 400, "invalid_limit"),
        ("/api/kb/search", 400, "missing_query"),
        ("/api/kb/search?q=x&language=fr", 400, "invalid_language"),
        ("/api/kb/search?q=x&limit=many", 400, "invalid_limit"),
    ]:
        status, data = await designer.get(path)
        assert (status, data["error"]) == (code, error), (path, data)
    status, data = await designer.post("/api/kb/articles/999999/publish")
    assert status == 404


async def test_agents_search_but_only_designers_and_admins_edit(hub: TestClient, designer: Desk, desk: Any) -> None:
    article = await designer.write("Two-factor authentication", "Scan the code with your authenticator app.")
    agent = await desk("zhao.agent@example.com", Role.AGENT)
    boss = await desk("qian.supervisor@example.com", Role.SUPERVISOR)
    admin = await desk("root@example.com", Role.ADMIN)

    for who in (agent, boss):
        assert [h["article_id"] for h in await who.search("authenticator")] == [article["id"]]
        assert (await who.get("/api/kb/status"))[0] == 200
        for method, path, body in [
            ("POST", "/api/kb/articles", {"title": "Mine", "body_markdown": "text"}),
            ("PATCH", f"/api/kb/articles/{article['id']}", {"title": "Hijacked"}),
            ("POST", f"/api/kb/articles/{article['id']}/unpublish", {}),
            ("DELETE", f"/api/kb/articles/{article['id']}", None),
            ("GET", "/api/kb/articles", None),
            ("GET", f"/api/kb/articles/{article['id']}/versions", None),
            ("GET", "/api/kb/export", None),
        ]:
            status, data = await who.call(method, path, body)
            assert (status, data["error"]) == (403, "forbidden"), (method, path)
        status, data = await who.upload("/api/kb/imports/csv", [("faq.csv", b"question,answer\nq,a\n", "text/csv")])
        assert status == 403
    status, data = await admin.post("/api/kb/articles", {"title": "Admin note", "body_markdown": "ok"})
    assert status == 201

    resp = await hub.get("/api/kb/search?q=authenticator")
    assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
    resp = await designer.client.post("/api/kb/articles", json={"title": "No token"})
    assert resp.status == 403 and (await resp.json())["error"] == "csrf_failed"
    status, data = await designer.get("/api/kb/articles")
    assert "Hijacked" not in {a["title"] for a in data["articles"]}


async def test_two_designers_saving_the_same_version_at_once_one_wins(designer: Desk, desk: Any) -> None:
    other = await desk("he.designer@example.com", Role.DESIGNER)
    article = await designer.write("Gift wrapping", "We wrap gifts for free.")
    path = f"/api/kb/articles/{article['id']}"
    results = await asyncio.gather(
        designer.patch(path, {"body_markdown": "We wrap gifts for 5 yuan.", "version": article["version"]}),
        other.patch(path, {"body_markdown": "Gift wrapping is free in December.", "version": article["version"]}),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(data for status, data in results if status == 200)["article"]
    status, data = await designer.get(f"{path}/versions")
    assert [v["version"] for v in data["versions"]] == [winner["version"], 2, 1]
    hits = await designer.search("gift wrapping")
    assert len(hits) == 1 and winner["body_markdown"].split()[-1].rstrip(".") in hits[0]["snippet"]["text"]
