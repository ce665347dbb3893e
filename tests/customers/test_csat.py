"""After a resolution the customer is asked for a 1-5 rating on their channel; a rating never reopens it."""
from __future__ import annotations

import email
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from channels.email.adapter import EmailChannel
from channels.email.config import EmailConfig, SmtpSettings
from channels.sms.adapter import TwilioSmsChannel
from hub.config import Settings
from hub.domain import Role
from hub.keys import CHANNELS, DATABASE, QUERIES
from hub.storage.customer_tables import CsatRequest
from tests.channels.email.conftest import SinkServer, envelope_text, smtp_sink  # noqa: F401 (fixture)
from tests.channels.sms.conftest import AUTH_TOKEN, fixture, make_config, twilio_api  # noqa: F401 (fixture)
from tests.channels.sms.conftest import free_port as free_sms_port
from tests.customers.helpers import customer_writes, staff, until
from tests.fakes.twilio_api import FakeTwilioApi, post_signed
from tests.support import AgentSession, next_frame


async def serve_and_resolve(agent: AgentSession, conversation_id: int, answer: str) -> None:
    assert (await agent.post(f"/api/conversations/{conversation_id}/take"))[0] == 200
    assert (await agent.post(f"/api/conversations/{conversation_id}/messages", {"text": answer}))[0] == 201
    assert (await agent.post(f"/api/conversations/{conversation_id}/resolve"))[0] == 200


async def frames(ws: Any, types: set[str]) -> dict[str, dict[str, Any]]:
    """The first frame of each type, whatever order they come in."""
    seen: dict[str, dict[str, Any]] = {}
    while set(seen) != types:
        frame = await next_frame(ws)
        if frame["type"] in types and frame["type"] not in seen:
            seen[frame["type"]] = frame
    return seen


async def conversation(agent: AgentSession, conversation_id: int) -> dict[str, Any]:
    status, body = await agent.get(f"/api/conversations/{conversation_id}")
    assert status == 200
    return body


async def test_a_web_chat_customer_taps_a_rating_and_the_conversation_stays_resolved(
    hub: TestClient, login_as: Any
) -> None:
    agent = await staff(hub, login_as, Role.AGENT)
    ws = await hub.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello"})
    await next_frame(ws, "welcome")
    await ws.send_json({"type": "message", "client_id": "c-1", "text": "你好，我的快递三天了还没到"})
    conversation_id = (await next_frame(ws, "ack"))["conversation_id"]
    await serve_and_resolve(agent, conversation_id, "已为您催促快递，明天送达。")
    assert (await next_frame(ws, "message"))["author"] == "agent"

    asked = await next_frame(ws, "message")
    assert asked["author"] == "system" and asked["text"] == "您对本次服务满意吗？请为我们打分。"
    assert [b["title"] for b in asked["buttons"]] == ["非常不满意", "不满意", "一般", "满意", "非常满意"]
    assert [b["payload"] for b in asked["buttons"]] == [f"csat:{n}" for n in range(1, 6)]

    await ws.send_json({"type": "message", "client_id": "c-2", "text": asked["buttons"][3]["payload"]})
    seen = await frames(ws, {"ack", "message"})
    assert seen["ack"]["conversation_id"] == conversation_id
    thanks = seen["message"]
    assert thanks["text"].startswith("感谢您的评价！") and "/csat/" in thanks["text"]

    detail = await conversation(agent, conversation_id)
    assert detail["conversation"]["status"] == "resolved"
    _, record = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}/record")
    assert record["customer"]["csat"]["ratings"] == 1 and record["customer"]["csat"]["last"]["score"] == 4

    # Anything else the customer writes reopens the conversation, as before.
    await ws.send_json({"type": "message", "client_id": "c-3", "text": "还有，发票怎么开？"})
    assert (await next_frame(ws, "ack"))["conversation_id"] == conversation_id
    assert (await conversation(agent, conversation_id))["conversation"]["status"] == "queued"
    await ws.close()

    _, timeline = await agent.get(f"/api/customers/{detail['conversation']['customer_id']}/timeline?kind=csat")
    assert [(i["event"], i["data"].get("score")) for i in timeline["items"]] == [
        ("csat.rated", 4), ("csat.requested", None)
    ]


async def test_no_question_when_csat_is_off_and_nobody_is_asked_twice(
    monkeypatch: pytest.MonkeyPatch, hub_factory: Callable[[], Awaitable[TestClient]], login_as_on: Any
) -> None:
    monkeypatch.setenv("KEFU_CSAT_ENABLED", "0")
    hub = await hub_factory()
    agent = await staff(hub, login_as_on(hub), Role.AGENT)
    stored = await customer_writes(hub, "webchat", "visitor-off", "Where is my parcel?", "w-off-1")
    await serve_and_resolve(agent, stored.conversation_id, "It arrives tomorrow.")
    await customer_writes(hub, "webchat", "visitor-off", "5", "w-off-2")
    detail = await conversation(agent, stored.conversation_id)
    assert [m["author"] for m in detail["messages"]] == ["customer", "agent", "customer"]
    assert detail["conversation"]["status"] == "queued"  # without a question, "5" is just a message


