"""The knowledge-base JSON API: designers write articles, import and export; every agent searches."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from agents_ui.security import current_agent, requires
from hub.domain import DomainError, Role
from hub.http import field_str, json_error, path_int, read_json
from knowledge_base.analysis import detect_language
from knowledge_base.article import (
    LANGUAGES,
    MAX_TITLE_CHARS,
    STATUSES,
    Article,
    ArticleError,
    normalize_body,
    normalize_tags,
)
from knowledge_base.bundles import NamedFile, csv_bytes, markdown_zip
from knowledge_base.keys import KNOWLEDGE_BASE
from knowledge_base.search import SearchHit
from knowledge_base.snippet import Snippet
from knowledge_base.store import help_path, summaries

routes = web.RouteTableDef()

MAX_ARTICLE_JSON = 2 * 1024 * 1024
_CREATE_FIELDS = frozenset({"title", "body_markdown", "body", "language", "tags", "slug", "status"})
_UPDATE_FIELDS = frozenset({"title", "body_markdown", "body", "language", "tags", "slug", "version"})
_MARKDOWN_TYPES = {
    "application/zip": "upload.zip",
    "application/x-zip-compressed": "upload.zip",
    "text/markdown": "article.md",
}
_CSV_TYPES = {"text/csv": "upload.csv", "application/csv": "upload.csv", "text/plain": "upload.csv"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _article_errors(handler: Handler) -> Handler:
    """An article that fails its checks is a 400 naming the field."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ArticleError as error:
            return json_error(400, "invalid_article", error.message, field=error.field)

    return wrapped


