"""The search benchmark runs end to end and its generated articles are valid and searchable."""
from __future__ import annotations

import pytest

from bench.kb_search import generate_articles, generate_queries, main
from knowledge_base.search import SearchIndex


def test_generated_articles_are_mixed_and_found_by_generated_questions() -> None:
    articles = generate_articles(300, seed=1)
    assert {a.language for a in articles} == {"zh", "en"}
    assert len({a.slug for a in articles}) == 300
    index = SearchIndex.build(articles)
    for language in ("zh", "en"):
        queries = generate_queries(20, language, seed=2)
        answered = [q for q in queries if index.search(q, language=language)]
        assert len(answered) == len(queries)


def test_the_benchmark_prints_its_figures(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--articles", "100", "--queries", "10", "--edits", "10", "--no-trace"])
    lines = capsys.readouterr().out.splitlines()
    labels = [line[:30].strip() for line in lines]
    assert labels == [
        "jieba dictionary load", "articles", "build", "memory: RSS growth",
        "query zh, all languages", "query zh, zh only", "query en, all languages",
        "query en, en only", "upsert one article", "compact", labels[-1],
    ]
    assert labels[-1].startswith("rebuild, ") and labels[-1].endswith(" changed")
    assert all("p99" in line for line in lines if line.startswith(("query", "upsert")))