async def test_an_sms_customer_answers_with_a_number_and_a_comment(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    aiohttp_client: Callable[..., Awaitable[TestClient]],
    settings: Settings,
    twilio_api: FakeTwilioApi,  # noqa: F811
    login_as_on: Any,
) -> None:
    from hub.app import create_app

    port = free_sms_port()
    http = twilio_api.http_client()
    sms = TwilioSmsChannel(make_config("sms", public_url=f"http://127.0.0.1:{port}"), http_client=http)
    app: web.Application = create_app(settings, extra_channels=[sms])
    hub = await aiohttp_client(await aiohttp_server(app, host="127.0.0.1", port=port))
    inbound = str(hub.make_url("/channels/twilio/sms/inbound"))
    agent = await staff(hub, login_as_on(hub), Role.AGENT)

    form = fixture("inbound_sms")
    assert await post_signed(inbound, form, AUTH_TOKEN) == 200
    customer_id = await hub.app[QUERIES].visitor_customer("sms", form["From"])
    assert customer_id is not None
    _, record = await agent.get(f"/api/customers/{customer_id}")
    conversation_id = record["customer"]["conversations"][0]["id"]
    await serve_and_resolve(agent, conversation_id, "Your parcel left the warehouse today.")

    question = await until(lambda: _sms_containing(twilio_api, "1. Very poor"))
    assert question.to == form["From"]
    assert question.body.splitlines() == [
        "How would you rate the help you got?",
        'Reply with a number; you can add a comment after it, like "4: quick answer".',
        "1. Very poor", "2. Poor", "3. Okay", "4. Good", "5. Excellent",
    ]
    reply = {**form, "Body": "5: fast and friendly", "MessageSid": "SM" + "5" * 32, "SmsSid": "SM" + "5" * 32,
             "SmsMessageSid": "SM" + "5" * 32}
    assert await post_signed(inbound, reply, AUTH_TOKEN) == 200
    thanks = await until(lambda: _sms_containing(twilio_api, "Thank you for your rating!"))
    assert "/csat/" not in thanks.body  # a comment came with the rating, so no invitation to add one

    detail = await conversation(agent, conversation_id)
    assert detail["conversation"]["status"] == "resolved"
    _, record = await agent.get(f"/api/customers/{customer_id}/record")
    assert record["customer"]["csat"]["last"] == {
        "conversation_id": conversation_id, "score": 5, "comment": "fast and friendly",
        "at": record["customer"]["csat"]["last"]["at"],
    }
    # "2 boxes were missing" is not a rating (no separator after the number): it reopens the conversation.
    again = {**form, "Body": "2 boxes were missing", "MessageSid": "SM" + "6" * 32, "SmsSid": "SM" + "6" * 32,
             "SmsMessageSid": "SM" + "6" * 32}
    assert await post_signed(inbound, again, AUTH_TOKEN) == 200
    assert (await conversation(agent, conversation_id))["conversation"]["status"] == "queued"
    _, record = await agent.get(f"/api/customers/{customer_id}/record")
    assert record["customer"]["csat"]["last"]["score"] == 5
    await http.close()


async def _sms_containing(api: FakeTwilioApi, text: str) -> Any:
    return next((m for m in api.accepted if text in m.body), None)


# ---------------------------------------------------------------------------------------------- email


@pytest.fixture
async def mail_hub(
    aiohttp_client: Any, settings: Settings, smtp_sink: SinkServer  # noqa: F811
) -> AsyncIterator[TestClient]:
    from hub.app import create_app
    from tests.channels.email.conftest import free_port

    config = EmailConfig(
        from_address="support@kefu.test",
        domain="kefu.test",
        smtp=SmtpSettings(host=smtp_sink.host, port=smtp_sink.port, timeout=5),
        listen=("127.0.0.1", free_port()),
    )
    yield await aiohttp_client(create_app(settings, extra_channels=[EmailChannel(config)]))


