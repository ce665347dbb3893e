"""Markdown to the plain text that is indexed and cut into snippets."""
from __future__ import annotations

import html
import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Parsing keeps no state in the instance, so one parser serves every thread.
_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")
_TAG = re.compile(r"<[^>]*>")


def markdown_to_text(markdown: str) -> str:
    """One line per paragraph, heading, list item, table row or code line; no markup, no URLs."""
    lines: list[str] = []
    row: list[str] | None = None
    for token in _PARSER.parse(markdown):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            lines.append(" ".join(cell for cell in row if cell))
            row = None
        elif token.type == "inline":
            text = _inline_text(token.children or ())
            if row is not None:
                row.append(_clean(text))
            else:
                lines.append(text)
        elif token.type in ("fence", "code_block"):
            lines.extend(token.content.split("\n"))
        elif token.type == "html_block":
            lines.extend(html.unescape(_TAG.sub(" ", token.content)).split("\n"))
    return "\n".join(clean for line in lines if (clean := _clean(line)))


def _inline_text(children: Sequence[Token]) -> str:
    """The readable text of an inline run: words, code and image alt text, without markup."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "image"):
            # An image's content is its alt text, which is all a reader of plain text gets.
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak", "html_inline"):
            parts.append(" ")
    return "".join(parts)


def _clean(line: str) -> str:
    """The line with runs of spaces folded to one and no spaces at either end."""
    return _SPACES.sub(" ", line).strip()
