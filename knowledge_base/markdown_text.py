"""Markdown to the plain text that is indexed and cut into snippets."""
from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

# markdown-it-py finds the blocks (headings, lists, tables, code). Its inline pass builds a token
# per word and mark and was over half the cost of indexing an article, so inline markup is
# stripped by the small pass below instead: plain text needs the words, not the structure.
# Articles made only of paragraphs, headings and flat lists (most of them) skip the parser too;
# property tests hold that shortcut to the parser's result. Parsing keeps no state in the
# instance, so one parser serves every thread.
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
_BLOCK_START = re.compile(r"^(?: {0,3}(?:[#>*+\-=_|:<\[`~]|\d{1,9}[.)])| {4}| {0,3}\t)")
_HEADING = re.compile(r"#{1,6} +(?P<text>\S.*)")
# Five spaces after a list marker would start indented code inside the item.
_BULLET = re.compile(r"[-*+] {1,4}(?P<text>\S.*)")
_ORDERED = re.compile(r"(?P<number>\d{1,9})(?P<delimiter>[.)]) {1,4}(?P<text>\S.*)")
_RULE = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")


def markdown_to_text(markdown: str) -> str:
    """One line per paragraph, heading, list item, table row or code line; no markup, no URLs."""
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    blocks = _simple_blocks(markdown)
    if blocks is None:
        return _parsed_text(markdown)
    texts = (inline_text("\n".join(lines).strip()) for lines in blocks)
    return "\n".join(clean for text in texts if (clean := " ".join(text.split())))


def _simple_blocks(markdown: str) -> list[list[str]] | None:
    """The text lines of each block if there are only paragraphs, headings and flat list items.

    None when anything else, or anything CommonMark reads in a surprising way, shows up.
    """
    blocks: list[list[str]] = []
    previous = "blank"  # blank, heading, paragraph, bullet, or "ordered" plus its delimiter
    for line in markdown.split("\n"):
        if not line.strip(" \t"):
            previous = "blank"
            continue
        if not _BLOCK_START.match(line):
            # Text goes on with the open paragraph or list item (a lazy continuation line).
            if previous in ("blank", "heading"):
                blocks.append([line])
            else:
                blocks[-1].append(line)
            previous = "paragraph"
            continue
        found = _HEADING.fullmatch(line)
        if found is not None:
            if found.group("text").rstrip(" \t").endswith("#"):
                return None  # a closing sequence of #s has rules of its own
            blocks.append([found.group("text")])
            previous = "heading"
            continue
        found = _BULLET.fullmatch(line)
        kind = "bullet"
        if found is None:
            found = _ORDERED.fullmatch(line)
            if found is None:
                return None
            kind = "ordered" + found.group("delimiter")
            # Only a list starting at 1 may interrupt text; other numbers continue it.
            sibling = previous == kind
            if previous not in ("blank", "heading") and not sibling:
                if found.group("number") != "1":
                    return None
        if _RULE.fullmatch(line) or _BLOCK_START.match(found.group("text")):
            return None  # a thematic break, or a list nested in the item
        blocks.append([found.group("text")])
        previous = kind
    return blocks


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
