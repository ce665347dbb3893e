"""Turn mail bytes into text whatever charset they claim: superset codecs for common labels, sane fallbacks."""
from __future__ import annotations

import codecs
import re
from email.header import decode_header
from email.message import Message
from email.policy import Compat32
from email.utils import collapse_rfc2231_value


class _RawHeaders(Compat32):
    """compat32, except header values come back as raw text (8-bit bytes as surrogate escapes), not Header objects."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        return value


# Parse mail with this policy so 8-bit header bytes reach decode_header_value undamaged.
RAW_HEADERS = _RawHeaders()

# Mail clients label text with a charset narrower than what they really wrote (GB2312 for GBK text,
# Big5 for cp950/HKSCS text, ISO-8859-1 for Windows-1252), so each label decodes with its superset.
_SUPERSETS: dict[str, tuple[str, ...]] = {
    "gb2312": ("gb18030",),
    "gbk": ("gb18030",),
    "cp936": ("gb18030",),
    "gb18030": ("gb18030",),
    "big5": ("big5hkscs", "cp950"),
    "big5hkscs": ("big5hkscs", "cp950"),
    "cp950": ("cp950", "big5hkscs"),
    "euc_kr": ("cp949",),
    "cp949": ("cp949",),
    "shift_jis": ("cp932",),
    "cp932": ("cp932",),
    "euc_jp": ("euc_jis_2004", "euc_jp"),
    "iso8859_1": ("cp1252",),
    "iso8859_15": ("iso8859_15", "cp1252"),
    "ascii": ("cp1252",),
    "tis_620": ("cp874",),
}

# Codecs whose byte sequences can happen to be valid UTF-8 as well.
_MULTIBYTE = frozenset({"gb18030", "big5hkscs", "cp950", "cp949", "cp932", "euc_jis_2004", "euc_jp"})

# Labels seen in real mail that Python's codec registry does not know.
_ALIASES = {
    "x-gbk": "gbk", "gb_2312-80": "gb2312", "gb_2312": "gb2312", "x-gb2312": "gb2312", "csgb2312": "gb2312",
    "x-big5": "big5", "cn-big5": "big5", "big5-0": "big5", "x-x-big5": "big5", "ks_c_5601": "euc_kr",
    "x-euc-cn": "gb2312", "x-mac-chinesesimp": "gb2312", "x-mac-chinesetrad": "big5",
}

# Tried in this order when the label is missing, unknown or wrong; Kefu's mail is mostly Chinese.
_FALLBACKS = ("gb18030", "big5hkscs")

# Share of letters outside GB2312's level-1 hanzi above which "GB2312"/"GBK" text may really be Big5.
_BIG5_SUSPICION = 0.3
_BIG5_MIN_LETTERS = 4  # fewer letters than this are too few to tell the two apart
_GB2312_LEVEL1 = (0xB0A1, 0xD7F9)
_BIG5_LEVEL1 = (0xA440, 0xC67E)

_ENCODED_WORD_GAP = re.compile(r"(\?=)\s+(=\?)")
_FOLD = re.compile(r"\r?\n[ \t]+")
_SURROGATES = re.compile("[\udc80-\udcff]")


def codec_for(label: str | None) -> str | None:
    """Python's codec name for a MIME charset label, or None when Python knows no such charset."""
    if not label:
        return None
    cleaned = label.strip().strip('"').strip("'").lower()
    if cleaned in ("x-unknown", "unknown", "unknown-8bit", "default", "x-user-defined"):
        return None
    try:
        return codecs.lookup(_ALIASES.get(cleaned, cleaned)).name.replace("-", "_")
    except LookupError:
        return None


def _candidates(label: str | None) -> tuple[str, ...]:
    codec = codec_for(label)
    if codec is None:
        return ()
    return _SUPERSETS.get(codec, (codec,))


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _rare_share(text: str, codec: str, common: tuple[int, int]) -> tuple[int, float]:
    """How many letters `text` has beyond ASCII, and the share outside `codec`'s frequent-character block."""
    letters = [ch for ch in text if ord(ch) > 0x7F and ch.isalpha()]
    if not letters:
        return 0, 0.0
    rare = 0
    for ch in letters:
        try:
            code = int.from_bytes(ch.encode(codec), "big")
        except UnicodeEncodeError:
            rare += 1
            continue
        if not common[0] <= code <= common[1]:
            rare += 1
    return len(letters), rare / len(letters)


