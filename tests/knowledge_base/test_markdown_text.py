"""What gets indexed and shown in snippets is the text a reader sees, not the markup."""
from __future__ import annotations

from knowledge_base.markdown_text import markdown_to_text


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
