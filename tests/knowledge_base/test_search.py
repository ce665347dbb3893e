"""A customer or agent types a question and gets the right published articles, with context."""
from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from knowledge_base.analysis import TextAnalyzer
from knowledge_base.bm25 import BM25Params
from knowledge_base.search import SearchIndex

from .conftest import make_article

REFUND_ZH = make_article(
    1, "如何申请退款", "打开**我的订单**，点击“申请退款”。退款会在3个工作日内原路退回。", "zh",
    tags=("退款",),
)
SHIPPING_ZH = make_article(
    2, "配送时效", "下单后48小时内发货，快递一般2到4天送达。偏远地区可能延迟。", "zh",
    tags=("配送",),
)
REFUND_EN = make_article(
    3, "How do refunds work?",
    "Once we approve a refund, the money goes back to your **original payment method** "
    "within 3 business days.", tags=("billing",),
)
PASSWORD_EN = make_article(
    4, "Reset your password",
    "Choose *Forgot password?* on the sign-in page and we email you a reset link.",
)
DRAFT = make_article(
    5, "Refund policy 2026 (not final)", "Refunds will be refunded in store credit.",
    status="draft",
)


@pytest.fixture()
def index() -> SearchIndex:
    return SearchIndex.build([REFUND_ZH, SHIPPING_ZH, REFUND_EN, PASSWORD_EN, DRAFT])


def ids(hits: list) -> list[int]:
    return [hit.article_id for hit in hits]


def test_a_chinese_question_finds_the_chinese_refund_article(index: SearchIndex) -> None:
    hits = index.search("退款")
    assert ids(hits) == [1]
    assert hits[0].slug == "article-1" and hits[0].language == "zh" and hits[0].score > 0


def test_a_long_chinese_question_still_ranks_the_matching_article_first(
    index: SearchIndex,
) -> None:
    assert ids(index.search("你好，我想问一下怎么申请退款？"))[0] == 1
    assert ids(index.search("快递多久能送达"))[0] == 2


@pytest.mark.parametrize("query", ["refund", "refunds", "refunding", "REFUNDED"])
def test_english_word_forms_find_the_same_article(index: SearchIndex, query: str) -> None:
    assert ids(index.search(query)) == [3]


def test_drafts_are_never_found(index: SearchIndex) -> None:
    assert 5 not in index
    assert ids(index.search("store credit")) == []
    assert ids(index.search("refund policy 2026")) == [3]


def test_publishing_makes_an_article_searchable_at_once(index: SearchIndex) -> None:
    assert index.upsert(replace(DRAFT, status="published", version=2))
    assert ids(index.search("store credit")) == [5]


def test_unpublishing_hides_an_article_at_once(index: SearchIndex) -> None:
    assert index.upsert(replace(PASSWORD_EN, status="draft", version=2))
    assert ids(index.search("password")) == []
    assert 4 not in index


def test_an_update_replaces_the_old_text(index: SearchIndex) -> None:
    edited = replace(PASSWORD_EN, title="Change your passphrase",
                     body_markdown="Open Settings and pick a new passphrase.", version=2)
    index.upsert(edited)
    assert ids(index.search("password")) == []
    assert ids(index.search("passphrase")) == [4]
    assert index.version_of(4) == 2
    assert len(index) == 4


def test_an_older_version_arriving_late_is_ignored(index: SearchIndex) -> None:
    index.upsert(replace(PASSWORD_EN, title="Change your passphrase", version=3))
    assert not index.upsert(replace(PASSWORD_EN, version=2))
    assert not index.upsert(replace(PASSWORD_EN, status="draft", version=2))
    assert ids(index.search("passphrase")) == [4]


def test_removing_an_article_and_removing_it_again(index: SearchIndex) -> None:
    assert index.remove(3)
    assert not index.remove(3)
    assert ids(index.search("refund")) == []


def test_the_language_filter_keeps_to_one_language(index: SearchIndex) -> None:
    index.upsert(make_article(6, "退款 refund FAQ", "退款 refund", "zh"))
    assert set(ids(index.search("refund退款"))) == {1, 3, 6}
    assert set(ids(index.search("refund退款", language="en"))) == {3}
    assert set(ids(index.search("refund退款", language="zh"))) == {1, 6}
    with pytest.raises(ValueError):
        index.search("refund", language="fr")  # type: ignore[arg-type]


def test_a_title_match_outranks_the_same_word_in_a_body() -> None:
    index = SearchIndex.build([
        make_article(1, "Shipping times", "How long parcels take to arrive in your region."),
        make_article(2, "Parcel lockers", "Pick up a parcel from a locker; shipping is free."),
    ])
    assert ids(index.search("shipping")) == [1, 2]


def test_bm25_prefers_the_shorter_article_unless_length_normalisation_is_off() -> None:
    short = make_article(1, "Lockers", "Lockers hold parcels.")
    long = make_article(2, "Lockers", "Lockers hold parcels. " + "Opening hours vary. " * 30)
    ranked = SearchIndex.build([short, long]).search("parcels")
    assert ids(ranked) == [1, 2] and ranked[0].score > ranked[1].score
    flat = SearchIndex.build([short, long], params=BM25Params(b=0.0)).search("parcels")
    assert flat[0].score == pytest.approx(flat[1].score)