def _settle_gb_or_big5(data: bytes, gb_text: str) -> str:
    # Big5 bytes read as GBK land mostly outside GB2312's level-1 hanzi, and vice versa; pick the likelier
    letters, gb_rare = _rare_share(gb_text, "gb2312", _GB2312_LEVEL1)
    if letters < _BIG5_MIN_LETTERS or gb_rare <= _BIG5_SUSPICION:
        return gb_text
    for codec in ("big5hkscs", "cp950"):
        big5_text = _strict(data, codec)
        if big5_text is not None:
            _, big5_rare = _rare_share(big5_text, "big5hkscs", _BIG5_LEVEL1)
            return big5_text if big5_rare < gb_rare else gb_text
    return gb_text


def _plausible(ch: str) -> bool:
    code = ord(ch)
    if code < 0x80 or 0xC0 <= code <= 0x24F or 0x370 <= code <= 0x4FF or 0x2000 <= code <= 0x206F:
        return True
    if 0x3000 <= code <= 0x30FF or 0xFF00 <= code <= 0xFFEF or 0xAC00 <= code <= 0xD7A3:
        return True
    if 0x4E00 <= code <= 0x9FFF:
        # only the frequent hanzi count: text read under the wrong charset is full of rare ones
        for codec, (low, high) in (("gb2312", _GB2312_LEVEL1), ("big5", _BIG5_LEVEL1)):
            try:
                if low <= int.from_bytes(ch.encode(codec), "big") <= high:
                    return True
            except UnicodeEncodeError:
                continue
    return False


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that real text is made of (common hanzi, kana, hangul, Latin, Cyrillic)."""
    wide = [ch for ch in text if ord(ch) > 0x7F]
    return sum(1 for ch in wide if _plausible(ch)) / len(wide) if wide else 1.0


def _labelled(data: bytes, candidates: tuple[str, ...], suspect_big5: bool) -> str | None:
    for codec in candidates:
        text = _strict(data, codec)
        if text is not None:
            return _settle_gb_or_big5(data, text) if codec == "gb18030" and suspect_big5 else text
    return None


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Decode text bytes labelled `label`; a wrong or missing label falls back to UTF-8, GB18030, Big5, CP1252."""
    if data.isascii():
        return data.decode("ascii")
    candidates = _candidates(label)
    # Big5 sent out as "GB2312" (or unlabelled) is common; under an explicit GBK/GB18030 label it is not
    suspect_big5 = codec_for(label) in (None, "gb2312")
    utf8 = _strict(data, "utf-8")
    if utf8 is not None:
        if candidates and (candidates[0] == "utf_8" or candidates[0] not in _MULTIBYTE):
            # valid multi-byte UTF-8 under a single-byte label is the classic mislabel, never chance
            return utf8
        if not candidates:
            return utf8
        # short GBK or Big5 text can be valid UTF-8 by chance ("一一" is "һһ"); a mislabelled UTF-8 body has
        # characters beyond U+0800 and reads at least as plausibly as under its label
        rival = _labelled(data, candidates, suspect_big5)
        if rival is None:
            return utf8
        # two or more 3-byte sequences almost never happen by chance in GBK or Big5 text
        wide = sum(1 for ch in utf8 if ord(ch) >= 0x800) >= 2
        return utf8 if wide and _plausibility(utf8) >= _plausibility(rival) else rival
    text = _labelled(data, candidates, suspect_big5) or _labelled(data, _FALLBACKS, suspect_big5)
    if text is not None:
        return text
    codec = candidates[0] if candidates else "cp1252"
    return data.decode(codec, errors="replace")


def param(part: Message, name: str) -> str:
    """A Content-Type parameter as lower-case text ("" when absent), RFC 2231 values collapsed."""
    value = part.get_param(name)
    if value is None:
        return ""
    return str(collapse_rfc2231_value(value)).strip().lower()


def decode_header_value(value: str | None) -> str:
    """Decode a raw header: RFC 2047 encoded words in any charset, raw 8-bit bytes, folded lines."""
    if not value:
        return ""
    unfolded = _FOLD.sub(" ", str(value))
    # adjacent encoded words are joined without their gap (RFC 2047 6.2); decode_header keeps it otherwise
    unfolded = _ENCODED_WORD_GAP.sub(r"\1\2", unfolded)
    try:
        parts = decode_header(unfolded)
    except Exception:  # a broken encoded word must not lose the header: keep it as written
        parts = [(unfolded, None)]
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            if _SURROGATES.search(chunk):
                # the parser smuggles raw 8-bit header bytes through as surrogate escapes
                out.append(decode_bytes(chunk.encode("utf-8", "surrogateescape"), None))
            else:
                out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset))
    return "".join(out).strip()
