"""In Chromium at tablet size (820x1180): the keyboard drives the console (Alt+A accept, / focus,
Ctrl+Enter send, Alt+N note, Alt+T transfer, Alt+R resolve), nothing overflows sideways, the customer
card opens as a drawer; a snoozed conversation leaves the inbox and comes back on its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.domain import Presence
from hub.routing.service import ROUTING_SERVICE
from tests.browser.test_console_story import SHOTS, arrive, log_in, team

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}


async def no_sideways_scroll(page: Any) -> None:
    overflow = await page.evaluate(
        """() => {
          const doc = document.documentElement;
          const wide = [...document.querySelectorAll('body *')].filter((n) => {
            const r = n.getBoundingClientRect();
            const style = getComputedStyle(n);
            return r.width > 0 && style.position !== 'fixed' && r.right > doc.clientWidth + 1;
          }).map((n) => n.id || n.className || n.tagName);
          return { scroll: doc.scrollWidth - doc.clientWidth, wide: wide.slice(0, 5) };
        }"""
    )
    assert overflow == {"scroll": 0, "wide": []}, overflow


async def test_keyboard_and_tablet_layout(hub: TestClient, browser: Any, database_url: str) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    _, queue_id, ana_id, ben_id = await team(hub)
    base = str(hub.make_url("")).rstrip("/")
    ctx = await browser.new_context(viewport=TABLET)
    ana = await ctx.new_page()
    await log_in(ana, base, "ana@example.com")
    routing = hub.app[ROUTING_SERVICE]
    await routing.set_presence(ben_id, Presence.OFFLINE, "test")
    await routing.set_presence(ana_id, Presence.AVAILABLE, "test")
    await no_sideways_scroll(ana)

    conversation_id = await arrive(hub, "平板上能处理吗？我的订单 #77 还没发货", "t1", queue_id)
    await ana.locator(f"[data-offer='{conversation_id}']").wait_for()
    await ana.keyboard.press("Alt+a")
    await ana.locator("#conv-status", has_text="assigned").wait_for()
    await ana.locator(".msg.in", has_text="订单 #77").wait_for()

    await ana.locator("body").click(position={"x": 600, "y": 700})  # focus away from any field
    await ana.keyboard.press("/")
    assert await ana.evaluate("document.activeElement.id") == "reply-text"
    await ana.keyboard.type("马上为您催单。")
    await ana.keyboard.press("Control+Enter")
    await ana.locator(".msg.out", has_text="马上为您催单").wait_for()
    # The live frame can show the reply before the send's answer clears the composer: wait for that.
    await ana.wait_for_function("document.querySelector('#reply-text').value === ''")

    await ana.keyboard.press("Alt+n")
    await ana.locator(".composer.note-mode").wait_for()
    assert await ana.evaluate("document.activeElement.id") == "reply-text"
    await ana.keyboard.type("仓库说明天发")
    await ana.keyboard.press("Control+Enter")
    await ana.locator(".msg.note", has_text="仓库说明天发").wait_for()
    await ana.keyboard.press("Alt+n")
    await ana.locator(".composer:not(.note-mode)").wait_for()

    await ana.keyboard.press("Alt+t")
    dialog = ana.locator("#transfer-dialog")
    await dialog.locator("#transfer-agent").wait_for()
    assert await dialog.evaluate("d => d.open") is True
    await ana.keyboard.press("Escape")
    assert await dialog.evaluate("d => d.open") is False

    # Tablet: the conversation is usable and the customer card opens as a drawer and closes.
    await no_sideways_scroll(ana)
    assert not await ana.locator("#customer").is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await ana.screenshot(path=str(SHOTS / "console-tablet.png"))
    await ana.click("#customer-toggle")
    await ana.locator("#customer-form").wait_for()
    await ana.fill("#customer-form input[name=company]", "上海某某贸易")
    await ana.click("#customer-form button[type=submit]")
    await ana.locator("#customer-form input[name=company][value='上海某某贸易']").wait_for()
    await ana.screenshot(path=str(SHOTS / "console-tablet-customer.png"))
    await ana.click("#customer-close")
    assert not await ana.locator("#customer").is_visible()
    await no_sideways_scroll(ana)

    # Snoozed for two seconds: out of the inbox, then back with a notice, without a reload.
    item = ana.locator(f"#conversation-list li[data-conversation='{conversation_id}']")
    await item.wait_for()
    until = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    status = await ana.evaluate(
        """async ([id, until]) => {
          const me = await (await fetch('/api/me')).json();
          const res = await fetch(`/api/conversations/${id}/meta`, { method: 'PATCH',
            headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
            body: JSON.stringify({ snoozed_until: until }) });
          return res.status;
        }""",
        [conversation_id, until],
    )
    assert status == 200
    await item.wait_for(state="detached")
    await ana.locator(".toast", has_text="is back from snooze").wait_for(timeout=10_000)
    await item.wait_for()

    await ana.keyboard.press("Alt+r")
    await ana.locator("#conv-status", has_text="resolved").wait_for()
    await ctx.close()
