"""Import and export articles as a folder of Markdown files or as a CSV file."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from knowledge_base.article import Article, ArticleError, Status
from knowledge_base.formats import (
    ImportProblem,
    ImportReport,
    Progress,
    parse_csv,
    parse_markdown_article,
    render_csv,
    render_markdown_article,
)

MARKDOWN_SUFFIXES = (".md", ".markdown")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030, which is what Excel in China saves CSV as."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def import_markdown_folder(folder: Path, *, progress: Progress | None = None) -> ImportReport:
    """Every Markdown file under the folder as an article; a bad file is reported, not fatal."""
    files = sorted(
        (p for p in folder.rglob("*") if p.suffix.lower() in MARKDOWN_SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    report = ImportReport()
    first_file_of: dict[str, str] = {}
    for done, path in enumerate(files, start=1):
        name = path.relative_to(folder).as_posix()
        slug = path.stem
        try:
            if slug in first_file_of:
                raise ArticleError(f"slug {slug!r} is already used by {first_file_of[slug]}")
            text = decode_text(path.read_bytes())
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            report.articles.append(parse_markdown_article(text, slug, updated_at=modified))
            first_file_of[slug] = name
        except ArticleError as error:
            report.problems.append(ImportProblem(name, error.line, error.message))
        except (OSError, UnicodeDecodeError) as error:
            report.problems.append(ImportProblem(name, None, f"cannot read the file: {error}"))
        if progress is not None:
            progress(done, len(files))
    return report


def export_markdown_folder(articles: Iterable[Article], folder: Path) -> list[Path]:
    """Write each article to folder/<slug>.md; refuses two articles with one slug."""
    articles = list(articles)
    slugs = [a.slug for a in articles]
    repeated = sorted({s for s in slugs if slugs.count(s) > 1})
    if repeated:
        raise ValueError(f"slugs used more than once: {', '.join(repeated)}")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for article in articles:
        path = folder / f"{article.slug}.md"
        path.write_text(render_markdown_article(article), encoding="utf-8")
        written.append(path)
    return written


def import_csv_file(
    path: Path,
    *,
    default_status: Status = "draft",
    taken_slugs: Iterable[str] = (),
    progress: Progress | None = None,
) -> ImportReport:
    """Articles from a question,answer CSV file; each bad row is reported with its line."""
    try:
        text = decode_text(path.read_bytes())
    except (OSError, UnicodeDecodeError) as error:
        return ImportReport(problems=[ImportProblem(path.name, None, f"cannot read: {error}")])
    return parse_csv(text, source=path.name, default_status=default_status,
                     taken_slugs=taken_slugs, progress=progress)


def export_csv_file(articles: Sequence[Article], path: Path) -> None:
    """Write the articles as CSV with a BOM, so Excel opens Chinese text correctly."""
    path.write_text(render_csv(articles), encoding="utf-8-sig", newline="")
