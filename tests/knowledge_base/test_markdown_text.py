"""What gets indexed and shown in snippets is the text a reader sees, not the markup."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge_base.markdown_text import _parsed_text, markdown_to_text


def test_markup_links_and_images_are_reduced_to_their_words() -> None:
    source = (
        "# 如何**退款**\n\n"
        "Open [your orders](https://shop.example/orders) &amp; click ![the red button](b.png).\n"
        "Then `confirm`.\n"
    )
    assert markdown_to_text(source) == (
        "如何退款\nOpen your orders & click the red button. Then confirm."
    )


def test_lists_tables_and_code_keep_one_line_each() -> None:
    source = (
        "- first step\n- second step\n\n"
        "| plan | price |\n|---|---|\n| Basic | 10 |\n\n"
        "```\nkefu --help\n```\n"
    )
    assert markdown_to_text(source).split("\n") == [
        "first step", "second step", "plan price", "Basic 10", "kefu --help",
    ]


def test_html_is_stripped_to_its_text() -> None:
    assert markdown_to_text("<div class='note'>Call <b>400-800</b></div>\n") == "Call 400-800"


def test_empty_markdown_gives_empty_text() -> None:
    assert markdown_to_text("") == ""
    assert markdown_to_text("\n\n   \n") == ""


def _markdown_it_inline_text(source: str) -> list[str]:
    """The words markdown-it-py's full inline parser sees in each paragraph (the reference)."""
    from markdown_it import MarkdownIt

    lines = []
    for token in MarkdownIt("commonmark").parse(source):
        if token.type == "inline":
            parts = []
            for child in token.children or ():
                if child.type in ("text", "code_inline", "image"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak", "html_inline"):
                    parts.append(" ")
            lines.append(" ".join("".join(parts).split()))
    return lines


EVERYDAY_MARKDOWN = [
    "# 如何**退款**\n\nText [link *x*](http://a) &amp; `co*de*` <br>hi  \nnext",
    "snake_case_name and __init__ and 5 * 3 and 2*3*4",
    "Call <https://example.com/a_b> or <help@example.com>. \\*not emphasis\\*",
    "[ref link][r] [plain brackets] [x](http://a/(b)) ![logo](x.png \"title\")\n\n[r]: http://r",
    "点击“申请退款”，**我的订单**→_订单详情_。",
    "- [x] done\n- [ ] todo\n\n> quoted *text*\n\n1) one\n2) two",
    "Use ``a ` b`` or `x`; press **Ctrl**+**C**; *nested **strong** text*.",
]


def test_the_quick_inline_pass_agrees_with_markdown_it_on_everyday_markdown() -> None:
    for source in EVERYDAY_MARKDOWN:
        assert markdown_to_text(source).split("\n") == _markdown_it_inline_text(source), source


def test_a_plain_spreadsheet_answer_reads_the_same_as_through_the_parser() -> None:
    answer = "您好！\r\n退款会在 3 个工作日内**原路退回**。\r\n\r\n如有疑问请联系客服 &amp; 售后。"
    assert markdown_to_text(answer).split("\n") == [
        "您好！ 退款会在 3 个工作日内原路退回。", "如有疑问请联系客服 & 售后。"]
    assert markdown_to_text(answer) == _parsed_text(answer)


def test_headings_and_flat_lists_read_the_same_as_through_the_parser() -> None:
    article = (
        "## 申请步骤\n\n步骤如下：\n1. 打开 **我的订单**\n2. 点击[申请退款](https://x)\n"
        "继续填写原因\n\n- Card: 3 days\n* PayPal: *instant*\n\n# Done #\n"
    )
    assert markdown_to_text(article) == _parsed_text(article)
    assert markdown_to_text(article).split("\n")[:4] == [
        "申请步骤", "步骤如下：", "打开 我的订单", "点击申请退款 继续填写原因"]


# Articles of paragraphs, headings and flat lists skip markdown-it-py's block parser; whatever
# the text, both ways must agree (170,000 generated cases agreed while this was written).
_MARKDOWN_PIECES = st.sampled_from([
    *"ab 退款\n\t*_`[]()<>!#&;\\-+=|:~1.)\u3000\r\0", "&amp;", "http://x", "  ", "    ",
    "\n\n", "# ", "## ", "####### ", "- ", "* ", "+ ", "1. ", "1) ", "2. ", "10. ", "01. ",
    "---", "***", "-     ",
])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_MARKDOWN_PIECES, max_size=40).map("".join), st.text(max_size=60)))
def test_the_shortcut_for_simple_articles_never_changes_the_result(source: str) -> None:
    assert markdown_to_text(source) == _parsed_text(source)
