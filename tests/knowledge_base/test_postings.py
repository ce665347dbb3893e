"""However articles were added, edited and removed, the index ranks as if freshly built."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge_base.article import Article
from knowledge_base.search import SearchIndex

from .conftest import make_article

WORDS = ["parcel", "refund", "locker", "invoice", "coupon", "warranty", "courier", "receipt"]

texts = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(" ".join)
upserts = st.tuples(
    st.just("upsert"), st.integers(1, 6), texts, texts, st.sampled_from(["zh", "en"]),
    st.sampled_from(["published", "published", "draft"]),
)
removals = st.tuples(st.just("remove"), st.integers(1, 6))
compactions = st.tuples(st.just("compact"))


def final_articles(operations: list[tuple]) -> dict[int, Article]:
    """What storage would hold after the operations (drafts and removals kept out)."""
    published: dict[int, Article] = {}
    for operation in operations:
        if operation[0] == "upsert":
            _, article_id, title, body, language, status = operation
            published[article_id] = make_article(article_id, title, body, language, status=status)
            if status == "draft":
                del published[article_id]
        elif operation[0] == "remove":
            published.pop(operation[1], None)
    return published


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(upserts, removals, compactions), max_size=25))
def test_incremental_changes_rank_like_a_fresh_build(operations: list[tuple]) -> None:
    live = SearchIndex()
    for operation in operations:
        if operation[0] == "upsert":
            _, article_id, title, body, language, status = operation
            live.upsert(make_article(article_id, title, body, language, status=status))
        elif operation[0] == "remove":
            live.remove(operation[1])
        else:
            live.compact()
    fresh = SearchIndex.build(final_articles(operations).values())

    assert len(live) == len(fresh)
    for query in ["parcel", "refund courier", "coupon warranty receipt locker invoice"]:
        for language in (None, "zh", "en"):
            got = {h.article_id: h.score for h in live.search(query, language=language, limit=50)}
            want = {h.article_id: h.score for h in fresh.search(query, language=language,
                                                                 limit=50)}
            assert got.keys() == want.keys()
            for article_id, score in want.items():
                assert got[article_id] == pytest.approx(score, rel=1e-5)


def test_the_limit_keeps_the_best_and_breaks_ties_by_age() -> None:
    index = SearchIndex.build(
        [make_article(i, "Parcel", "parcel " * (1 if i % 2 else 3)) for i in range(1, 9)]
    )
    hits = index.search("parcel", limit=3)
    assert [h.article_id for h in hits] == [2, 4, 6]
    assert index.search("parcel", limit=0) == []
