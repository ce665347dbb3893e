"""Replies leave as email that the customer's client threads under their own message."""
from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

from channels.base import Attachment, Button, InboundMessage, OutboundMessage, ThreadHint
from channels.email.compose import ComposeSettings, compose_email, outbound_message_id, reply_subject
from channels.email.parse import OwnEmail, classify_email

SETTINGS = ComposeSettings(from_address="support@kefu.example", domain="kefu.example", from_name="客服中心")


def reply(**changes: object) -> OutboundMessage:
    fields: dict[str, object] = dict(
        message_id=1500, conversation_id=4821, channel="email", recipient="lina@qq.example",
        text="您好，已经为您安排换货，新的电饭煲明天发出。",
        thread=ThreadHint(subject="回复：您的订单已发货 [#4821]", message_id="tencent_5F3E8A1B2C@qq.example",
                          in_reply_to="tencent_5F3E8A1B2C@qq.example",
                          references=("kefu.4821.70.ffee00@kefu.example", "kefu.4821.77.a1b2c3@kefu.example"),
                          conversation_tag=4821),
    )
    fields.update(changes)
    return OutboundMessage(**fields)  # type: ignore[arg-type]


def test_reply_threads_under_the_customers_mail_in_their_client() -> None:
    email = compose_email(reply(), SETTINGS, now=datetime(2024, 3, 12, 3, 0, tzinfo=UTC))
    parsed = message_from_bytes(email.as_bytes(), policy=default)
    assert parsed["In-Reply-To"] == "<tencent_5F3E8A1B2C@qq.example>"
    assert parsed["References"].split() == [
        "<kefu.4821.70.ffee00@kefu.example>", "<kefu.4821.77.a1b2c3@kefu.example>", "<tencent_5F3E8A1B2C@qq.example>",
    ]
    assert parsed["Message-ID"] == f"<{outbound_message_id(reply(), 'kefu.example')}>"
    assert parsed["Message-ID"].endswith("@kefu.example>")
    assert str(parsed["Subject"]) == "回复：您的订单已发货 [#4821]"
    assert str(parsed["From"]) == "客服中心 <support@kefu.example>"
    assert parsed["To"] == "lina@qq.example"
    assert parsed["Date"] == "Tue, 12 Mar 2024 03:00:00 +0000"
    assert parsed["X-Kefu-Message"] == "1500; conversation=4821"
    assert parsed["Auto-Submitted"] is None
    assert parsed.get_content().strip() == "您好，已经为您安排换货，新的电饭煲明天发出。"
    assert email.as_bytes().isascii()  # 7-bit transfer encodings reach servers without 8BITMIME


def test_the_same_stored_reply_keeps_its_message_id_across_retries() -> None:
    first = compose_email(reply(), SETTINGS)["Message-ID"]
    again = compose_email(reply(), SETTINGS)["Message-ID"]
    other = compose_email(reply(message_id=1501), SETTINGS)["Message-ID"]
    assert first == again != other


def test_a_bot_answer_says_it_is_automatic_so_other_robots_stay_quiet() -> None:
    email = compose_email(reply(metadata={"automated": True}), SETTINGS)
    assert email["Auto-Submitted"] == "auto-replied"
    assert email["X-Auto-Response-Suppress"] == "OOF, AutoReply"


def test_subjects_get_re_and_exactly_one_tag() -> None:
    untagged = reply(thread=ThreadHint(subject="Where is my order?", in_reply_to="a@b"))
    assert reply_subject(untagged, "x") == "Re: Where is my order? [#4821]"
    retagged = reply(thread=ThreadHint(subject="Re: Where is my order? [#4821]", in_reply_to="a@b"))
    assert reply_subject(retagged, "x") == "Re: Where is my order? [#4821]"
    fresh = reply(thread=None, metadata={})
    assert reply_subject(fresh, "Your support request") == "Your support request [#4821]"


def test_html_reply_carries_a_plain_text_alternative_and_attachments() -> None:
    message = reply(
        html="<p>您好，<b>已经安排换货</b>。</p>",
        attachments=(
            Attachment("换货单.pdf", "application/pdf", 9, data=b"%PDF-1.4\n"),
            Attachment("manual.pdf", "application/pdf", 0, url="https://kefu.example/files/manual.pdf"),
        ),
    )
    parsed = message_from_bytes(compose_email(message, SETTINGS).as_bytes(), policy=default)
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None and "manual.pdf: https://kefu.example/files/manual.pdf" in body.get_content()
    html = parsed.get_body(preferencelist=("html",))
    assert html is not None and "<b>已经安排换货</b>" in html.get_content()
    files = [(part.get_filename(), part.get_content()) for part in parsed.iter_attachments()]
    assert files == [("换货单.pdf", b"%PDF-1.4\n")]


def test_buttons_in_a_reply_are_left_to_render_for_and_compose_never_invents_them() -> None:
    email = compose_email(reply(buttons=(Button("Yes", "yes"),)), SETTINGS)
    assert "Yes" not in email.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_what_we_send_comes_back_recognised_as_our_own() -> None:
    raw = compose_email(reply(), SETTINGS).as_bytes()
    assert classify_email(raw) == OwnEmail(
        kefu_message="1500; conversation=4821", external_id=outbound_message_id(reply(), "kefu.example"),
    )


def test_the_customers_answer_to_our_mail_threads_back_to_the_conversation() -> None:
    sent = compose_email(reply(), SETTINGS)
    answer = (
        "From: 李娜 <lina@qq.example>\r\nTo: support@kefu.example\r\n"
        f"Subject: 回复：{sent['Subject']}\r\nMessage-ID: <answer-1@qq.example>\r\n"
        f"In-Reply-To: {sent['Message-ID']}\r\nReferences: {sent['References']} {sent['Message-ID']}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n好的，谢谢！\r\n"
    ).encode()
    parsed = classify_email(answer)
    assert isinstance(parsed, InboundMessage)
    assert parsed.thread is not None
    assert parsed.thread.in_reply_to == outbound_message_id(reply(), "kefu.example")
    assert parsed.thread.conversation_tag == 4821
    assert parsed.thread.references[-1] == outbound_message_id(reply(), "kefu.example")
