"""Text to search terms for Chinese, English and the two mixed, and finding those terms again."""
from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Iterable
from typing import NamedTuple

import snowballstemmer

from knowledge_base.article import Language
from knowledge_base.segmenter import segmenter

# CJK ideographs: the basic block, extension A, compatibility ideographs and the supplementary
# planes. Kana, Hangul and everything else with letters is treated like a Latin word.
_HAN_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"(?P<han>[{_HAN_CHARS}]+)|(?P<word>[^\W_{_HAN_CHARS}]+)")
_WORDS = re.compile(rf"[^\W_{_HAN_CHARS}]+")
_HAN = re.compile(rf"[{_HAN_CHARS}]")

# Full-width letters and digits (ＡＢＣ１２３), common in Chinese input, fold one-to-one to ASCII,
# so offsets into the folded text are offsets into the original. Full-width punctuation (，？)
# is left alone: it is in every Chinese sentence and never part of a term anyway.
_FULL_WIDTH_ALNUM = [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
_FOLD = {code: code - 0xFEE0 for code in _FULL_WIDTH_ALNUM}
_FULL_WIDTH = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")

ENGLISH_STOP_WORDS: frozenset[str] = frozenset("""
a about above after again against all am an and any are aren as at be because been before being
below between both but by can cannot could couldn d did didn do does doesn doing don down during
each few for from further had hadn has hasn have haven having he her here hers herself him himself
his how i if in into is isn it its itself just ll m me might more most mustn my myself needn no
nor not now o of off on once only or other our ours ourselves out over own re s same shan she
should shouldn so some such t than that the their theirs them themselves then there these they
this those through to too under until up us ve very was wasn we were weren what when where which
while who whom why will with won would wouldn y you your yours yourself yourselves please hi hello
""".split())

CHINESE_STOP_WORDS: frozenset[str] = frozenset("""
的 了 吗 呢 吧 啊 呀 哦 嗯 么 是 在 和 与 及 或 而 就 都 也 还 又 把 被 让 给 对 从 到 向 于 以
我 你 您 他 她 它 我们 你们 他们 她们 咱们 这 那 这个 那个 这些 那些 这样 那样 这里 那里
怎么 怎样 怎么样 如何 什么 为什么 为何 哪 哪里 哪些 哪个 请问 请 麻烦 一下 一个 个 得 地 着 过
可以 能 能够 会 要 想 需要 应该 可能 嘛 啦 哈 之 其 该 此 等 等等 如果 因为 所以 但是 然后
您好 你好 谢谢
""".split())


class Match(NamedTuple):
    """Where a query term was found in a text: [start, end) and the term it stands for."""

    start: int
    end: int
    term: str


class TextAnalyzer:
    """Turns text into index terms: jieba words for Chinese, stemmed lowercase words otherwise."""

    def __init__(
        self,
        *,
        hmm: bool = False,
        english_stop_words: Collection[str] = ENGLISH_STOP_WORDS,
        chinese_stop_words: Collection[str] = CHINESE_STOP_WORDS,
        word_cache_size: int = 200_000,
    ) -> None:
        # HMM off by default: unknown Chinese words then fall apart into the same single
        # characters in articles and queries, instead of being guessed differently by context.
        self.hmm = hmm
        self.english_stop_words = frozenset(english_stop_words)
        self.chinese_stop_words = frozenset(chinese_stop_words)
        # Word as written -> its term ("" for a stop word); snippets look up every word shown.
        self._word_terms: dict[str, str] = {}
        self._word_cache_size = word_cache_size
        # Snowball stemmers keep state while stemming, so each thread gets its own.
        self._local = threading.local()

    def terms(self, text: str) -> list[str]:
        """Every index term of the text in order, repeats kept (for term frequencies)."""
        out: list[str] = []
        cut = self._cut()
        zh_stop = self.chinese_stop_words
        word_terms = self._word_terms
        for run in _RUNS.finditer(_fold(text)):
            han = run.group("han")
            if han is not None:
                out.extend(word for word in cut(han, HMM=self.hmm) if word not in zh_stop)
            else:
                word = run.group("word")
                term = word_terms.get(word)
                if term is None:
                    term = self._learn(word)
                if term:
                    out.append(term)
        return out

    def query_terms(self, query: str) -> list[str]:
        """The distinct terms of a query in the order they were typed."""
        return list(dict.fromkeys(self.terms(query)))

    def matches(self, text: str, terms: Iterable[str]) -> list[Match]:
        """Where the given terms occur in the text, sorted, overlapping finds merged."""
        wanted = set(terms)
        if not wanted:
            return []
        folded = _fold(text)
        found: list[Match] = []
        han_terms = sorted((t for t in wanted if _HAN.match(t)), key=len, reverse=True)
        if han_terms:
            # Longest alternative first, so 退款申请 is found whole before 退款 inside it.
            pattern = re.compile("|".join(map(re.escape, han_terms)))
            found.extend(Match(m.start(), m.end(), m.group()) for m in pattern.finditer(folded))
        if len(han_terms) < len(wanted):
            word_terms = self._word_terms
            for m in _WORDS.finditer(folded):
                word = m.group()
                term = word_terms.get(word)
                if term is None:
                    term = self._learn(word)
                if term in wanted:
                    found.append(Match(m.start(), m.end(), term))
        return _merge(found)

    def _learn(self, word: str) -> str:
        """Work out a word's term ("" for a stop word) and remember it."""
        lowered = word.lower()
        if lowered in self.english_stop_words:
            term = ""
        elif lowered.isdigit():
            term = lowered
        else:
            term = self._stemmer().stemWord(lowered)
        if len(self._word_terms) >= self._word_cache_size:
            # Crude but bounded: user queries can bring any number of new words.
            self._word_terms.clear()
        self._word_terms[word] = term
        return term

    def _cut(self) -> Callable[..., Iterable[str]]:
        """jieba's search-mode cut: whole words plus the shorter dictionary words inside them."""
        cut: Callable[..., Iterable[str]] = segmenter().cut_for_search
        return cut

    def _stemmer(self) -> snowballstemmer.stemmer:
        """This thread's English Snowball stemmer."""
        stemmer = getattr(self._local, "stemmer", None)
        if stemmer is None:
            stemmer = self._local.stemmer = snowballstemmer.stemmer("english")
        return stemmer


def detect_language(text: str) -> Language | None:
    """'zh' when Chinese characters outnumber other words, 'en' when not, None without letters."""
    han = len(_HAN.findall(text))
    words = sum(1 for w in _WORDS.finditer(_fold(text)) if not w.group().isdigit())
    if han == 0 and words == 0:
        return None
    # One Chinese character carries about as much as one English word in a support question.
    return "zh" if han >= words else "en"


def _fold(text: str) -> str:
    """The text with full-width ASCII made ASCII (the check is much cheaper than translating)."""
    return text.translate(_FOLD) if _FULL_WIDTH.search(text) else text


def _merge(found: list[Match]) -> list[Match]:
    """Matches in text order, overlapping ones joined and named after the first."""
    found.sort(key=lambda m: (m.start, -m.end))
    merged: list[Match] = []
    for match in found:
        if merged and match.start < merged[-1].end:
            last = merged[-1]
            if match.end > last.end:
                merged[-1] = Match(last.start, match.end, last.term)
        else:
            merged.append(match)
    return merged
