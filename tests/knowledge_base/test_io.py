"""An admin imports a help centre from files, sees what failed, and can export it again."""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.io import (
    decode_text,
    export_csv_file,
    export_markdown_folder,
    import_csv_file,
    import_markdown_folder,
)


def test_a_folder_of_markdown_files_becomes_articles(fixtures: Path) -> None:
    progress: list[tuple[int, int]] = []
    report = import_markdown_folder(
        fixtures / "articles", progress=lambda done, total: progress.append((done, total)))
    assert report.ok
    assert [a.slug for a in report.articles] == [
        "holiday-shipping", "refund-policy", "refunds", "reset-password"]
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    by_slug = {a.slug: a for a in report.articles}
    assert by_slug["reset-password"].language == "en"  # detected: no language key
    assert by_slug["holiday-shipping"].status == "draft"
    assert by_slug["refund-policy"].tags == ("退款", "售后")


def test_broken_files_are_reported_and_the_good_ones_still_imported(fixtures: Path) -> None:
    report = import_markdown_folder(fixtures / "broken")
    assert [a.slug for a in report.articles] == ["good"]
    assert [(p.source, p.line) for p in report.problems] == [
        ("bad-yaml.md", 4), ("no-front-matter.md", 1), ("unknown-language.md", 3)]
    assert "unknown language 'de'" in report.problems[2].message


def test_two_files_with_one_name_in_different_folders_clash(tmp_path: Path, fixtures: Path) -> None:
    source = (fixtures / "articles" / "refunds.md").read_bytes()
    (tmp_path / "en").mkdir()
    (tmp_path / "old").mkdir()
    (tmp_path / "en" / "refunds.md").write_bytes(source)
    (tmp_path / "old" / "refunds.md").write_bytes(source)
    report = import_markdown_folder(tmp_path)
    assert len(report.articles) == 1
    assert [str(p) for p in report.problems] == [
        "old/refunds.md: slug 'refunds' is already used by en/refunds.md"]


def test_export_then_import_gives_back_the_same_articles(fixtures: Path, tmp_path: Path) -> None:
    original = import_markdown_folder(fixtures / "articles").articles
    written = export_markdown_folder(original, tmp_path / "out")
    assert sorted(p.name for p in written) == [
        "holiday-shipping.md", "refund-policy.md", "refunds.md", "reset-password.md"]
    again = import_markdown_folder(tmp_path / "out").articles
    key = lambda a: (a.slug, a.title, a.body_markdown, a.language, a.tags, a.status)  # noqa: E731
    assert [key(a) for a in again] == [key(a) for a in original]


def test_export_refuses_two_articles_with_one_slug(fixtures: Path, tmp_path: Path) -> None:
    article = import_markdown_folder(fixtures / "articles").articles[0]
    with pytest.raises(ValueError, match="holiday-shipping"):
        export_markdown_folder([article, article], tmp_path)


def test_a_csv_saved_by_chinese_excel_in_gb18030_imports(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes("问题,答案\r\n怎么退款,点击申请退款。\r\n".encode("gb18030"))
    report = import_csv_file(path, default_status="published")
    assert report.ok and report.articles[0].title == "怎么退款"


def test_csv_export_opens_in_excel_and_reads_back(fixtures: Path, tmp_path: Path) -> None:
    articles = import_markdown_folder(fixtures / "articles").articles
    path = tmp_path / "kb.csv"
    export_csv_file(articles, path)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    again = import_csv_file(path).articles
    assert [(a.slug, a.body_markdown, a.tags, a.status) for a in again] == [
        (a.slug, a.body_markdown, a.tags, a.status) for a in articles]


def test_an_unreadable_csv_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    report = import_csv_file(tmp_path / "missing.csv")
    assert report.articles == [] and report.problems[0].source == "missing.csv"


def test_text_decoding_prefers_utf8_and_drops_the_bom() -> None:
    assert decode_text("\ufeff退款".encode("utf-8")) == "退款"
    assert decode_text("退款".encode("gb18030")) == "退款"
