"""Split what the customer just wrote from the quoted history below it (English and Chinese mail clients)."""
from __future__ import annotations

import re

# Lines that introduce the previous message in a reply, as Gmail, Outlook, Apple Mail, QQ Mail,
# Foxmail, NetEase and their Chinese localisations write them.
_ATTRIBUTION = [
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*在\s*.{0,300}写道\s*[:：]\s*$", re.DOTALL),
    re.compile(r"^\s*.{0,300}于\s*\d{2,4}\s*年.{0,200}写道\s*[:：]\s*$", re.DOTALL),
    re.compile(r"^\s*.{0,300}(写道|寫道|寫到)\s*[:：]\s*$", re.DOTALL),
    re.compile(
        r"^\s*[-_=]{2,}\s*(Original Message|Original|Reply Message|原始邮件|原始郵件|原邮件|回复的原邮件)\s*[-_=]*\s*$",
        re.IGNORECASE,
    ),
]
_FORWARD = re.compile(
    r"^\s*([-_=]{2,}\s*(Forwarded message|转发邮件信息|轉寄郵件|转发的邮件)\s*[-_=]*|Begin forwarded message:)\s*$",
    re.IGNORECASE,
)
# An Outlook-style header block ("From: / Sent: / To: / Subject:") starts the history when three or more
# of its fields, one of them a date, follow each other; "From: Beijing / To: Shanghai" is not one.
_HEADER_FIELD = re.compile(
    r"^\s*\**\s*(From|Sent|Date|To|Cc|Subject|发件人|發件人|寄件者|发送时间|發送時間|寄件日期|日期|时间|收件人|抄送|主题|主旨|主題)\s*\**\s*[:：]",
    re.IGNORECASE,
)
_DATE_FIELD = re.compile(r"^\s*\**\s*(Sent|Date|发送时间|發送時間|寄件日期|日期|时间)\s*\**\s*[:：]", re.IGNORECASE)
_FROM_FIELD = re.compile(r"^\s*\**\s*(From|发件人|發件人|寄件者)\s*\**\s*[:：]", re.IGNORECASE)
_RULE = re.compile(r"^\s*[_-]{8,}\s*$")
_SIGNATURE = "-- "


def _normalise(line: str) -> str:
    return line.replace("\u00a0", " ").replace("\u3000", " ")


def _is_header_block(lines: list[str], start: int) -> bool:
    if not _FROM_FIELD.match(lines[start]):
        return False
    fields = 0
    dated = False
    for line in lines[start : start + 7]:
        if _HEADER_FIELD.match(line):
            fields += 1
            dated = dated or bool(_DATE_FIELD.match(line))
        elif line.strip():
            break
    return fields >= 3 and dated


def _attribution_at(lines: list[str], index: int) -> bool:
    line = lines[index]
    if any(p.match(line) for p in _ATTRIBUTION):
        return True
    # Gmail wraps long attributions over two lines
    if index + 1 < len(lines) and line.strip() and lines[index + 1].strip():
        joined = f"{line} {lines[index + 1]}"
        return any(p.match(joined) for p in _ATTRIBUTION[:4])
    return False


def _cut_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _FORWARD.match(line):
            return None
        if index > 0 and line.rstrip() in (_SIGNATURE, "--"):
            return index
        if _attribution_at(lines, index) or _is_header_block(lines, index):
            return index
        if _RULE.match(line) and index + 1 < len(lines):
            following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            if following is not None and _is_header_block(lines, following):
                return index
    return _trailing_quote(lines)


def _trailing_quote(lines: list[str]) -> int | None:
    # a quote block with nothing but blank lines after it; inline answers between quotes are kept whole
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start == end or not any(line.startswith(">") for line in lines[start:end]):
        return None
    return start


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted history) of a reply; forwards and all-quote messages keep everything as new text."""
    lines = [_normalise(line) for line in text.replace("\r\n", "\n").split("\n")]
    cut = _cut_index(lines)
    if cut is None:
        return text.strip(), ""
    fresh = "\n".join(lines[:cut]).strip()
    if not fresh:
        return text.strip(), ""
    return fresh, "\n".join(lines[cut:]).strip()
