"""In Chromium: an agent sends files from the composer (file picker, pasted screenshot, dropped file) and
the customer sees them in the web chat, then sends a photo back from the widget; a supervisor monitoring
the conversation on the wallboard sees every message arrive without reloading."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.browser.test_console_story import SHOTS, log_in
from tests.console.test_attachments import png
from tests.support import add_agent

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = png(160, 100)


async def test_files_reach_the_web_chat_and_the_monitor_is_live(
    hub: TestClient, browser: Any, database_url: str
) -> None:
    if "postgres" in database_url:
        pytest.skip("the browser story runs once, on the default SQLite store")
    await add_agent(hub, "boss@example.com", Role.SUPERVISOR, name="Zhou Boss")
    await add_agent(hub, "mei@example.com", name="Mei")
    base = str(hub.make_url("")).rstrip("/")
    customer_ctx = await browser.new_context(viewport={"width": 1000, "height": 760})
    agent_ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    wall_ctx = await browser.new_context(viewport={"width": 1280, "height": 1000})
    customer, agent, wall = await customer_ctx.new_page(), await agent_ctx.new_page(), await wall_ctx.new_page()

    await customer.goto(f"{base}/demo")
    chat = customer.locator("#kefu-widget")
    box = chat.locator("textarea")
    await box.fill("能把发票和截图发给我吗？")
    await box.press("Enter")
    await chat.locator(".m.me:not(.pending)").first.wait_for()

    await log_in(wall, base, "boss@example.com")
    await wall.goto(f"{base}/wallboard")
    await wall.locator("#live.on").wait_for()
    await log_in(agent, base, "mei@example.com")
    item = agent.locator("#conversation-list li", has_text="发票和截图")
    conversation_id = int(await item.get_attribute("data-conversation") or 0)
    await item.click()
    await agent.click("[data-action=take]")
    await agent.locator("#conv-status", has_text="assigned").wait_for()

    live = wall.locator(f"[data-live='{conversation_id}']")
    await live.wait_for()
    await live.locator("button").click()
    monitor = wall.locator("#monitor-messages")
    await monitor.locator(".msg.in", has_text="发票和截图").wait_for()

    # Three ways in: the file picker, a pasted screenshot, a file dropped on the conversation.
    await agent.set_input_files("#attach-input", files=[{"name": "发票-1042.pdf", "mimeType": "application/pdf",
                                                         "buffer": PDF}])
    await agent.evaluate(
        """([png]) => {
          const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
          const paste = new DataTransfer();
          paste.items.add(new File([bytes], "image.png", { type: "image/png" }));
          document.querySelector("#reply-text").dispatchEvent(
            new ClipboardEvent("paste", { clipboardData: paste, bubbles: true, cancelable: true }));
          const drop = new DataTransfer();
          drop.items.add(new File(["order 1042: shipped"], "物流单.txt", { type: "text/plain" }));
          document.querySelector("#conversation").dispatchEvent(
            new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true }));
        }""",
        [base64.b64encode(PNG).decode()],
    )
    chips = agent.locator("#files .chip.file")
    await chips.nth(2).wait_for()
    names = await chips.evaluate_all("els => els.map((e) => e.dataset.file)")
    assert names[0] == "发票-1042.pdf" and names[1].startswith("pasted-") and names[2] == "物流单.txt"
    await agent.fill("#reply-text", "发票和截图都在这里。")
    await agent.screenshot(path=str(SHOTS / "console-attachments.png"))
    await agent.click("#send-reply")
    sent = agent.locator(".msg.out", has_text="发票和截图都在这里")
    await sent.locator("a.attachment img").wait_for()
    assert await agent.locator("#files .chip").count() == 0

    # The customer's web chat: the picture shows (the bytes come through the signed link), the files link.
    bubble = chat.locator(".m", has_text="发票和截图都在这里")
    picture = bubble.locator("a.file img")
    await picture.wait_for()
    await customer.wait_for_function(
        "() => { const i = document.querySelector('#kefu-widget').shadowRoot.querySelector('a.file img');"
        " return i && i.complete && i.naturalWidth === 160; }"
    )
    links = await bubble.locator("a.file").evaluate_all("els => els.map((a) => a.textContent)")
    assert [t for t in links if t] == ["↓ 发票-1042.pdf", "↓ 物流单.txt"]
    pdf = await bubble.locator("a.file", has_text="发票-1042.pdf").get_attribute("href")
    assert pdf is not None
    fetched = await customer.request.get(pdf)
    assert fetched.status == 200 and await fetched.body() == PDF

    # The customer answers with a photo of their own, through the widget's paperclip.
    await chat.locator("input[type=file]").set_input_files(
        files=[{"name": "包裹.png", "mimeType": "image/png", "buffer": PNG}]
    )
    mine = chat.locator(".m.me:not(.pending) a.file img")
    await mine.wait_for()
    await customer.screenshot(path=str(SHOTS / "webchat-attachments.png"))
    await agent.locator(".msg.in a.attachment img").wait_for()
    await monitor.locator(".msg.in a.attachment", has_text="包裹.png").wait_for()

    # A screenshot pasted into the message box and a receipt dropped on the chat go the same way.
    await customer.evaluate(
        """([png, pdf]) => {
          const root = document.querySelector("#kefu-widget").shadowRoot;
          const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const paste = new DataTransfer();
          paste.items.add(new File([bytes(png)], "image.png", { type: "image/png" }));
          root.querySelector("textarea").dispatchEvent(
            new ClipboardEvent("paste", { clipboardData: paste, bubbles: true, cancelable: true }));
          const drop = new DataTransfer();
          drop.items.add(new File([bytes(pdf)], "回执.pdf", { type: "application/pdf" }));
          root.querySelector(".panel").dispatchEvent(
            new DragEvent("drop", { dataTransfer: drop, bubbles: true, cancelable: true }));
        }""",
        [base64.b64encode(PNG).decode(), base64.b64encode(PDF).decode()],
    )
    await agent.locator(".msg.in a.attachment", has_text="回执.pdf").wait_for()
    pasted = agent.locator(".msg.in a.attachment[data-attachment^='screenshot-']")
    await pasted.locator("img").wait_for()
    assert (await pasted.get_attribute("data-attachment") or "").endswith(".png")
    assert await chat.locator(".m.me:not(.pending) a.file img").count() == 2
    assert await chat.locator("textarea").input_value() == ""

    # The supervisor's monitor followed along: the reply with its files, then the customer's answer.
    await monitor.locator(".msg.out", has_text="发票和截图都在这里").wait_for()
    await box.fill("收到了，谢谢！")
    await box.press("Enter")
    await monitor.locator(".msg.in", has_text="收到了").wait_for()
    await wall.fill("#monitor-note", "处理得很好")
    await wall.click("#monitor-send")
    await monitor.locator(".msg.note", has_text="处理得很好").wait_for()
    await agent.locator(".msg.note", has_text="处理得很好").wait_for()
    await wall.locator("#monitor").screenshot(path=str(SHOTS / "wallboard-monitor.png"))
    for ctx in (customer_ctx, agent_ctx, wall_ctx):
        await ctx.close()
