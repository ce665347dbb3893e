"""In Chromium: a supervisor sets up the Shanghai office's business hours for Spring Festival (a short
Friday, a Saturday worked in exchange, the holiday week) on the settings page, puts the support queue on
them with a first-response target, opens a VIP queue and puts an agent in it with her skills and capacity;
a mistyped range is refused with the reason; an agent is turned away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.browser.test_console_story import log_in
from tests.support import add_agent

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


async def test_a_supervisor_sets_business_hours_and_a_queue_target(
    hub: TestClient, browser: Any, database_url: str, login_as: Any
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR, name="Wang 主管")
    await add_agent(hub, "ana@example.com", name="Ana")
    base = str(hub.make_url("")).rstrip("/")
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    await log_in(page, base, "boss@example.com")
    await page.locator("#settings-link:not([hidden])").click()
    await page.locator("body[data-ready='1']").wait_for()

    form = page.locator("#calendar-form")
    await page.click("#new-calendar")
    await form.locator("input[name=cal_id]").fill("cn-office")
    await form.locator("input[name=cal_name]").fill("Shanghai office 上海办公室")
    await form.locator("input[name=timezone]").fill("Asia/Shanghai")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        await form.locator(f"input[name=day-{day}]").fill("09:00-12:00, 13:00-18:00")
    await form.locator("textarea[name=holidays]").fill("\n".join(f"2026-02-{d}" for d in range(16, 23)))
    await form.locator("textarea[name=special]").fill("2026-02-13 09:00-12:00\n2026-02-14 09:00-18:00\n2026-02-24 closed")
    await form.locator("button[type=submit]").click()
    await page.locator("#calendar-saved", has_text="Saved").wait_for()

    boss = await login_as("boss@example.com")
    status, body = await boss.get("/api/calendars/cn-office")
    assert status == 200
    calendar = body["calendar"]
    assert calendar["hours"]["mon"] == ["09:00-12:00", "13:00-18:00"] and "sat" not in calendar["hours"]
    assert calendar["special_hours"] == {"2026-02-13": ["09:00-12:00"], "2026-02-14": ["09:00-18:00"],
                                         "2026-02-24": []}
    assert len(calendar["holidays"]) == 7

    # A typo is refused with the reason, and nothing changes.
    await form.locator("input[name=day-sat]").fill("10 to 4")
    await form.locator("button[type=submit]").click()
    await page.locator("#settings-error", has_text="does not parse").wait_for()
    assert "sat" not in (await boss.get("/api/calendars/cn-office"))[1]["calendar"]["hours"]
    await form.locator("input[name=day-sat]").fill("")

    # The default queue works those hours, with a 30-minute first-response target and a closed notice.
    row = page.locator("#queue-settings tbody tr").first
    await row.locator(".q-calendar").select_option("cn-office")
    await row.locator(".q-sla").fill("30")
    await row.locator(".q-closed").fill("我们已下班，明早 9 点回复您。")
    await row.locator(".q-save").click()
    queue_id = int(await row.get_attribute("data-queue") or 0)
    for _ in range(50):
        queue = (await boss.get(f"/api/queues/{queue_id}"))[1]["queue"]
        if queue["calendar_id"] == "cn-office":
            break
        await page.wait_for_timeout(100)
    assert (queue["calendar_id"], queue["sla_first_response_seconds"]) == ("cn-office", 1800)
    assert queue["out_of_hours_message"] == "我们已下班，明早 9 点回复您。"

    # A new queue from the same page.
    await page.fill("#new-queue input[name=queue_name]", "VIP 大客户")
    await page.click("#new-queue button")
    await page.locator("#queue-settings tbody tr", has_text="VIP 大客户").wait_for()

    # Ana joins the VIP queue with her skills and takes up to three chats at once.
    ana_row = page.locator("#agent-settings tbody tr", has_text="Ana")
    await ana_row.locator("label.a-queue", has_text="VIP 大客户").locator("input").check()
    await ana_row.locator(".a-skills").fill("vip, 退款 售后")
    await ana_row.locator(".a-chat").fill("3")
    await ana_row.locator(".a-save").click()
    await page.locator("#settings-error", has_text="'skills' has an invalid entry '退款 售后'").wait_for()
    await ana_row.locator(".a-skills").fill("vip, 退款")
    await ana_row.locator(".a-save").click()
    ana_id = int(await ana_row.get_attribute("data-agent") or 0)
    vip = next(q for q in (await boss.get("/api/queues"))[1]["queues"] if q["name"] == "VIP 大客户")
    for _ in range(50):
        routing = (await boss.get(f"/api/agents/{ana_id}/routing"))[1]["agent"]
        if vip["id"] in routing["queue_ids"]:
            break
        await page.wait_for_timeout(100)
    assert vip["id"] in routing["queue_ids"], (await page.locator("#settings-error").inner_text(), routing)
    assert routing["skills"] == ["vip", "退款"] and routing["capacity"]["chat"] == 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "settings.png"), full_page=True)
    assert errors == []

    agent_page = await (await browser.new_context()).new_page()
    await log_in(agent_page, base, "ana@example.com")
    assert await agent_page.locator("#settings-link").is_hidden()
    await agent_page.goto(f"{base}/settings")
    await agent_page.locator("#settings-forbidden:not([hidden])").wait_for()
    assert await agent_page.locator("#settings").is_hidden()
    await context.close()
    await agent_page.context.close()
