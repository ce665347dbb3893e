"""In Chromium: the widget tells a waiting customer their place in line, then that the team is closed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.routing_db.conftest import Center

pytestmark = pytest.mark.browser


async def test_the_widget_shows_the_place_in_line_and_the_closed_notice(
    center: Center,
    browser: Any,
    database_url: str,
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await center.customer_writes("I was here first")
    base = str(center.hub.make_url("")).rstrip("/")
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/demo")
    chat = page.locator("#kefu-widget")
    await chat.locator("textarea").fill("Is anyone there?")
    await chat.locator("textarea").press("Enter")
    await chat.locator(".m.me:not(.pending)").first.wait_for()
    await center.settle()
    banner = chat.locator(".queue")
    await banner.filter(has_text="You are number 2 in line").wait_for()

    boss = await center.boss()
    await boss.post(
        "/api/calendars",
        {"id": "never", "timezone": "UTC", "hours": {"sun": ["03:00-04:00"]}},
    )
    general = [q for q in (await boss.get("/api/queues"))[1]["queues"] if q["name"] == "General"][0]["id"]
    await boss.patch(
        f"/api/queues/{general}", {"calendar_id": "never", "out_of_hours_message": "We are closed right now."}
    )
    await center.settle()
    await banner.filter(has_text="We are closed right now.").wait_for()
    assert "We open again" in await banner.inner_text()
    await context.close()
