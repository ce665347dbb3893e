"""Articles to and from text: Markdown with YAML front matter, and question/answer CSV."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import yaml

from knowledge_base.analysis import detect_language
from knowledge_base.article import (
    LANGUAGES,
    MAX_BODY_CHARS,
    STATUSES,
    Article,
    ArticleError,
    Status,
    check_article,
    check_slug,
    normalize_body,
    normalize_tags,
    utcnow,
)

Progress = Callable[[int, int], None]

FRONT_MATTER_KEYS = ("title", "language", "tags", "status")
CSV_COLUMNS = ("question", "answer", "language", "tags", "status", "slug")

# Header names people actually use, including the Chinese ones Excel sheets in China carry.
_CSV_ALIASES = {
    "question": "question", "title": "question", "q": "question", "问题": "question",
    "标题": "question",
    "answer": "answer", "body": "answer", "a": "answer", "答案": "answer", "回答": "answer",
    "内容": "answer",
    "language": "language", "lang": "language", "语言": "language",
    "tags": "tags", "tag": "tags", "标签": "tags",
    "status": "status", "状态": "status",
    "slug": "slug",
}
_TAG_SEPARATORS = re.compile(r"[,，;；|]")
_SLUG_JUNK = re.compile(r"[\W_]+")
_FENCE = "---"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one file or row was not imported, and where."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    """The articles an import produced and the problems that kept others out."""

    articles: list[Article] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was left out."""
        return not self.problems


def parse_markdown_article(text: str, slug: str, *, updated_at: datetime | None = None) -> Article:
    """An article from a Markdown file with front matter; ArticleError carries the line."""
    check_slug(slug)
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not lines or lines[0].strip() != _FENCE:
        raise ArticleError("missing front matter: the file must start with a '---' line", line=1)
    closing = next((i for i in range(1, len(lines)) if lines[i].strip() in (_FENCE, "...")), None)
    if closing is None:
        raise ArticleError("front matter has no closing '---' line", line=1)
    front_lines = lines[1:closing]
    try:
        front = yaml.safe_load("\n".join(front_lines))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise ArticleError(f"front matter: {problem}", line=line) from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise ArticleError("front matter must be a mapping of keys to values", line=2)

    def line_of(key: str) -> int:
        """The file line of a front-matter key, or of the opening fence when it is absent."""
        pattern = re.compile(rf"\s*{re.escape(key)}\s*:")
        return next((i + 2 for i, line in enumerate(front_lines) if pattern.match(line)), 1)

    body = normalize_body("\n".join(lines[closing + 1 :]))
    body_line = closing + 2 + next(
        (i for i, line in enumerate(lines[closing + 1 :]) if line.strip()), 0
    )
    lines_by_field = {"body_markdown": body_line, "slug": 1}
    try:
        title = _text_value(front.get("title"), "title")
        language = _language(front.get("language"), title, body)
        article = Article(
            id=None,
            slug=slug,
            title=title,
            body_markdown=body,
            language=language,  # type: ignore[arg-type]  # checked by check_article
            tags=_tags(front.get("tags")),
            status=_status(front.get("status"), default="draft"),
            updated_at=updated_at or utcnow(),
        )
        return check_article(article)
    except ArticleError as error:
        line = lines_by_field.get(error.field or "") or line_of(error.field or "title")
        raise ArticleError(error.message, field=error.field, line=line) from None


def render_markdown_article(article: Article) -> str:
    """The article as Markdown with front matter; parse_markdown_article reads it back."""
    front = {
        "title": article.title,
        "language": article.language,
        "tags": list(article.tags),
        "status": article.status,
    }
    dumped = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=10_000,
                            default_flow_style=None)
    return f"{_FENCE}\n{dumped}{_FENCE}\n\n{normalize_body(article.body_markdown)}\n"