async def mail_kefu(hub: TestClient, subject: str, body: str, in_reply_to: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = "Anna Berg <anna@example.se>"
    msg["To"] = "support@kefu.test"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.se")
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(body)
    host, port = hub.app[CHANNELS]["email"].listen_address  # type: ignore[attr-defined]
    await aiosmtplib.send(msg, hostname=host, port=port, timeout=10)


def _mail_parts(raw: bytes) -> tuple[str, str, str]:
    message = email.message_from_bytes(raw)
    plain = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            plain = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    return plain, html, message["Message-ID"]


async def test_an_email_customer_rates_on_the_linked_page(
    mail_hub: TestClient, smtp_sink: SinkServer, login_as_on: Any  # noqa: F811
) -> None:
    agent = await staff(mail_hub, login_as_on(mail_hub), Role.AGENT)
    await mail_kefu(mail_hub, "Invoice question", "Can I get a VAT invoice for order 77?")
    customer_id = await until(lambda: mail_hub.app[QUERIES].visitor_customer("email", "anna@example.se"))
    _, record = await agent.get(f"/api/customers/{customer_id}")
    conversation_id = record["customer"]["conversations"][0]["id"]
    await serve_and_resolve(agent, conversation_id, "Yes, it is attached to your order page now.")

    async def mail_with(text: str) -> Any:
        for envelope in smtp_sink.received:
            plain, html, message_id = _mail_parts(envelope_text(envelope))
            if text in plain:
                return plain, html, message_id
        return None

    plain, html, question_id = await until(lambda: mail_with("Rate us here"))
    link = re.search(r"https?://\S+/csat/([\w-]+)", plain)
    assert link is not None
    path = f"/csat/{link.group(1)}"
    assert f'{path}?score=5"' in html and "5 · Excellent" in html

    # Answering the question mail with a number is a rating too (threaded by In-Reply-To).
    await mail_kefu(mail_hub, "Re: Invoice question", "3\n\n> How would you rate the help you got?",
                    in_reply_to=question_id)
    thanks, _, _ = await until(lambda: mail_with("Thank you for your rating!"))
    assert f"Want to add a comment? {link.group(0)}" in thanks
    assert (await conversation(agent, conversation_id))["conversation"]["status"] == "resolved"

    page = await mail_hub.get(f"{path}?score=5")
    text = await page.text()
    assert page.status == 200 and 'value="5" checked' in text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")

    refused = await mail_hub.post(path, data={"score": "9", "comment": "?"})
    assert refused.status == 400 and "Please choose a score from 1 to 5." in await refused.text()
    refused = await mail_hub.post(path, json={"score": 4, "comment": "x" * 2001})
    assert refused.status == 400 and (await refused.json())["error"] == "too_long"
    refused = await mail_hub.post(path, data=b"score=4", headers={"Content-Type": "text/plain"})
    assert refused.status == 415 and (await refused.json())["error"] == "unsupported_media_type"
    unknown = await mail_hub.get("/csat/not-a-real-token", headers={"Accept": "application/json"})
    assert unknown.status == 404 and (await unknown.json())["error"] == "not_found"

    rated = await mail_hub.post(path, data={"score": "4", "comment": "Quick, <b>but</b> the PDF was blurry"})
    assert rated.status == 200 and "Thank you for your feedback!" in await rated.text()
    detail = await conversation(agent, conversation_id)
    assert detail["conversation"]["status"] == "resolved"
    _, record = await agent.get(f"/api/customers/{customer_id}/record")
    assert record["customer"]["csat"]["last"]["comment"] == "Quick, <b>but</b> the PDF was blurry"
    again = await mail_hub.get(path)
    assert 'value="4" checked' in await again.text() and "&lt;b&gt;but&lt;/b&gt;" in await again.text()
    mails = len(smtp_sink.received)
    await until(lambda: _settled(agent, conversation_id))
    assert len(smtp_sink.received) == mails  # the page thanked them; no thank-you mail follows


async def _settled(agent: AgentSession, conversation_id: int) -> bool:
    detail = await conversation(agent, conversation_id)
    return all(m["delivery_status"] != "pending" for m in detail["messages"])


# ---------------------------------------------------------------------------------------------- time


class Clock:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def test_after_the_answer_window_a_number_is_an_ordinary_message(
    aiohttp_client: Any, settings: Settings, login_as_on: Any
) -> None:
    from hub.app import create_app

    clock = Clock()
    hub = await aiohttp_client(create_app(settings, clock=clock))
    agent = await staff(hub, login_as_on(hub), Role.AGENT)
    first = await customer_writes(hub, "webchat", "visitor-late", "Is the shop open on Sunday?", "w-late-1")
    await serve_and_resolve(agent, first.conversation_id, "Yes, 10:00 to 16:00.")
    detail = await until(lambda: _with_question(agent, first.conversation_id))
    assert detail["conversation"]["status"] == "resolved"
    async with hub.app[DATABASE].read() as conn:
        token = (await conn.execute(select(CsatRequest.__table__.c.token))).scalar_one()
    token_path = f"/csat/{token}"

    clock.offset = timedelta(hours=73)  # KEFU_CSAT_ANSWER_HOURS defaults to 72
    expired = await hub.get(token_path)
    assert expired.status == 410 and "This rating link has expired." in await expired.text()
    expired = await hub.post(token_path, json={"score": 5})
    assert expired.status == 410 and (await expired.json())["error"] == "rating_expired"
    late = await customer_writes(hub, "webchat", "visitor-late", "5", "w-late-2")
    assert late.conversation_id != first.conversation_id  # past the reopen window too: a new conversation
    # (the agent's session has expired by now; read the conversation directly)
    assert (await hub.app[QUERIES].conversation(first.conversation_id))["status"] == "resolved"


async def _with_question(agent: AgentSession, conversation_id: int) -> dict[str, Any] | None:
    detail = await conversation(agent, conversation_id)
    return detail if any(m["author"] == "system" for m in detail["messages"]) else None
