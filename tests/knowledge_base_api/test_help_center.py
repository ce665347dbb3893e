"""Customers read and search the public help center in Chinese and English, without logging in."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from aiohttp.test_utils import TestClient

from hub.config import Settings
from tests.knowledge_base_api.conftest import Desk

EVIL = '<script>alert("x")</script>'


async def page(hub: TestClient, path: str, **headers: str) -> tuple[int, str]:
    resp = await hub.get(path, headers=headers, allow_redirects=False)
    assert resp.content_type == "text/html", path
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # no script may run at all
    return resp.status, await resp.text()


async def test_help_center_lists_shows_and_searches_published_articles(hub: TestClient, designer: Desk) -> None:
    await designer.write("如何申请退款", "在**我的订单**中点击“申请退款”，款项原路退回。", tags=["售后"])
    await designer.write(
        "Refunds", "Press *Request refund* on the order; the money goes back in 5 days.", tags=["billing"]
    )
    await designer.write("内部草稿：退款政策调整", "还没有发布的退款内容", publish=False)

    status, html = await page(hub, "/help?lang=zh")
    assert status == 200 and '<html lang="zh-CN">' in html and "帮助中心" in html
    assert "如何申请退款" in html and "Refunds" not in html and "内部草稿" not in html
    status, html = await page(hub, "/help", **{"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert "Help Center" in html and "Refunds" in html and "如何申请退款" not in html
    status, html = await page(hub, "/help?tag=售后", **{"Accept-Language": "zh-CN"})
    assert "标签：售后" in html and "如何申请退款" in html

    status, html = await page(hub, "/help/search?q=怎么退款&lang=zh")
    assert status == 200 and ">如何申请<mark>退款</mark></a>" in html and "原路退回" in html
    assert "内部草稿" not in html  # drafts never reach the help center
    status, html = await page(hub, "/help/search?q=refund&lang=zh")
    assert html.index("其他语言的结果") < html.index("<mark>Refunds</mark></a>")
    status, html = await page(hub, "/help/search?q=nothing+matches+this&lang=en")
    assert "No articles found" in html
    resp = await hub.get("/help/search?q=&lang=zh", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/help?lang=zh"

    link = re.search(r'href="(/help/articles/[^"]+)">如何申请退款', (await page(hub, "/help?lang=zh"))[1])
    assert link is not None
    status, html = await page(hub, link.group(1))
    assert status == 200 and "<strong>我的订单</strong>" in html and "<title>如何申请退款 · 帮助中心</title>" in html


async def test_help_center_escapes_whatever_designers_write(hub: TestClient, designer: Desk) -> None:
    article = await designer.write(
        f"Refund {EVIL} policy",
        f"Text {EVIL} and <img src=x onerror=alert(1)>.\n\n[click](javascript:alert(1)) [home](https://example.com)",
        tags=['"><b>tag</b>'],
    )
    for path in (
        article["url"],
        "/help?lang=en",
        "/help/search?q=refund+policy&lang=en",
        f"/help/search?q={EVIL}+refund&lang=en",
    ):
        status, html = await page(hub, path)
        assert status == 200, path
        assert "<script>" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;" in html, path
        assert "<b>tag</b>" not in html, path
    status, html = await page(hub, article["url"])
    assert 'href="javascript:' not in html and '<a href="https://example.com">home</a>' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


async def test_missing_drafts_and_renamed_articles(hub: TestClient, designer: Desk) -> None:
    draft = await designer.write("Secret launch", "Not yet.", publish=False, slug="secret-launch")
    status, html = await page(hub, "/help/articles/secret-launch", **{"Accept-Language": "zh-CN"})
    assert status == 404 and "找不到这篇文章" in html and "Not yet" not in html
    status, html = await page(hub, "/help/articles/no-such-article?lang=en")
    assert status == 404 and "Article not found" in html

    article = await designer.write("Delivery areas", "We deliver everywhere.", slug="delivery")
    await designer.patch(f"/api/kb/articles/{article['id']}", {"slug": "delivery-areas"})
    resp = await hub.get("/help/articles/delivery", allow_redirects=False)
    assert resp.status == 301 and resp.headers["Location"] == "/help/articles/delivery-areas"
    assert draft["id"] != article["id"]


async def test_widget_suggestion_endpoint(
    hub: TestClient, designer: Desk, aiohttp_client: Any, settings: Settings
) -> None:
    article = await designer.write("Track your parcel", "Use the tracking number from your shipping email.")
    await designer.write("查询物流", "在订单详情里可以查看快递单号和物流进度。")
    await designer.write("Unreleased", "tracking number secrets", publish=False)

    resp = await hub.get(
        "/webchat/kb/suggest", params={"q": "where is my parcel tracking"}, headers={"Origin": "https://shop.example"}
    )
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "*"
    found = (await resp.json())["articles"]
    assert [a["url"] for a in found] == [article["url"]] and found[0]["title"] == "Track your parcel"
    resp = await hub.get("/webchat/kb/suggest", params={"q": "快递到哪了", "lang": "zh"})
    assert [a["title"] for a in (await resp.json())["articles"]] == ["查询物流"]
    for query, error in [({"q": "  "}, "missing_query"), ({"q": "parcel", "lang": "fr"}, "invalid_lang")]:
        resp = await hub.get("/webchat/kb/suggest", params=query)
        assert resp.status == 400 and (await resp.json())["error"] == error

    # A hub that lets only its own shop embed the chat answers only that shop.
    from hub.app import create_app

    strict = await aiohttp_client(
        create_app(dataclasses.replace(settings, webchat_allowed_origins=("https://shop.example",)))
    )
    resp = await strict.get("/webchat/kb/suggest", params={"q": "parcel"}, headers={"Origin": "https://evil.example"})
    assert resp.status == 403 and (await resp.json())["error"] == "origin_not_allowed"
    resp = await strict.get("/webchat/kb/suggest", params={"q": "parcel"}, headers={"Origin": "https://shop.example"})
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert [a["title"] for a in (await resp.json())["articles"]] == ["Track your parcel"]
