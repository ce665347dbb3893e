"""In a real browser: a visitor types into the chat widget, sees a help article suggested, and opens it."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.knowledge_base_api.conftest import Desk

pytestmark = pytest.mark.browser


async def test_widget_suggests_articles_while_the_visitor_types(
    hub: TestClient,
    designer: Desk,
    browser: Any,
    database_url: str,
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await designer.write("如何修改收货地址", "发货前，在**我的订单**里点击“修改地址”。")
    await designer.write("Return <b>labels</b>", "Print the return label from your order page.")
    base = str(hub.make_url("")).rstrip("/")

    context = await browser.new_context(viewport={"width": 1000, "height": 760}, locale="zh-CN")
    visitor = await context.new_page()
    await visitor.goto(f"{base}/demo")
    chat = visitor.locator("#kefu-widget")
    box = chat.locator("textarea")
    suggestions = chat.locator(".sugg")

    await box.type("我想改一下收货地址")
    link = suggestions.locator("a", has_text="如何修改收货地址")
    await link.wait_for()
    assert await suggestions.locator("b").inner_text() == "相关帮助文章"
    assert await link.get_attribute("target") == "_blank"

    await box.fill("")
    await box.type("return label")
    odd = suggestions.locator("a", has_text="Return <b>labels</b>")  # shown as text, never as markup
    await odd.wait_for()
    assert await suggestions.locator("a b").count() == 0

    async with context.expect_page() as opened:
        await odd.click()
    article = await opened.value
    await article.wait_for_load_state()
    assert article.url == f"{base}/help/articles/return-b-labels-b"
    assert "Print the return label" in await article.locator("article").inner_text()

    await box.press("Enter")  # sending the message puts the suggestions away
    await chat.locator(".m.me", has_text="return label").wait_for()
    assert await suggestions.is_hidden()
    await context.close()
