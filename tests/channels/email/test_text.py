"""Charsets, encoded words, HTML and quoted history: the pieces that turn mail into words."""
from __future__ import annotations

import base64
from email.header import Header

from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email.charsets import decode_bytes, decode_header_value
from channels.email.html_text import html_to_text
from channels.email.quotes import split_quoted

ANY_HANZI = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=40)
GB2312_LEVEL1 = [bytes([hi, lo]).decode("gb2312") for hi in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF)
                 if (hi, lo) < (0xD7, 0xFA)]
COMMON_HANZI = st.text(alphabet=st.sampled_from(GB2312_LEVEL1), min_size=1, max_size=40)


@given(ANY_HANZI)
@settings(max_examples=300, deadline=None)
def test_any_hanzi_round_trips_under_gbk_gb18030_and_utf8_labels(text: str) -> None:
    for codec, label in (("gbk", "GBK"), ("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8", None)):
        assert decode_bytes(text.encode(codec), label) == text


@given(COMMON_HANZI)
@settings(max_examples=300, deadline=None)
def test_everyday_chinese_round_trips_under_the_gb2312_label_and_as_mislabelled_utf8(text: str) -> None:
    assert decode_bytes(text.encode("gb2312"), "gb2312") == text
    assert decode_bytes(text.encode("gb2312"), None) == text or len(text) < 4
    assert decode_bytes(text.encode("utf-8"), "gb2312") == text


@given(st.text(max_size=60))
@settings(max_examples=80, deadline=None)
def test_any_utf8_text_decodes_back_even_under_a_wrong_label(text: str) -> None:
    assert decode_bytes(text.encode("utf-8"), "iso-8859-1") == text or len(
        [c for c in text if ord(c) > 0x7F]
    ) < 2


def test_big5_mail_mislabelled_as_gb2312_is_read_as_big5() -> None:
    text = "您好，我的訂單還沒有發貨，請幫忙查一下。"
    assert decode_bytes(text.encode("big5"), "gb2312") == text
    assert decode_bytes(text.encode("big5"), None) == text


def test_unknown_and_missing_labels_fall_back_sensibly() -> None:
    assert decode_bytes("订单".encode("gbk"), "x-unknown") == "订单"
    assert decode_bytes("café crème".encode("cp1252"), None) == "café crème"
    assert decode_bytes("“smart quotes”".encode("cp1252"), "iso-8859-1") == "“smart quotes”"
    assert decode_bytes(b"\xff\xfe\xfd", "utf-8")  # never raises


def test_encoded_words_in_any_charset_and_raw_8bit_headers() -> None:
    assert decode_header_value(Header("关于订单 12345 的问题", "gbk").encode()) == "关于订单 12345 的问题"
    assert decode_header_value("Re: =?UTF-8?B?5L2g5aW9?= world") == "Re: 你好 world"
    split_char = "订单查询".encode("gbk")
    halves = [base64.b64encode(split_char[:3]).decode(), base64.b64encode(split_char[3:]).decode()]
    assert decode_header_value(f"=?GBK?B?{halves[0]}?=\r\n =?GBK?B?{halves[1]}?=") == "订单查询"
    raw = "测试主题".encode("gbk").decode("ascii", "surrogateescape")
    assert decode_header_value(raw) == "测试主题"
    assert decode_header_value("=?gb2312?B?broken") == "=?gb2312?B?broken"


def test_html_becomes_lines_lists_links_and_quotes() -> None:
    html = (
        "<html><head><style>p{}</style><script>x()</script></head><body><p>您好，</p>"
        "<p>订单&nbsp;<b>#12</b> &amp; 发票<br>谢谢</p><ul><li>one</li><li>two</li></ul>"
        '<a href="https://kefu.example/t/1">工单</a>'
        "<blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote><p>after</p></body></html>"
    )
    assert html_to_text(html) == (
        "您好，\n\n订单 #12 & 发票\n谢谢\n\n- one\n- two\n\n工单 (https://kefu.example/t/1)\n\n"
        "> quoted\n>\n> > deeper\n\nafter"
    )


def test_quoted_history_is_cut_for_common_clients() -> None:
    qq = ("好的，收到了。\n\n------------------ 原始邮件 ------------------\n发件人: \"客服\"<s@x.cn>;\n"
          "发送时间: 2024年1月2日(星期二) 上午10:00\n收件人: <z@qq.com>;\n主题: 订单\n\n请提供订单号。")
    assert split_quoted(qq)[0] == "好的，收到了。"
    outlook = (
        "Order 5.\n\n________________________________\nFrom: Kefu <s@x>\nSent: Tuesday\nTo: Bob\nSubject: RE\n\nWhich?"
    )
    assert split_quoted(outlook) == ("Order 5.", outlook[len("Order 5.\n\n"):])
    apple_zh = "可以。\n\n在 2024年3月28日，下午8:00，Kefu <s@x> 写道：\n\n> 请确认。"
    assert split_quoted(apple_zh)[0] == "可以。"
    signature = "Thanks\n-- \nBob, ACME Corp"
    assert split_quoted(signature) == ("Thanks", "-- \nBob, ACME Corp")


def test_text_that_only_looks_like_headers_is_kept() -> None:
    shipping = "Please ship it:\nFrom: Beijing\nTo: Shanghai\nThanks"
    assert split_quoted(shipping) == (shipping, "")
    only_quote = "> everything is quoted\n> here"
    assert split_quoted(only_quote) == (only_quote, "")
