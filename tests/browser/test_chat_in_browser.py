"""In a real browser: a customer chats on the demo page, an agent answers in the console."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.support import PASSWORD, add_agent

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


async def test_customer_and_agent_chat_in_chromium(hub: TestClient, browser: Any, database_url: str) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await add_agent(hub, "agent@example.com", name="Li Lei 李雷")
    base = str(hub.make_url("")).rstrip("/")

    customer_ctx = await browser.new_context(viewport={"width": 1000, "height": 760})
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    customer = await customer_ctx.new_page()
    agent = await agent_ctx.new_page()

    await customer.goto(f"{base}/demo")
    chat = customer.locator("#kefu-widget")
    box = chat.locator("textarea")
    await box.fill("你好，我想查询订单 #1042 的物流")
    await box.press("Enter")
    await chat.locator(".m.me:not(.pending)").first.wait_for()
    await chat.locator(".queue:not([hidden])").wait_for()  # routing tells the customer their place in line

    await agent.goto(f"{base}/console")
    await agent.fill("input[name=email]", "agent@example.com")
    await agent.fill("input[name=password]", PASSWORD)
    await agent.click("button[type=submit]")
    item = agent.locator("#conversation-list li", has_text="订单 #1042")
    await item.wait_for()
    await item.click()
    await agent.locator(".msg.in", has_text="订单 #1042").wait_for()
    await agent.click("[data-action=take]")
    await agent.locator("#conv-status", has_text="assigned").wait_for()
    await agent.fill("#reply-text", "您好，包裹已从上海发出，预计明天送达。")
    await agent.click("#send-reply")
    await agent.locator(".msg.out", has_text="预计明天送达").wait_for()

    await chat.locator(".m:not(.me)", has_text="预计明天送达").wait_for()
    assert await chat.locator(".queue").is_hidden(), "the place-in-line banner outlived the agent's answer"
    await box.fill("谢谢！")
    await box.press("Enter")
    await agent.locator(".msg.in", has_text="谢谢").wait_for()

    SHOTS.mkdir(parents=True, exist_ok=True)
    await agent.screenshot(path=str(SHOTS / "console-conversation.png"))

    await customer.reload()
    texts = chat.locator(".m")
    await chat.locator(".m", has_text="谢谢").wait_for()
    all_text = await texts.all_inner_texts()
    assert [t for t in all_text if "1042" in t or "明天" in t or "谢谢" in t] == [
        "你好，我想查询订单 #1042 的物流",
        "您好，包裹已从上海发出，预计明天送达。",
        "谢谢！",
    ]
    await customer.screenshot(path=str(SHOTS / "webchat-demo.png"))
    await agent.click("[data-action=resolve]")
    await agent.locator("#conv-status", has_text="resolved").wait_for()
    await customer_ctx.close()
    await agent_ctx.close()
