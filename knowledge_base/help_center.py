"""The public help center (/help…, no login, server-rendered) and the widget's article suggestions."""

from __future__ import annotations

from aiohttp import web

from agents_ui.security import public
from hub.http import json_error
from hub.keys import SETTINGS
from knowledge_base.article import LANGUAGES, Language
from knowledge_base.help_pages import (
    CSP,
    article_page,
    help_url,
    index_page,
    not_found_page,
    search_page,
)
from knowledge_base.keys import KNOWLEDGE_BASE
from knowledge_base.store import help_path

routes = web.RouteTableDef()

PAGE_SIZE = 30
SUGGEST_MAX_QUERY = 300


def reader_language(request: web.Request) -> Language:
    """?lang= when it is zh or en, else the browser's first choice of the two, else English."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    for entry in request.headers.get("Accept-Language", "").split(","):
        tag = entry.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def _html(body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=body,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
    )


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    return max(1, min(int(raw), 100_000)) if raw.isdigit() else 1


@routes.get("/help")
@public
async def help_index(request: web.Request) -> web.Response:
    """Published articles in the reader's language, newest first, optionally with one tag."""
    lang = reader_language(request)
    tag = request.query.get("tag") or None
    number = _page_number(request)
    store = request.app[KNOWLEDGE_BASE].store
    items, total = await store.find(
        status="published", language=lang, tag=tag, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    has_next = number * PAGE_SIZE < total
    return _html(index_page([s.article for s in items], lang, tag=tag, page_number=number, has_next=has_next))


@routes.get("/help/search")
@public
async def help_search(request: web.Request) -> web.Response:
    """Results in the reader's language first, then the other language's."""
    lang = reader_language(request)
    query = request.query.get("q", "").strip()
    if not query:
        raise web.HTTPFound(help_url("/help", lang=lang))
    kb = request.app[KNOWLEDGE_BASE]
    hits = await kb.search(query, language=lang, limit=20)
    other: Language = "en" if lang == "zh" else "zh"
    others = await kb.search(query, language=other, limit=5) if len(hits) < 5 else []
    return _html(search_page(query, lang, hits, others))


@routes.get("/help/articles/{slug}")
@public
async def help_article(request: web.Request) -> web.Response:
    """One published article; an old slug redirects to the new one, anything else is a 404 page."""
    slug = request.match_info["slug"]
    store = request.app[KNOWLEDGE_BASE].store
    found = await store.published(slug)
    if found is None:
        renamed = await store.renamed(slug)
        if renamed is not None:
            raise web.HTTPMovedPermanently(help_path(renamed))
        return _html(not_found_page(reader_language(request)), status=404)
    return _html(article_page(found.article))


@routes.get("/webchat/kb/suggest")
@public
async def suggest(request: web.Request) -> web.Response:
    """Articles for what a web-chat visitor is typing; open to the sites that may embed the chat."""
    allowed = request.app[SETTINGS].webchat_allowed_origins
    origin = request.headers.get("Origin")
    if allowed and origin is not None and origin not in allowed:
        return json_error(403, "origin_not_allowed", "this site may not embed the chat")
    cors = {"Access-Control-Allow-Origin": origin if allowed and origin else "*", "Vary": "Origin"}
    query = request.query.get("q", "").strip()[:SUGGEST_MAX_QUERY]
    if not query:
        response = json_error(400, "missing_query", "give what the visitor typed as ?q=")
        response.headers.update(cors)
        return response
    lang = request.query.get("lang") or None
    if lang is not None and lang not in LANGUAGES:
        response = json_error(400, "invalid_lang", f"lang must be one of {', '.join(LANGUAGES)}")
        response.headers.update(cors)
        return response
    raw_limit = request.query.get("limit", "3")
    limit = min(int(raw_limit), 5) if raw_limit.isdigit() and int(raw_limit) > 0 else 3
    hits = await request.app[KNOWLEDGE_BASE].search(query, language=lang, limit=limit)
    articles = [
        {"title": h.title, "url": help_path(h.slug), "language": h.language, "snippet": h.snippet.text} for h in hits
    ]
    return web.json_response({"articles": articles}, headers=cors)