def test_the_snippet_shows_and_marks_the_match_in_chinese(index: SearchIndex) -> None:
    hit = index.search("原路退回")[0]
    assert "原路退回" in hit.snippet.text
    assert "[原路退回]" in hit.snippet.marked()


def test_the_snippet_marks_other_forms_of_an_english_word(index: SearchIndex) -> None:
    hit = index.search("refunding")[0]
    assert "<mark>refund</mark>" in hit.snippet.html()
    assert "**" not in hit.snippet.text
    assert [hit.title[s:e] for s, e in hit.title_highlights] == ["refunds"]


def test_a_long_article_is_cut_around_the_match() -> None:
    body = "Filler sentence about nothing. " * 40 + "The **warranty** covers repairs. " + (
        "More filler text here. " * 40
    )
    index = SearchIndex.build([make_article(1, "Product care", body)])
    snippet = index.search("warranty")[0].snippet
    assert snippet.text.startswith("…") and snippet.text.endswith("…")
    assert len(snippet.text) <= index.snippet_width + 40
    assert [snippet.text[s:e] for s, e in snippet.highlights] == ["warranty"]


def test_queries_of_only_stop_words_or_punctuation_find_nothing(index: SearchIndex) -> None:
    assert index.search("how do I") == []
    assert index.search("？！。") == []
    assert index.search("") == []


def test_only_stored_articles_can_be_indexed() -> None:
    with pytest.raises(ValueError, match="no id"):
        SearchIndex().upsert(make_article(None, "New", "Body", slug="new"))


def test_compaction_keeps_results_and_frees_removed_slots(index: SearchIndex) -> None:
    for version in range(2, 6):
        index.upsert(replace(REFUND_EN, version=version))
    before = [(h.article_id, h.score) for h in index.search("refund 退款 password")]
    assert index.stats().articles == 4
    index.compact()
    after = [(h.article_id, h.score) for h in index.search("refund 退款 password")]
    assert [i for i, _ in after] == [i for i, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])


def test_searching_while_another_thread_edits_and_compacts(index: SearchIndex) -> None:
    failures: list[BaseException] = []

    def edit() -> None:
        try:
            for version in range(2, 80):
                index.upsert(replace(SHIPPING_ZH, version=version,
                                     body_markdown=f"第{version}版：快递2到4天送达。"))
                if version % 10 == 0:
                    index.compact()
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    writer = threading.Thread(target=edit)
    writer.start()
    while writer.is_alive():
        assert ids(index.search("退款")) == [1]
        assert ids(index.search("快递")) == [2]
    writer.join()
    assert failures == []
    assert index.version_of(2) == 79


def test_building_reports_progress_over_the_published_articles() -> None:
    seen: list[tuple[int, int]] = []
    SearchIndex.build([REFUND_ZH, DRAFT, REFUND_EN, replace(REFUND_EN, version=2)],
                      progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_a_late_published_event_cannot_undo_a_newer_unpublish(index: SearchIndex) -> None:
    index.upsert(replace(PASSWORD_EN, status="draft", version=3))
    assert not index.upsert(replace(PASSWORD_EN, version=2))
    assert ids(index.search("password")) == []
    assert index.upsert(replace(PASSWORD_EN, version=4))
    assert ids(index.search("password")) == [4]


class CountingAnalyzer(TextAnalyzer):
    """Counts how many texts it analysed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def terms(self, text: str) -> list[str]:
        self.texts += 1
        return super().terms(text)


def test_a_rebuild_analyses_only_what_changed_and_ranks_like_a_fresh_build() -> None:
    analyzer = CountingAnalyzer()
    first = SearchIndex.build([REFUND_ZH, SHIPPING_ZH, REFUND_EN, PASSWORD_EN], analyzer=analyzer)
    first.upsert(make_article(7, "Gift cards", "Gift cards never expire."))  # after the snapshot
    analyzer.texts = 0

    edited = replace(SHIPPING_ZH, body_markdown="顺丰快递次日送达。", version=2)
    new_one = make_article(8, "Warranty", "Two years of warranty on every parcel locker.")
    articles = [REFUND_ZH, edited, REFUND_EN, new_one]  # password article deleted meanwhile
    second = SearchIndex.build(articles, previous=first)

    assert second.analyzer is analyzer
    assert analyzer.texts == 2 * 3  # title, tags and body of the edited and the new article
    fresh = SearchIndex.build(articles)
    for query in ["退款", "顺丰", "快递", "refund", "warranty", "password", "gift"]:
        assert [(h.article_id, round(h.score, 6)) for h in second.search(query)] == [
            (h.article_id, round(h.score, 6)) for h in fresh.search(query)]
    assert ids(first.search("gift")) == [7]  # the old index is untouched