def parse_csv(
    text: str,
    *,
    source: str = "import.csv",
    default_status: Status = "draft",
    taken_slugs: Iterable[str] = (),
    updated_at: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Articles from question,answer CSV text (optional language, tags, status, slug columns)."""
    report = ImportReport()
    if csv.field_size_limit() <= MAX_BODY_CHARS:
        # The csv module's own limit (128 Ki characters) is below what an answer may hold.
        csv.field_size_limit(MAX_BODY_CHARS + 1)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ArticleError("the file is empty")
        columns = _csv_columns(header)
    except (csv.Error, ArticleError) as error:
        report.problems.append(ImportProblem(source, 1, str(error)))
        return report
    records: list[tuple[int, list[str]]] = []
    try:
        # A quoted answer may span lines, so a record starts one past where the last one ended.
        start = reader.line_num + 1
        for row in reader:
            records.append((start, row))
            start = reader.line_num + 1
    except csv.Error as error:
        # The reader cannot find its footing again, so the rows before this one still count.
        report.problems.append(
            ImportProblem(source, reader.line_num, f"unreadable CSV from here on: {error}")
        )

    used = set(taken_slugs)
    when = updated_at or utcnow()
    for done, (line, row) in enumerate(records, start=1):
        if any(cell.strip() for cell in row):
            try:
                article = _csv_article(row, columns, len(header), line, used, default_status,
                                       when)
                used.add(article.slug)
                report.articles.append(article)
            except ArticleError as error:
                report.problems.append(ImportProblem(source, line, error.message))
        if progress is not None:
            progress(done, len(records))
    return report


def render_csv(articles: Sequence[Article]) -> str:
    """Articles as CSV with every column parse_csv understands, so nothing is lost."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for article in articles:
        writer.writerow([article.title, article.body_markdown, article.language,
                         ", ".join(article.tags), article.status, article.slug])
    return out.getvalue()


def slugify(title: str, *, max_chars: int = 80) -> str:
    """A slug from a title: lowercase words joined by '-', Chinese characters kept."""
    slug = _SLUG_JUNK.sub("-", title.lower()).strip("-")
    if len(slug) > max_chars:
        slug = slug[:max_chars].rsplit("-", 1)[0] if "-" in slug[:max_chars] else slug[:max_chars]
    return slug.strip("-")


def _csv_columns(header: list[str]) -> dict[str, int]:
    """Column positions by canonical name; ArticleError if question or answer is missing."""
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        canonical = _CSV_ALIASES.get(name.strip().lower())
        if canonical is not None and canonical not in columns:
            columns[canonical] = position
    missing = [name for name in ("question", "answer") if name not in columns]
    if missing:
        raise ArticleError(
            f"header must name the {' and '.join(missing)} column(s); found {header!r}"
        )
    return columns


def _csv_article(
    row: list[str],
    columns: dict[str, int],
    header_width: int,
    line: int,
    used: set[str],
    default_status: Status,
    when: datetime,
) -> Article:
    """One CSV record as a checked article."""
    if any(cell.strip() for cell in row[header_width:]):
        raise ArticleError(
            f"{len(row)} cells but the header has {header_width}; is a comma left unquoted?"
        )

    def cell(name: str) -> str:
        """The named cell, '' when the column or cell is missing."""
        position = columns.get(name)
        return row[position].strip() if position is not None and position < len(row) else ""

    title = cell("question")
    if not title:
        raise ArticleError("question is empty", field="title")
    body = normalize_body(cell("answer"))
    if not body:
        raise ArticleError("answer is empty", field="body_markdown")
    slug = cell("slug") or _unique(slugify(title) or f"faq-{line}", used)
    if slug in used:
        raise ArticleError(f"slug {slug!r} is already taken", field="slug")
    article = Article(
        id=None,
        slug=slug,
        title=title,
        body_markdown=body,
        language=_language(cell("language") or None, title, body),  # type: ignore[arg-type]
        tags=_tags(cell("tags") or None),
        status=_status(cell("status") or None, default=default_status),
        updated_at=when,
    )
    return check_article(article)


def _unique(slug: str, used: set[str]) -> str:
    """The slug, or the slug with the first free -2, -3… suffix."""
    if slug not in used:
        return slug
    number = 2
    while f"{slug}-{number}" in used:
        number += 1
    return f"{slug}-{number}"


def _text_value(value: object, name: str) -> str:
    """A required single-line string value."""
    if value is None:
        raise ArticleError(f"{name} is missing", field=name)
    if not isinstance(value, (str, int, float)):
        raise ArticleError(f"{name} must be text", field=name)
    return str(value).strip()


def _language(value: object, title: str, body: str) -> str:
    """The given language, or the one detected from title and body."""
    if value is None or value == "":
        detected = detect_language(f"{title}\n{body}")
        if detected is None:
            raise ArticleError("language is missing and cannot be told from the text",
                               field="language")
        return detected
    language = str(value).strip().lower()
    aliases = {"zh-cn": "zh", "zh-hans": "zh", "chinese": "zh", "中文": "zh",
               "en-us": "en", "en-gb": "en", "english": "en", "英文": "en"}
    language = aliases.get(language, language)
    if language not in LANGUAGES:
        raise ArticleError(f"unknown language {value!r}; expected one of {', '.join(LANGUAGES)}",
                           field="language")
    return language


def _tags(value: object) -> tuple[str, ...]:
    """Tags from a YAML list or a comma-separated string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return normalize_tags(_TAG_SEPARATORS.split(value))
    if isinstance(value, list) and all(isinstance(tag, (str, int, float)) for tag in value):
        return normalize_tags([str(tag) for tag in value])
    raise ArticleError("tags must be a list of words or a comma-separated string", field="tags")


def _status(value: object, *, default: Status) -> Status:
    """The given status, or the default when none is given."""
    if value is None or value == "":
        return default
    status = str(value).strip().lower()
    if status not in STATUSES:
        raise ArticleError(f"unknown status {value!r}; expected one of {', '.join(STATUSES)}",
                           field="status")
    return status
