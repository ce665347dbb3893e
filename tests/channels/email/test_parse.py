"""Real-world mail, as customers' clients write it, becomes the message the hub and the bot should see."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from channels.base import DeliveryStatus, InboundMessage
from channels.email.ids import SYNTHETIC_DOMAIN
from channels.email.parse import MalformedEmail, OwnEmail, classify_email, malformed_to_inbound, parse_email
from channels.email.reports import DeliveryReport
from tests.channels.email.conftest import FIXTURES, fixture


def inbound(name: str, **options: object) -> InboundMessage:
    parsed = classify_email(fixture(name), **options)  # type: ignore[arg-type]
    assert isinstance(parsed, InboundMessage), parsed
    return parsed


def test_foxmail_gbk_reply_reads_in_chinese_and_threads_to_the_conversation() -> None:
    message = inbound("gbk_foxmail_reply.eml")
    assert message.sender == "lina@qq.example"
    assert message.sender_name == "李娜"
    assert message.text.startswith("您好，\n\n我在贵店买的电饭煲（订单号 20240312-8841）收到时内胆有划痕")
    assert message.text.endswith("谢谢！\n李娜")
    assert "原始邮件" not in message.text
    assert "您的订单已经发货" in message.metadata["full_text"]
    assert message.external_id == "tencent_5F3E8A1B2C@qq.example"
    assert message.thread is not None
    assert message.thread.subject == "回复：您的订单已发货 [#4821]"
    assert message.thread.conversation_tag == 4821
    assert message.thread.in_reply_to == "kefu.4821.77.a1b2c3@kefu.example"
    assert message.thread.references == ("kefu.4821.70.ffee00@kefu.example", "kefu.4821.77.a1b2c3@kefu.example")
    assert message.automated is False


def test_gbk_characters_in_mail_labelled_gb2312_are_not_lost() -> None:
    message = inbound("gb2312_mislabelled_gbk.eml")
    assert message.sender_name == "陶喆"
    assert message.text == "朱镕基路 88 号的陶喆先生说快递一直没有送到，麻烦查一下物流。"
    assert message.metadata["subject"] == "快递没有送到"


def test_big5_quoted_printable_mail_from_hong_kong() -> None:
    message = inbound("big5_quoted_printable.eml")
    assert message.sender_name == "陳大文"
    assert message.metadata["subject"] == "無法登入帳號"
    assert "我的會員帳號無法登入，系統一直顯示「密碼錯誤」。" in message.text


def test_gb18030_four_byte_characters_and_emoji_survive() -> None:
    message = inbound("gb18030_alternative.eml")
    assert message.text == "发票抬头写错了：应为「𠀾鑫科技有限公司」😀，请重开。"
    assert message.html is not None and "𠀾鑫科技" in message.html
    assert message.metadata["subject"] == "发票抬头错误"


def test_utf8_body_labelled_gb2312_and_a_raw_gbk_subject_both_read_correctly() -> None:
    message = inbound("utf8_labelled_gb2312.eml")
    assert message.text == "我上周申请的退款到现在还没有到账，请问进度如何？"
    assert message.metadata["subject"] == "退款进度查询"


def test_html_only_outlook_mail_becomes_readable_text_without_the_quoted_original() -> None:
    message = inbound("html_only_outlook.eml")
    assert message.text == (
        "Hi team,\n\nTwo things about invoice #A-77:\n\n1. The VAT line is missing\n"
        '2. The address should be "12 Main St" & not <empty>\n\n'
        "See the invoice (https://portal.acme.example/inv/A-77).\nThanks,\nBob"
    )
    assert "Could you tell us which invoice?" in message.metadata["full_text"]
    assert message.html is not None and "MsoNormal" in message.html
    assert message.thread is not None and message.thread.conversation_tag == 311


def test_gmail_reply_keeps_only_the_new_words_for_the_bot() -> None:
    message = inbound("gmail_reply_quoted.eml")
    assert message.text == "Yes, the serial number is KT-2291. It still leaks from the bottom."
    assert "> Could you send us the serial number" in message.metadata["full_text"]
    assert message.thread is not None
    assert message.thread.references == ("CAB+first@mail.gmail.example", "kefu.1207.5012.0a0b0c@kefu.example")


def test_chinese_gmail_flowed_reply_is_unwrapped_and_its_quote_cut() -> None:
    message = inbound("gmail_zh_reply_flowed.eml")
    assert message.text == "这是一段很长的话，客户端把它折成了 两行，但其实是一段。"
    assert "请提供订单号" in message.metadata["full_text"]


def test_apple_mail_chinese_html_reply_drops_the_cited_blockquote() -> None:
    message = inbound("apple_mail_zh_html.eml")
    assert message.sender_name == "赵一"
    assert message.text == "新地址是：上海市浦东新区世纪大道 100 号。"
    assert "请告诉我们新的收货地址" in message.metadata["full_text"]
    assert message.thread is not None and message.thread.conversation_tag == 900


def test_forwarded_mail_keeps_the_forwarded_content_the_customer_wants_us_to_read() -> None:
    message = inbound("forwarded_inline.eml")
    assert message.text.startswith("This says shipped but nothing arrived.")
    assert "tracking SF1234567890" in message.text
    assert "full_text" not in message.metadata


def test_attachments_are_kept_with_decoded_names_and_big_ones_recorded_without_data() -> None:
    message = inbound("attachments_mixed.eml", max_attachment_bytes=50_000)
    assert message.text == "See the photo and the invoice."
    by_name = {a.filename: a for a in message.attachments}
    assert set(by_name) == {"lid.png", "发票.pdf", "保修卡.txt", "all-photos.zip", "Order confirmation.eml"}
    assert by_name["lid.png"].content_type == "image/png" and by_name["lid.png"].data is not None
    assert by_name["发票.pdf"].data is not None and by_name["发票.pdf"].data.startswith(b"%PDF-1.4")
    assert by_name["保修卡.txt"].data == "保修期两年".encode("gbk")
    zipped = by_name["all-photos.zip"]  # "../../etc/" was stripped from the name
    assert zipped.data is None and zipped.size == 51_200
    assert message.metadata["oversize_attachments"] == [
        {"filename": "all-photos.zip", "content_type": "application/zip", "size": 51_200}
    ]
    forwarded = by_name["Order confirmation.eml"]
    assert forwarded.content_type == "message/rfc822"
    assert forwarded.data is not None and b"Message-ID: <inner-1@shop.example>" in forwarded.data
    assert "Thanks for your order" not in message.text


def test_attachment_limit_is_the_callers_choice() -> None:
    message = inbound("attachments_mixed.eml", max_attachment_bytes=60_000)
    assert all(a.data is not None for a in message.attachments)
    assert "oversize_attachments" not in message.metadata


def test_postfix_bounce_becomes_a_failed_delivery_for_our_original_message() -> None:
    report = classify_email(fixture("bounce_postfix_dsn.eml"))
    assert isinstance(report, DeliveryReport)
    assert report.action == "failed"
    assert report.original_message_id == "kefu.77.1500.c0ffee@kefu.example"
    assert report.kefu_message == "1500; conversation=77"
    assert report.recipient == "nobody@nowhere.example"
    assert report.status == "5.1.1"
    update = report.to_update()
    assert update is not None
    assert update.external_id == "kefu.77.1500.c0ffee@kefu.example"
    assert update.status is DeliveryStatus.FAILED
    assert update.error is not None and "5.1.1" in update.error and "User unknown" in update.error


def test_chinese_bounce_without_dsn_still_finds_the_original_message_id() -> None:
    report = classify_email(fixture("bounce_plain_chinese.eml"))
    assert isinstance(report, DeliveryReport)
    assert report.original_message_id == "kefu.90.1777.beef01@kefu.example"
    assert report.status == "5.1.1"
    update = report.to_update()
    assert update is not None and update.status is DeliveryStatus.FAILED


def test_read_receipt_marks_our_message_read() -> None:
    report = classify_email(fixture("read_receipt_mdn.eml"))
    assert isinstance(report, DeliveryReport)
    update = report.to_update()
    assert update is not None
    assert (update.external_id, update.status) == ("kefu.9.44.abcabc@kefu.example", DeliveryStatus.READ)


def test_out_of_office_and_chinese_auto_replies_are_flagged_automated() -> None:
    oof = inbound("out_of_office_exchange.eml")
    assert oof.automated and oof.metadata["automated_reason"] == "auto-submitted: auto-replied"
    assert oof.thread is not None and oof.thread.conversation_tag == 52
    qq = inbound("autoreply_qq.eml")
    assert qq.automated and qq.metadata["automated_reason"] == "x-autoreply"
    assert qq.text == "您好，邮件已收到，我会尽快回复。"


def test_newsletters_are_automated_mail() -> None:
    message = inbound("newsletter_bulk.eml")
    assert message.automated
    assert message.metadata["automated_reason"] == "precedence: bulk"
    assert message.metadata["list_id"] == "Deals <deals.example>"


def test_a_person_writing_is_not_automated() -> None:
    for name in ("gbk_foxmail_reply.eml", "gmail_reply_quoted.eml", "html_only_outlook.eml"):
        assert inbound(name).automated is False, name


def test_our_own_mail_coming_back_is_recognised_and_not_ingested() -> None:
    parsed = classify_email(fixture("kefu_echo.eml"))
    assert parsed == OwnEmail(kefu_message="44; conversation=9", external_id="kefu.9.44.abcabc@kefu.example")


def test_mail_without_message_id_gets_a_stable_synthetic_id() -> None:
    first = inbound("no_message_id.eml")
    again = classify_email(b"Received: from relay.example by mx; Mon, 1 Apr 2024\r\n" + fixture("no_message_id.eml"))
    assert first.external_id.endswith("@" + SYNTHETIC_DOMAIN)
    assert isinstance(again, InboundMessage) and again.external_id == first.external_id
    other = classify_email(fixture("no_message_id.eml").replace(b"returns", b"refunds"))
    assert isinstance(other, InboundMessage) and other.external_id != first.external_id
    assert first.metadata["reply_to"] == ["grace@example.com"]


def test_multipart_without_boundary_is_kept_as_malformed_with_its_raw_bytes() -> None:
    raw = fixture("malformed_no_boundary.eml")
    parsed = classify_email(raw)
    assert isinstance(parsed, MalformedEmail)
    assert parsed.raw == raw
    assert "NoBoundaryInMultipartDefect" in parsed.error
    assert parsed.sender == "frank@example.com"
    assert "My printer does not work." in parsed.salvaged_text
    message = malformed_to_inbound(parsed)
    assert message is not None
    assert message.sender == "frank@example.com"
    assert message.metadata["malformed"] == parsed.error
    assert message.attachments[0].filename == "original.eml" and message.attachments[0].data == raw
    assert message.text.startswith("My printer does not work.")


def test_bytes_that_are_not_mail_are_malformed_and_need_an_envelope_sender_to_be_delivered() -> None:
    raw = fixture("malformed_garbage.eml")
    parsed = classify_email(raw)
    assert isinstance(parsed, MalformedEmail)
    assert parsed.error == "no mail headers" and parsed.raw == raw
    assert malformed_to_inbound(parsed) is None
    with_envelope = classify_email(raw, envelope_sender="Someone@Example.com")
    assert isinstance(with_envelope, MalformedEmail)
    message = malformed_to_inbound(with_envelope)
    assert message is not None and message.sender == "someone@example.com"


def test_envelope_details_and_mailbox_are_recorded() -> None:
    parsed = parse_email(fixture("gbk_foxmail_reply.eml"), envelope_sender="Lina@QQ.example",
                         envelope_recipients=("Support@kefu.example",))
    assert isinstance(parsed, InboundMessage)
    assert parsed.metadata["envelope_from"] == "lina@qq.example"
    assert parsed.metadata["envelope_to"] == ["support@kefu.example"]
    assert parsed.metadata["date"] == "2024-03-12T10:02:05+08:00"


def test_parse_email_ignores_report_detection_for_callers_that_want_the_text() -> None:
    parsed = parse_email(fixture("bounce_postfix_dsn.eml"))
    assert isinstance(parsed, InboundMessage)
    assert parsed.automated
    assert "could not\nbe delivered" in parsed.text


@given(
    name=st.sampled_from(sorted(p.name for p in FIXTURES.glob("*.eml"))),
    cut=st.floats(min_value=0.0, max_value=1.0),
    flips=st.lists(st.tuples(st.floats(min_value=0.0, max_value=0.999), st.integers(0, 255)), max_size=8),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_mail_however_damaged_makes_the_parser_raise(name: str, cut: float, flips: list[tuple[float, int]]) -> None:
    raw = bytearray(fixture(name))
    for where, value in flips:
        raw[int(where * len(raw))] = value
    damaged = bytes(raw[: max(1, int(cut * len(raw)))])
    parsed = classify_email(damaged, envelope_sender="mta@example.com")
    assert isinstance(parsed, InboundMessage | DeliveryReport | OwnEmail | MalformedEmail)
    if isinstance(parsed, MalformedEmail):
        assert parsed.raw == damaged


def test_an_empty_plain_alternative_falls_back_to_the_html() -> None:
    raw = (
        "From: shop-app@example.com\r\nTo: support@kefu.example\r\nSubject: app feedback\r\n"
        "Message-ID: <app-1@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=A\r\n\r\n"
        "--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n \r\n"
        "--A\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>APP 闪退了，iOS 17。</div>\r\n--A--\r\n"
    ).encode()
    parsed = classify_email(raw)
    assert isinstance(parsed, InboundMessage) and parsed.text == "APP 闪退了，iOS 17。"
