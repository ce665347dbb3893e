"""In Chromium: a customer who sends faster than the chat allows sees why, and their last message waits
in the widget (kept across a reload) instead of being lost."""
from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from hub.config import Settings

pytestmark = pytest.mark.browser


async def test_a_message_over_the_limit_waits_in_the_widget(
    aiohttp_client: Any, settings: Settings, browser: Any, database_url: str
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    from hub.app import create_app

    hub = await aiohttp_client(create_app(dataclasses.replace(settings, webchat_messages_per_minute=2)))
    base = str(hub.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1000, "height": 760})
    page = await context.new_page()
    await page.goto(f"{base}/demo")
    chat = page.locator("#kefu-widget")
    box = chat.locator("textarea")
    for text in ("第一条", "第二条"):
        await box.fill(text)
        await box.press("Enter")
        await chat.locator(".m.me:not(.pending)", has_text=text).wait_for()

    await box.fill("第三条")
    await box.press("Enter")
    await chat.locator(".err", has_text=re.compile("Too many messages|消息发送太快")).wait_for()
    waiting = chat.locator(".m.me.pending", has_text="第三条")
    await waiting.wait_for()

    await page.reload()  # the waiting message is kept, and still not stored twice or lost
    await chat.locator(".m.me:not(.pending)", has_text="第二条").wait_for()
    await chat.locator(".m.me.pending", has_text="第三条").wait_for()
    assert await chat.locator(".m.me:not(.pending)").count() == 2
    await context.close()
