"""Readable plain text from mail HTML: blocks become lines, blockquotes become "> " quotes, scripts vanish."""
from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "xml"})
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre", "dl"})
_LINE = frozenset(
    {"div", "tr", "section", "article", "header", "footer", "address", "center", "dt", "dd", "form", "fieldset",
     "figure", "figcaption", "main", "nav", "aside", "caption", "tbody", "thead", "tfoot", "hr"}
)
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b\u3000]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


class _TextBuilder(HTMLParser):
    """Collects text line by line, remembering how deep in blockquotes each line sits."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._depth = 0
        self._skip = 0
        self._pre = 0
        self._lists: list[list[int]] = []  # [ordered, counter] per open list
        self._href: list[str | None] = []
        self._link_text: list[int] = []

    def _flush(self, keep_empty: bool = False) -> None:
        text = "".join(self._current)
        if not self._pre:
            text = _SPACES.sub(" ", text).strip()
        self._current = []
        if not text and not keep_empty:
            return
        prefix = "> " * self._depth
        self.lines.append((prefix + text).rstrip() if text else prefix.rstrip())

    def _paragraph(self) -> None:
        self._flush()
        if self.lines and self.lines[-1].strip(" >"):
            self.lines.append(("> " * self._depth).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        attributes = dict(attrs)
        if tag == "br":
            self._flush(keep_empty=True)
        elif tag == "blockquote":
            self._paragraph()
            self._depth += 1
        elif tag in _PARAGRAPH:
            self._paragraph()
            if tag in ("ul", "ol"):
                self._lists.append([tag == "ol", 0])
            if tag == "pre":
                self._pre += 1
        elif tag == "li":
            self._flush()
            marker = "- "
            if self._lists:
                self._lists[-1][1] += 1
                if self._lists[-1][0]:
                    marker = f"{self._lists[-1][1]}. "
            self._current.append("  " * max(len(self._lists) - 1, 0) + marker)
        elif tag in _LINE:
            self._flush()
        elif tag in ("td", "th"):
            self._current.append(" ")
        elif tag == "a":
            self._href.append(attributes.get("href"))
            self._link_text.append(len("".join(self._current)))
        elif tag == "img":
            alt = (attributes.get("alt") or "").strip()
            if alt:
                self._current.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(self._skip - 1, 0)
            return
        if self._skip:
            return
        if tag == "blockquote":
            self._flush()
            while self.lines and self.lines[-1].startswith(">") and not self.lines[-1].strip(" >"):
                self.lines.pop()
            self._depth = max(self._depth - 1, 0)
            self._paragraph()
        elif tag in _PARAGRAPH:
            if tag == "pre":
                self._flush(keep_empty=False)
                self._pre = max(self._pre - 1, 0)
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            self._paragraph()
        elif tag in _LINE or tag == "li":
            self._flush()
        elif tag == "a" and self._href:
            href = self._href.pop()
            start = self._link_text.pop()
            shown = "".join(self._current)[start:].strip()
            if href and href.startswith(("http://", "https://")) and href != shown and shown:
                self._current.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._current.append(first)
            for line in rest:
                self._flush(keep_empty=True)
                self._current.append(line)
            return
        self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(html: str) -> str:
    """Plain text of an HTML mail body; quoted blocks come out as "> " lines so quote stripping sees them."""
    builder = _TextBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # HTMLParser is lenient, but a pathological document must not lose the text
        return _SPACES.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    text = "\n".join(builder.lines)
    return _BLANK_RUNS.sub("\n\n", text).strip()
