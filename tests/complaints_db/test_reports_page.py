"""A supervisor opens the reports page in Chromium: SVG charts from the API, tables, CSV; agents are turned away."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import browser  # noqa: F401  (the Chromium fixture)
from tests.complaints_db.conftest import Desk
from tests.support import PASSWORD


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """One database is enough for a page test: SQLite."""
    return f"sqlite+aiosqlite:///{tmp_path / 'kefu.db'}"


async def test_a_supervisor_reads_the_charts_and_exports_csv(
    desk: Desk,
    seven_weeks: dict[str, Any],
    browser: Any,  # noqa: F811
) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(str(desk.hub.make_url("/reports")))
    await page.fill("#login-form input[name=email]", "boss@example.com")
    await page.fill("#login-form input[name=password]", PASSWORD)
    await page.click("#login-form button")
    await page.wait_for_selector("body[data-loaded=yes]")

    await page.fill("#range input[name=since]", "2026-01-01")
    await page.fill("#range input[name=until]", "2026-02-28")
    await page.click("#range button")
    await page.wait_for_selector("#chart-weeks svg")

    assert await page.locator("#chart-weeks rect.bar").count() == 5
    assert await page.locator("#chart-weeks rect[data-series=refund]").count() == 1
    assert await page.text_content("#total") == "5 complaints"
    assert await page.locator("#chart-channels rect.bar").count() == 4
    assert await page.locator("#chart-lift line.marker").count() == 1
    assert "Billing" in (await page.text_content("#chart-lift svg") or "")
    assert "Threatened to leave or cancel" in (await page.text_content("#risk") or "")
    key_row = await page.text_content("#key-accounts tbody tr")
    assert key_row is not None and "key" in key_row and "1" in key_row
    href = await page.get_attribute("a[data-csv=channels]", "href")
    assert href == "/api/reports/complaints.csv?section=channels&since=2026-01-01&until=2026-03-01"
    csv_text = await page.evaluate("async (url) => (await fetch(url)).text()", href)
    assert csv_text.splitlines() == ["channel,complaints", "telegram,2", "email,1", "sms,1", "webchat,1"]
    assert errors == []


async def test_an_agent_is_sent_back_to_the_console(desk: Desk, browser: Any) -> None:  # noqa: F811
    await desk.staff("agent@example.com")
    page = await browser.new_page()
    await page.goto(str(desk.hub.make_url("/reports")))
    await page.fill("#login-form input[name=email]", "agent@example.com")
    await page.fill("#login-form input[name=password]", PASSWORD)
    await page.click("#login-form button")

    await page.wait_for_selector("#denied", state="visible")
    assert await page.is_hidden("#app")
