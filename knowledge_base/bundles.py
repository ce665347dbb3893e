"""Uploaded and downloaded bundles of articles: zip files of Markdown and CSV, in memory (pure)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

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
from knowledge_base.io import MARKDOWN_SUFFIXES, decode_text

# An article body is at most 200,000 characters (up to 4 bytes each) plus its front matter.
MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class NamedFile:
    """One uploaded file: its name as the client gave it, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class BundleLimits:
    """How much an upload may unpack to, so a small zip cannot become gigabytes in memory."""

    max_files: int = 20_000
    max_total_bytes: int = 200_000_000


def _skipped(name: str) -> bool:
    """Folders, hidden files and macOS resource forks (__MACOSX/._x.md) are not articles."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return not parts or any(p.startswith(".") or p == "__MACOSX" for p in parts)


def is_zip(data: bytes) -> bool:
    """True when the bytes start like a zip archive."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def unpack(
    files: Iterable[NamedFile], limits: BundleLimits = BundleLimits()
) -> tuple[list[NamedFile], list[ImportProblem]]:
    """The files, with every zip replaced by its members; members that break a limit are reported."""
    out: list[NamedFile] = []
    problems: list[ImportProblem] = []
    total = 0
    for file in files:
        if not (file.name.lower().endswith(".zip") or is_zip(file.data)):
            out.append(file)
            continue
        try:
            archive = zipfile.ZipFile(io.BytesIO(file.data))
        except zipfile.BadZipFile as error:
            problems.append(ImportProblem(file.name, None, f"not a readable zip file: {error}"))
            continue
        with archive:
            for info in archive.infolist():
                if info.is_dir() or _skipped(info.filename):
                    continue
                name = info.filename
                if len(out) >= limits.max_files:
                    problems.append(
                        ImportProblem(file.name, None, f"more than {limits.max_files} files; the rest were skipped")
                    )
                    break
                if info.flag_bits & 0x1:
                    problems.append(ImportProblem(name, None, "the file is encrypted"))
                    continue
                if info.file_size > MAX_FILE_BYTES:
                    problems.append(ImportProblem(name, None, f"larger than {MAX_FILE_BYTES} bytes"))
                    continue
                try:
                    with archive.open(info) as member:
                        # The header's size can lie; never read more than the limit allows.
                        data = member.read(MAX_FILE_BYTES + 1)
                except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as error:
                    problems.append(ImportProblem(name, None, f"cannot unpack: {error}"))
                    continue
                if len(data) > MAX_FILE_BYTES:
                    problems.append(ImportProblem(name, None, f"larger than {MAX_FILE_BYTES} bytes"))
                    continue
                total += len(data)
                if total > limits.max_total_bytes:
                    problems.append(
                        ImportProblem(
                            file.name,
                            None,
                            f"unpacks to more than {limits.max_total_bytes} bytes; the rest were skipped",
                        )
                    )
                    break
                out.append(NamedFile(name, data))
    return out, problems


def parse_markdown_files(
    files: Sequence[NamedFile], *, limits: BundleLimits = BundleLimits(), progress: Progress | None = None
) -> ImportReport:
    """Articles from Markdown files and zips of them; the file name without extension is the slug."""
    unpacked, problems = unpack(files, limits)
    report = ImportReport(problems=problems)
    markdown = sorted((f for f in unpacked if f.name.lower().endswith(MARKDOWN_SUFFIXES)), key=lambda f: f.name)
    for other in unpacked:
        if not other.name.lower().endswith(MARKDOWN_SUFFIXES):
            report.problems.append(ImportProblem(other.name, None, "not a Markdown file (.md or .markdown); skipped"))
    first_file_of: dict[str, str] = {}
    for done, file in enumerate(markdown, start=1):
        slug = PurePosixPath(file.name.replace("\\", "/")).stem
        try:
            if slug in first_file_of:
                raise ArticleError(f"slug {slug!r} is already used by {first_file_of[slug]}")
            report.articles.append(parse_markdown_article(decode_text(file.data), slug))
            first_file_of[slug] = file.name
        except ArticleError as error:
            report.problems.append(ImportProblem(file.name, error.line, error.message))
        except UnicodeDecodeError as error:
            report.problems.append(ImportProblem(file.name, None, f"cannot read the file: {error}"))
        if progress is not None:
            progress(done, len(markdown))
    return report


def parse_csv_files(
    files: Sequence[NamedFile], *, default_status: Status = "draft", progress: Progress | None = None
) -> ImportReport:
    """Articles from question,answer CSV files; slugs stay unique across all of them."""
    report = ImportReport()
    taken: set[str] = set()
    for file in files:
        try:
            text = decode_text(file.data)
        except UnicodeDecodeError as error:
            report.problems.append(ImportProblem(file.name, None, f"cannot read the file: {error}"))
            continue
        part = parse_csv(text, source=file.name, default_status=default_status, taken_slugs=taken, progress=progress)
        taken.update(a.slug for a in part.articles)
        report.articles.extend(part.articles)
        report.problems.extend(part.problems)
    return report


def markdown_zip(articles: Sequence[Article]) -> bytes:
    """A zip holding <slug>.md for each article; parse_markdown_files reads it back."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for article in articles:
            archive.writestr(f"{article.slug}.md", render_markdown_article(article))
    return buffer.getvalue()


def csv_bytes(articles: Sequence[Article]) -> bytes:
    """The articles as CSV with a BOM, so Excel shows Chinese correctly."""
    return render_csv(articles).encode("utf-8-sig")