def _query_choice(request: web.Request, name: str, choices: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in choices:
        raise DomainError(f"{name} must be one of {', '.join(choices)}", code=f"invalid_{name}")
    return value


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise DomainError(f"{name} must be a whole number", code=f"invalid_{name}") from exc
    if not low <= value <= high:
        raise DomainError(f"{name} must be between {low} and {high}", code=f"invalid_{name}")
    return value


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return normalize_tags(value.split(","))
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return normalize_tags(value)
    raise DomainError("'tags' must be a list of strings", code="invalid_field")


def _fields(data: dict[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Checked article fields from a JSON body, named as Article names them."""
    unknown = sorted(set(data) - allowed)
    if unknown:
        hint = " (status changes through /publish and /unpublish)" if "status" in unknown else ""
        raise DomainError(f"unknown field(s): {', '.join(unknown)}{hint}", code="unknown_field")
    out: dict[str, Any] = {}
    if "title" in data:
        out["title"] = field_str(data, "title", max_len=MAX_TITLE_CHARS * 2).strip()
    for key in ("body_markdown", "body"):
        if key in data:
            out["body_markdown"] = normalize_body(field_str(data, key, max_len=MAX_ARTICLE_JSON))
    if "language" in data and data["language"] is not None:
        out["language"] = field_str(data, "language", max_len=16).strip().lower()
    if "tags" in data:
        out["tags"] = _tags(data["tags"])
    if "slug" in data:
        out["slug"] = field_str(data, "slug", max_len=200).strip()
    if "status" in data:
        status = field_str(data, "status", max_len=16)
        if status not in STATUSES:
            raise DomainError(f"status must be one of {', '.join(STATUSES)}", code="invalid_field")
        out["status"] = status
    return out


def hit_dict(hit: SearchHit) -> dict[str, Any]:
    """A search hit as JSON: where it links, how it scored, the snippet with its highlights."""
    return {
        "article_id": hit.article_id,
        "slug": hit.slug,
        "title": hit.title,
        "title_html": Snippet(hit.title, hit.title_highlights).html(),
        "language": hit.language,
        "score": round(hit.score, 4),
        "url": help_path(hit.slug),
        "snippet": {
            "text": hit.snippet.text,
            "highlights": [list(span) for span in hit.snippet.highlights],
            "html": hit.snippet.html(),
        },
    }


def _author(request: web.Request) -> int:
    return current_agent(request).id


@routes.get("/api/kb/articles")
@requires(Role.DESIGNER)
async def list_articles(request: web.Request) -> web.Response:
    """Articles newest first, filtered by status (draft, published, archived), language, tag, title."""
    status = _query_choice(request, "status", (*STATUSES, "archived"))
    language = _query_choice(request, "language", LANGUAGES)
    limit = _query_int(request, "limit", 50, 1, 200)
    offset = _query_int(request, "offset", 0, 0, 10_000_000)
    items, total = await request.app[KNOWLEDGE_BASE].store.find(
        status=None if status == "archived" else status,
        archived=status == "archived",
        language=language,
        tag=request.query.get("tag") or None,
        text=request.query.get("q") or None,
        limit=limit,
        offset=offset,
    )
    return web.json_response({"articles": summaries(items), "total": total, "limit": limit, "offset": offset})


@routes.post("/api/kb/articles")
@requires(Role.DESIGNER)
@_article_errors
async def create_article(request: web.Request) -> web.Response:
    """A new article, a draft unless the body says status: published; the language is detected if missing."""
    fields = _fields(await read_json(request, max_bytes=MAX_ARTICLE_JSON), _CREATE_FIELDS)
    if not fields.get("title"):
        raise ArticleError("title is empty", field="title")
    body = fields.get("body_markdown", "")
    language = fields.get("language") or detect_language(f"{fields['title']}\n{body}")
    if language is None:
        raise ArticleError("language is missing and cannot be told from the text", field="language")
    draft = Article(
        id=None,
        slug=fields.get("slug", ""),
        title=fields["title"],
        body_markdown=body,
        language=language,
        tags=fields.get("tags", ()),
        status=fields.get("status", "draft"),
    )
    stored = await request.app[KNOWLEDGE_BASE].create(draft, _author(request))
    return web.json_response({"article": stored.to_dict()}, status=201)


@routes.get("/api/kb/articles/{id}")
@requires(Role.DESIGNER)
async def get_article(request: web.Request) -> web.Response:
    """One article in any state, with its Markdown body."""
    stored = await request.app[KNOWLEDGE_BASE].store.get(path_int(request, "id"))
    return web.json_response({"article": stored.to_dict()})


@routes.patch("/api/kb/articles/{id}")
@requires(Role.DESIGNER)
@_article_errors
async def update_article(request: web.Request) -> web.Response:
    """Edit title, body, language, tags or slug; `version` guards against overwriting someone's save."""
    data = await read_json(request, max_bytes=MAX_ARTICLE_JSON)
    fields = _fields(data, _UPDATE_FIELDS)
    expected = data.get("version")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise DomainError("'version' must be the version number you edited", code="invalid_field")
    if not fields:
        raise DomainError("nothing to change: send title, body_markdown, language, tags or slug", code="missing_field")
    saved = await request.app[KNOWLEDGE_BASE].update(path_int(request, "id"), fields, _author(request), expected)
    return web.json_response({"article": saved.stored.to_dict(), "changed": saved.changed})


async def _status_change(request: web.Request, status: str) -> web.Response:
    kb = request.app[KNOWLEDGE_BASE]
    saved = await kb.set_status(path_int(request, "id"), status, _author(request))  # type: ignore[arg-type]
    return web.json_response({"article": saved.stored.to_dict(), "changed": saved.changed})


@routes.post("/api/kb/articles/{id}/publish")
@requires(Role.DESIGNER)
@_article_errors
async def publish_article(request: web.Request) -> web.Response:
    """Make the article public and searchable at once."""
    return await _status_change(request, "published")


@routes.post("/api/kb/articles/{id}/unpublish")
@requires(Role.DESIGNER)
@_article_errors
async def unpublish_article(request: web.Request) -> web.Response:
    """Take the article back to draft: gone from search and the help center at once."""
    return await _status_change(request, "draft")


@routes.delete("/api/kb/articles/{id}")
@requires(Role.DESIGNER)
async def archive_article(request: web.Request) -> web.Response:
    """Archive the article (its history and slug are kept; restore brings it back as a draft)."""
    saved = await request.app[KNOWLEDGE_BASE].archive(path_int(request, "id"), _author(request))
    return web.json_response({"article": saved.stored.to_dict(), "changed": saved.changed})


@routes.post("/api/kb/articles/{id}/restore")
@requires(Role.DESIGNER)
async def restore_article(request: web.Request) -> web.Response:
    """Bring an archived article back as a draft."""
    saved = await request.app[KNOWLEDGE_BASE].restore(path_int(request, "id"), _author(request))
    return web.json_response({"article": saved.stored.to_dict(), "changed": saved.changed})


@routes.get("/api/kb/articles/{id}/versions")
@requires(Role.DESIGNER)
async def article_versions(request: web.Request) -> web.Response:
    """Every saved version, newest first."""
    versions = await request.app[KNOWLEDGE_BASE].store.versions(path_int(request, "id"))
    return web.json_response({"versions": versions})


@routes.get("/api/kb/articles/{id}/versions/{version}")
@requires(Role.DESIGNER)
async def article_version(request: web.Request) -> web.Response:
    """One saved version with its body."""
    store = request.app[KNOWLEDGE_BASE].store
    version = await store.version(path_int(request, "id"), path_int(request, "version"))
    return web.json_response({"version": version})


@routes.get("/api/kb/search")
@requires()
async def search_articles(request: web.Request) -> web.Response:
    """Published articles for a query, best first, with score and highlighted snippet."""
    query = request.query.get("q", "").strip()
    if not query:
        return json_error(400, "missing_query", "give the words to search for as ?q=")
    language = _query_choice(request, "language", LANGUAGES)
    limit = _query_int(request, "limit", 10, 1, 50)
    kb = request.app[KNOWLEDGE_BASE]
    hits = await kb.search(query, language=language, limit=limit)
    return web.json_response(
        {"query": query, "language": language, "index_ready": kb.ready, "hits": [hit_dict(h) for h in hits]}
    )


@routes.get("/api/kb/status")
@requires()
async def kb_status(request: web.Request) -> web.Response:
    """How many articles there are and whether the search index is built."""
    return web.json_response(await request.app[KNOWLEDGE_BASE].status())


async def _read_limited(stream: Any, limit: int, total: int) -> tuple[bytes, int]:
    """Read a stream to its end; 413 once the upload passes the limit."""
    chunks: list[bytes] = []
    while True:
        chunk = (
            await stream.read_chunk(64 * 1024) if isinstance(stream, BodyPartReader) else await stream.read(64 * 1024)
        )
        if not chunk:
            return b"".join(chunks), total
        total += len(chunk)
        if total > limit:
            raise DomainError(
                f"the upload is larger than {limit // (1024 * 1024)} MiB", code="payload_too_large", status=413
            )
        chunks.append(chunk)


async def _uploaded(request: web.Request, raw_types: dict[str, str]) -> tuple[list[NamedFile], dict[str, str]]:
    """Files from a multipart form (with its small text fields) or one raw body of an accepted type."""
    limit = request.app[KNOWLEDGE_BASE].config.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise DomainError(
            f"the upload is larger than {limit // (1024 * 1024)} MiB", code="payload_too_large", status=413
        )
    files: list[NamedFile] = []
    form: dict[str, str] = {}
    if request.content_type == "multipart/form-data":
        total = 0
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader):
                continue
            data, total = await _read_limited(part, limit, total)
            if part.filename:
                files.append(NamedFile(part.filename, data))
            elif part.name:
                form[part.name] = data.decode("utf-8", "replace")[:100]
    elif request.content_type in raw_types:
        data, _ = await _read_limited(request.content, limit, 0)
        files.append(NamedFile(request.query.get("filename") or raw_types[request.content_type], data))
    else:
        accepted = ", ".join(["multipart/form-data", *raw_types])
        raise DomainError(f"send the files as one of: {accepted}", code="unsupported_media_type", status=415)
    if not files or not any(f.data for f in files):
        raise DomainError("the upload holds no file", code="empty_upload")
    return files, form


def _job_response(job: dict[str, Any]) -> web.Response:
    return web.json_response({"job": job}, status=202, headers={"Location": f"/api/kb/imports/{job['id']}"})


@routes.post("/api/kb/imports/markdown")
@requires(Role.DESIGNER)
async def import_markdown(request: web.Request) -> web.Response:
    """Import Markdown files (multipart, or one zip body); poll the returned job for progress."""
    files, _ = await _uploaded(request, _MARKDOWN_TYPES)
    kb = request.app[KNOWLEDGE_BASE]
    job_id = await kb.start_import("markdown", files, _author(request))
    return _job_response(await kb.job(job_id))


@routes.post("/api/kb/imports/csv")
@requires(Role.DESIGNER)
async def import_csv(request: web.Request) -> web.Response:
    """Import question,answer CSV; `status` (query or form field) is the default for rows without one."""
    files, form = await _uploaded(request, _CSV_TYPES)
    status = request.query.get("status") or form.get("status") or "draft"
    if status not in STATUSES:
        raise DomainError(f"status must be one of {', '.join(STATUSES)}", code="invalid_status")
    kb = request.app[KNOWLEDGE_BASE]
    job_id = await kb.start_import("csv", files, _author(request), default_status=status)
    return _job_response(await kb.job(job_id))


@routes.get("/api/kb/imports/{job}")
@requires(Role.DESIGNER)
async def import_job(request: web.Request) -> web.Response:
    """An import's progress: state (parsing, saving, done, failed, interrupted), done of total, problems."""
    return web.json_response({"job": await request.app[KNOWLEDGE_BASE].job(request.match_info["job"][:64])})


@routes.get("/api/kb/export")
@requires(Role.DESIGNER)
async def export_articles(request: web.Request) -> web.Response:
    """Unarchived articles as a zip of Markdown files (format=markdown) or one CSV (format=csv)."""
    fmt = _query_choice(request, "format", ("markdown", "csv")) or "markdown"
    status = _query_choice(request, "status", STATUSES)
    language = _query_choice(request, "language", LANGUAGES)
    articles = await request.app[KNOWLEDGE_BASE].store.for_export(status=status, language=language)
    loop = asyncio.get_running_loop()
    if fmt == "csv":
        body = await loop.run_in_executor(None, csv_bytes, articles)
        content_type, name = "text/csv", "kefu-articles.csv"
    else:
        body = await loop.run_in_executor(None, markdown_zip, articles)
        content_type, name = "application/zip", "kefu-articles.zip"
    return web.Response(
        body=body,
        content_type=content_type,
        charset="utf-8" if fmt == "csv" else None,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
