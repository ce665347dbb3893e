"""In Chromium: after the bot hands a web chat over, the agent sees the hand-off card at the top of the
conversation: why, the intent, what the customer asked and the bot's last answer."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.bots_service.conftest import (  # noqa: F401 (fixtures)
    ChatCustomer,
    bot_hub,
    bot_settings,
    customer,
    model_cache,
    settled,
)
from tests.browser.test_console_story import SHOTS, log_in
from tests.support import add_agent

pytestmark = pytest.mark.browser


async def test_the_handoff_card_in_the_console(
    bot_hub: TestClient,  # noqa: F811
    customer: ChatCustomer,  # noqa: F811
    browser: Any,
    database_url: str,
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    answer = await customer.ask("你们几点营业？")
    assert "9:00-21:00" in answer["text"]
    await customer.ask("转人工")
    assert customer.conversation_id is not None
    await settled(bot_hub, customer.conversation_id)
    await add_agent(bot_hub, "mei@example.com", name="Mei")
    base = str(bot_hub.make_url("")).rstrip("/")
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()
    await log_in(page, base, "mei@example.com")
    await page.locator(f"#conversation-list li[data-conversation='{customer.conversation_id}']").click()
    card = page.locator("#handoff")
    await card.wait_for()
    assert await card.locator("[data-handoff=asked]").inner_text() == "Customer asked 转人工"
    assert "9:00-21:00" in await card.locator("[data-handoff=answer]").inner_text()
    assert "asked for a person" in await card.locator("strong").inner_text()
    await page.screenshot(path=str(SHOTS / "console-handoff.png"))
    await ctx.close()
