"""In Chromium: an offer rings, the agent accepts, replies, notes, transfers; the colleague resolves.
A supervisor's wallboard counts the conversation while it waits and after it is answered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from channels.base import InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS, BUS
from hub.routing.service import ROUTING_SERVICE
from tests.support import PASSWORD, AgentSession, add_agent, login

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


async def settle(hub: TestClient) -> None:
    for _ in range(3):
        await hub.app[ROUTING_SERVICE].run_once()
        await hub.app[BUS].drain()


async def arrive(hub: TestClient, text: str, external_id: str, queue_id: int) -> int:
    result = await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel="sms", external_id=external_id, sender="+8613800138000", text=text)
    )
    conversation_id = int(result.conversation_id)
    from hub.routing.store import conversations

    def tx(conn: Any) -> None:
        conn.execute(update(conversations).where(conversations.c.id == conversation_id).values(queue_id=queue_id))

    await hub.app[ACTIONS].db.run_write(tx)
    await settle(hub)
    return conversation_id


async def team(hub: TestClient) -> tuple[AgentSession, int, int, int]:
    """A supervisor (logged in), a Support queue, and Ana and Ben working it: (boss, queue, ana, ben)."""
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR, name="Zhou Boss")
    ana_id = await add_agent(hub, "ana@example.com", name="Ana")
    ben_id = await add_agent(hub, "ben@example.com", name="Ben")
    boss = await login(hub, "boss@example.com")
    resp = await boss.client.post("/api/queues", json={"name": "Support"}, headers={"X-CSRF-Token": boss.csrf})
    queue_id = (await resp.json())["queue"]["id"]
    for agent_id in (ana_id, ben_id):
        resp = await boss.client.patch(
            f"/api/agents/{agent_id}/routing", json={"queue_ids": [queue_id]}, headers={"X-CSRF-Token": boss.csrf}
        )
        assert resp.status == 200, await resp.text()
    return boss, queue_id, ana_id, ben_id


async def log_in(page: Any, base: str, email: str) -> None:
    await page.goto(f"{base}/console")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.locator("#live.on").wait_for()


async def test_offer_accept_reply_note_transfer_resolve_and_wallboard(
    hub: TestClient, browser: Any, database_url: str
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    boss, queue_id, ana_id, ben_id = await team(hub)
    await boss.client.post(
        "/api/canned-responses",
        json={"shortcut": "hi", "title": "Hello", "text": "您好 {{customer.name}}！"},
        headers={"X-CSRF-Token": boss.csrf},
    )
    base = str(hub.make_url("")).rstrip("/")

    wall_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ana_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ben_ctx = await browser.new_context(viewport={"width": 1024, "height": 768})
    wall, ana, ben = await wall_ctx.new_page(), await ana_ctx.new_page(), await ben_ctx.new_page()
    await log_in(wall, base, "boss@example.com")
    await wall.goto(f"{base}/wallboard")
    await wall.locator("[data-tile=waiting] .value", has_text="0").wait_for()
    await log_in(ana, base, "ana@example.com")
    await log_in(ben, base, "ben@example.com")
    # Ben is busy elsewhere: away (after his login, which makes an agent available), so the offer rings at Ana.
    await hub.app[ROUTING_SERVICE].set_presence(ben_id, __import__("hub.domain").domain.Presence.AWAY, "test")
    await ana.select_option("#presence", "available")
    await hub.app[ROUTING_SERVICE].set_presence(ana_id, __import__("hub.domain").domain.Presence.AVAILABLE, "test")

    conversation_id = await arrive(hub, "我的快递三天没动了", "b1", queue_id)
    offer = ana.locator(f"[data-offer='{conversation_id}']")
    await offer.wait_for()
    await wall.locator("[data-tile=waiting] .value", has_text="1").wait_for()
    await ana.locator("[data-countdown]").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await ana.screenshot(path=str(SHOTS / "console-offer.png"))
    await offer.locator("[data-action=accept]").click()
    await ana.locator("#conv-status", has_text="assigned").wait_for()
    await ana.locator(".msg.in", has_text="快递").wait_for()
    await wall.locator("[data-tile=waiting] .value", has_text="0").wait_for()
    await wall.locator(f"[data-live='{conversation_id}']").wait_for()

    await ana.fill("#reply-text", "/hi")
    await ana.press("#reply-text", "Tab")
    await ana.wait_for_function("document.querySelector('#reply-text').value === '您好 +8613800138000！'")
    await ana.fill("#reply-text", "您好，我来帮您查一下物流。")
    await ana.click("#send-reply")
    await ana.locator(".msg.out", has_text="查一下物流").wait_for()
    await ana.fill("#reply-text", "@ben 这个客户是老客户，请优先处理")
    await ana.click("#send-note")
    await ana.locator(".msg.note", has_text="老客户").wait_for()
    await ben.locator(".toast", has_text="Ana").wait_for()

    await ana.select_option("#priority", "high")
    await ana.locator(".toast", has_text="priority").wait_for()
    await ana.screenshot(path=str(SHOTS / "console-conversation.png"))

    await hub.app[ROUTING_SERVICE].set_presence(ben_id, __import__("hub.domain").domain.Presence.AVAILABLE, "test")
    await ana.click("[data-action=transfer]")
    await ana.select_option("#transfer-agent", str(ben_id))
    await ana.fill("#transfer-note", "物流组请跟进")
    await ana.click("#transfer-submit")
    await settle(hub)
    ben_offer = ben.locator(f"[data-offer='{conversation_id}']")
    await ben_offer.wait_for()
    await ben_offer.locator("[data-action=accept]").click()
    await ben.locator("#conv-status", has_text="assigned").wait_for()
    await ben.locator(".msg.note", has_text="老客户").wait_for()
    await ben.click("[data-action=resolve]")
    await ben.locator("#conv-status", has_text="resolved").wait_for()

    await wall.locator("[data-tile=handled] .value", has_text="1").wait_for()
    await wall.locator("#queue-table tbody tr").first.wait_for()
    await wall.screenshot(path=str(SHOTS / "wallboard.png"), full_page=True)

    await ana.select_option("#lang", "zh")
    await ana.locator(".tab", has_text="排队中").wait_for()
    await ana.reload()
    await ana.locator(".tab", has_text="排队中").wait_for()
    for ctx in (wall_ctx, ana_ctx, ben_ctx):
        await ctx.close()
