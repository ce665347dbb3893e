"""Markdown to the plain text that is indexed and cut into snippets."""
from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

# markdown-it-py finds the blocks (headings, lists, tables, code). Its inline pass builds a token
# per word and mark and was over half the cost of indexing an article, so inline markup is
# stripped by the small pass below instead: plain text needs the words, not the structure.
# Parsing keeps no state in the instance, so one parser serves every thread.
_PARSER = MarkdownIt("commonmark").enable("table").disable("inline")

_INLINE = re.compile(
    r"""
      (?P<ticks>`+)(?P<code>.+?)(?P=ticks)                     # code span: its text, verbatim
    | !\[(?P<alt>[^\]]*)\]\((?:[^()]|\([^()]*\))*\)            # image: its alt text
    | \[(?P<label>[^\]]*)\](?:\((?:[^()]|\([^()]*\))*\)|\[[^\]]*\])  # link: its words, no URL
    | <(?P<autolink>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\s]*|[^<>\s@]+@[^<>\s]+)>  # <https://…>
    | </?[A-Za-z][^<>]*>                                       # inline HTML tag: dropped
    | \\(?P<escaped>[!-/:-@\[-`{-~])                           # backslash escape: the character
    """,
    re.VERBOSE | re.DOTALL,
)
# Emphasis marks: '*' and '~~' unless they stand alone between spaces (5 * 3), '_' unless it is
# inside a word (snake_case), as CommonMark decides who may open or close emphasis.
_EMPHASIS = re.compile(r"(?<!\s)\*+|\*+(?!\s)|(?<![^\W_])_+|_+(?![^\W_])|(?<!\s)~~|~~(?!\s)")
_TAG = re.compile(r"<[^>]*>")
# A line that could start anything but a paragraph: heading, quote, list, rule, setext line,
# fence, HTML, table delimiter, link definition, indented code.
_BLOCK_START = re.compile(r"^(?: {0,3}(?:[#>*+\-=_|:<\[`~]|\d{1,9}[.)])| {4}| {0,3}\t)", re.M)


def markdown_to_text(markdown: str) -> str:
    """One line per paragraph, heading, list item, table row or code line; no markup, no URLs."""
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    if _BLOCK_START.search(markdown):
        return _parsed_text(markdown)
    # Only paragraphs (typical of answers imported from spreadsheets): split them ourselves.
    paragraphs: list[list[str]] = [[]]
    for line in markdown.split("\n"):
        if line.strip(" \t"):
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    texts = (inline_text("\n".join(paragraph).strip()) for paragraph in paragraphs)
    return "\n".join(clean for text in texts if (clean := " ".join(text.split())))


def _parsed_text(markdown: str) -> str:
    """markdown_to_text for any Markdown, with the blocks found by markdown-it-py."""
    lines: list[str] = []
    row: list[str] | None = None
    for token in _PARSER.parse(markdown):
        kind = token.type
        if kind == "inline":
            text = inline_text(token.content)
            if row is None:
                lines.append(text)
            else:
                row.append(text)
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            lines.append(" ".join(row))
            row = None
        elif kind in ("fence", "code_block"):
            lines.extend(token.content.split("\n"))
        elif kind == "html_block":
            lines.extend(html.unescape(_TAG.sub(" ", token.content)).split("\n"))
    return "\n".join(clean for line in lines if (clean := " ".join(line.split())))


def inline_text(content: str) -> str:
    """The words of one paragraph's inline Markdown: marks, URLs and tags gone, code kept."""
    parts: list[str] = []
    position = 0
    for found in _INLINE.finditer(content):
        parts.append(_unmarked(content[position : found.start()]))
        if found.group("code") is not None:
            parts.append(found.group("code"))
        elif found.group("alt") is not None:
            parts.append(_unmarked(found.group("alt")))
        elif found.group("label") is not None:
            parts.append(inline_text(found.group("label")))
        elif found.group("autolink") is not None:
            parts.append(found.group("autolink"))
        elif found.group("escaped") is not None:
            parts.append(found.group("escaped"))
        else:
            parts.append(" ")
        position = found.end()
    parts.append(_unmarked(content[position:]))
    return "".join(parts)


def _unmarked(text: str) -> str:
    """Plain text with emphasis marks removed and entities decoded."""
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS.sub("", text)
    return html.unescape(text) if "&" in text else text
