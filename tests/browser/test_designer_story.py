"""In Chromium: a designer edits an intent, trains with live progress, tests a message, activates the
version and the web chat customer on /demo gets the new answer; rolling back brings the old one back.
Screenshots for docs/bot-designer.md are taken on the way."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bots.service import BOT_SERVICE as BOT
from hub.config import Settings
from hub.domain import Role
from tests.support import PASSWORD, add_agent

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
OLD = "9:00-21:00"
NEW = "每天 8:00-22:00（设计器新版）"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter bot is trained once per session (KEFU_BOT_MODEL_CACHE)."""
    return tmp_path_factory.mktemp("designer-bot-models")


@pytest.fixture
async def hub(aiohttp_client: Any, settings: Settings, model_cache: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A hub with the bot on and the starter bot trained and active."""
    from hub.app import create_app

    monkeypatch.setenv("KEFU_BOT_MODEL_CACHE", str(model_cache))
    app: web.Application = create_app(replace(settings, bot_enabled=True))
    client = await aiohttp_client(app)
    await app[BOT].wait_ready(timeout=120)
    return client


errors: list[str] = []


async def designer_page(browser: Any, base: str) -> Any:
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = await context.new_page()
    page.on("pageerror", lambda err: (errors.append(str(err)), print("pageerror:", err)))
    page.on("console", lambda msg: print("console:", msg.type, msg.text))
    await page.goto(f"{base}/designer")
    await page.fill("input[name=email]", "dee@example.com")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    try:
        await page.locator("#designer[data-ready='1']").wait_for(timeout=20_000)
    except Exception:
        print("login-error:", await page.locator("#login-error").text_content())
        raise
    return page


async def customer_asks(chat: Any, text: str) -> None:
    box = chat.locator("textarea")
    await box.fill(text)
    await box.press("Enter")


async def bot_lines(chat: Any, needle: str) -> int:
    return await chat.locator(".m:not(.me)", has_text=needle).count()


async def test_edit_train_test_activate_and_roll_back_in_chromium(
    hub: TestClient, browser: Any, database_url: str
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await add_agent(hub, "dee@example.com", Role.DESIGNER, name="Dee 设计师")
    base = str(hub.make_url("")).rstrip("/")
    SHOTS.mkdir(parents=True, exist_ok=True)

    customer_ctx = await browser.new_context(viewport={"width": 1000, "height": 760})
    customer = await customer_ctx.new_page()
    await customer.goto(f"{base}/demo")
    chat = customer.locator("#kefu-widget")
    await customer_asks(chat, "你们几点营业？")
    await chat.locator(".m:not(.me)", has_text=OLD).wait_for()

    page = await designer_page(browser, base)
    # the intents list shows example counts; open opening_hours
    item = page.locator("#intent-list li[data-intent='opening_hours']")
    await item.locator("[data-count=examples]", has_text="18 examples").wait_for()
    await item.click()
    await page.locator("#intent-editor h2", has_text="opening_hours").wait_for()

    # an example with an entity typed in Rasa's markup, then one marked by selecting its words
    await page.fill("#new-example", "[周日](day)几点关门")
    await page.click("#add-example")
    await page.locator("#examples li", has_text="几点关门").locator(".ent-chip", has_text="day: 周日").wait_for()
    await item.locator("[data-count=examples]", has_text="19 examples").wait_for()
    await page.fill("#new-example", "are you open on saturday")
    await page.click("#add-example")
    example = page.locator(".ex-text", has_text="are you open on saturday")
    await example.evaluate(
        """(node) => {
            const text = node.firstChild; const start = text.data.indexOf("saturday");
            const range = document.createRange(); range.setStart(text, start); range.setEnd(text, start + 8);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
            node.dispatchEvent(new MouseEvent("mouseup", { bubbles: true }));
        }"""
    )
    await page.locator("#entity-selection", has_text="«saturday»").wait_for()
    await page.fill("#entity-name", "day")
    await page.click("#mark-entity")
    await page.locator("#examples li", has_text="are you open").locator(".ent-chip", has_text="day: saturday").wait_for()
    assert await page.locator("#draft-bar.dirty").count() == 1

    # the Chinese web chat answer: a new text for the zh variation on any channel
    variation = page.locator("[data-response-editor='utter_opening_hours'] .variation").first
    assert await variation.locator(".v-language").input_value() == "zh"
    await variation.locator(".v-text").fill(f"我们的人工客服{NEW}在线。")
    await page.screenshot(path=str(SHOTS / "designer-intent.png"))

    # train: the progress bar follows the version until it is ready
    await page.click("#train-now")
    training = page.locator("#training")
    await training.wait_for()
    await training.locator("#train-percent").wait_for()
    await page.locator("#training[data-status='ready']").wait_for(timeout=120_000)
    assert await page.locator("#train-progress").evaluate("(bar) => bar.value") == 1
    new_id = int(await training.get_attribute("data-version"))
    row = page.locator(f"#versions tr[data-version='{new_id}']")
    await row.locator(".status-ready").wait_for()
    await row.locator("td", has_text="%").first.wait_for()
    await page.screenshot(path=str(SHOTS / "designer-train.png"))
    assert await page.locator("#draft-bar.dirty").count() == 0

    # test the message against the new version before customers see it
    await row.locator("[data-action=test]").click()
    await page.locator("#panel-test:not([hidden])").wait_for()
    assert await page.locator("#test-version").input_value() == str(new_id)
    await page.fill("#test-text", "你们几点营业？")
    await page.click("#test-send")
    await page.locator("#test-reply", has_text=NEW).wait_for()
    await page.locator("#test-ranking tr.top", has_text="opening_hours").wait_for()
    await page.locator("#test-verdict", has_text="Would answer by intent").wait_for()
    await page.fill("#test-text", "转人工")
    await page.click("#test-send")
    await page.locator("#test-verdict", has_text="Would hand off").wait_for()
    await page.locator("#test-reason", has_text="asked_for_human").wait_for()
    await page.fill("#test-text", "are you open on sunday")
    await page.click("#test-send")
    await page.locator("#test-ranking tr.top", has_text="opening_hours").wait_for()
    await page.screenshot(path=str(SHOTS / "designer-test.png"))

    # the live web chat still answers with the active (starter) version
    await customer_asks(chat, "你们几点营业？")
    await chat.locator(".m:not(.me)", has_text=OLD).nth(1).wait_for()
    assert await bot_lines(chat, NEW) == 0

    # activate: the web chat answers differently at once, no restart
    await page.locator(".d-tab[data-panel=train]").click()
    await row.locator("[data-action=activate]").click()
    await row.locator(".active-mark").wait_for()
    await customer_asks(chat, "你们几点营业？")
    await chat.locator(".m:not(.me)", has_text=NEW).wait_for()
    assert await bot_lines(chat, OLD) == 2
    await customer.screenshot(path=str(SHOTS / "designer-webchat-new.png"))

    # roll back: the previous version answers again
    await page.click("#rollback")
    await page.locator(f"#versions tr[data-version='{new_id}']:not(.active)").wait_for()
    await page.locator(".toast", has_text="Rolled back to").wait_for()
    assert await page.locator("#versions tr.active").count() == 1
    await customer_asks(chat, "你们几点营业？")
    await chat.locator(".m:not(.me)", has_text=OLD).nth(2).wait_for()
    assert await bot_lines(chat, NEW) == 1

    # the workspace in Chinese, after a reload
    await page.select_option("#lang", "zh")
    await page.locator(".d-tab[data-panel=intents]", has_text="意图").wait_for()
    await page.reload()
    await page.locator("#designer[data-ready='1']").wait_for()
    await page.locator(".d-tab[data-panel=train]", has_text="训练与版本").wait_for()
    await customer_ctx.close()
    await page.context.close()
