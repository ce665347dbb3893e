"""The bot designer's review inbox: customer messages to turn into examples, article links or out-of-scope."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from agents_ui.designer_api import actor, int_field, meta
from agents_ui.security import requires
from bots.content import ContentError
from bots.draft import MissingItem, add_example, out_of_scope_name
from bots.draft_store import Edit
from bots.review_store import REASONS, STATUSES
from bots.service import BOT_SERVICE as BOT
from hub.domain import DomainError, Role
from hub.http import field_str, path_int, read_json

routes = web.RouteTableDef()

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _choice(request: web.Request, name: str, allowed: tuple[str, ...], default: str | None) -> str | None:
    value = request.query.get(name, default)
    if value is not None and value not in allowed:
        raise DomainError(f"{name} must be one of {', '.join(allowed)}", code="invalid_field")
    return value


def _positive(request: web.Request, name: str, default: int | None, largest: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise DomainError(f"{name} must be a whole number", code="invalid_field") from exc
    if value < 1 or (largest is not None and value > largest):
        raise DomainError(f"{name} must be between 1 and {largest or 'any'}", code="invalid_field")
    return value


@routes.get("/api/bot/review")
@requires(Role.DESIGNER)
async def review_inbox(request: web.Request) -> web.Response:
    """Items newest first (?status=pending&reason=&limit=&cursor=), with counts per reason."""
    status = _choice(request, "status", STATUSES, "pending")
    reason = _choice(request, "reason", REASONS, None)
    limit = _positive(request, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    cursor = _positive(request, "cursor", None)
    group = _choice(request, "group", ("text",), None)
    assert status is not None and limit is not None
    listing = await request.app[BOT].review.listing(
        status=status, reason=reason, limit=limit, cursor=cursor, grouped=group == "text"
    )
    return web.json_response(listing)


async def _resolve(request: web.Request, *, status: str, resolution: str | None, target: str | None,
                   edit: Edit | None = None, article_id: int | None = None) -> web.Response:
    item_id = path_int(request, "id")
    try:
        item, draft, also = await request.app[BOT].review.resolve(item_id, status=status, resolution=resolution,
                                                                   target=target, actor=actor(request), edit=edit,
                                                                   article_id=article_id)
    except MissingItem as exc:
        raise DomainError(str(exc), code="unknown_intent", status=422) from exc
    except ContentError as exc:
        raise DomainError(str(exc), code="invalid_content", status=422) from exc
    if draft is None:
        draft = await request.app[BOT].drafts.get()
    return web.json_response({"item": item, "draft": meta(draft), "also_resolved": also})


async def _item_text(request: web.Request) -> str:
    return str((await request.app[BOT].review.item(path_int(request, "id")))["text"])


@routes.post("/api/bot/review/{id}/assign")
@requires(Role.DESIGNER)
async def assign(request: web.Request) -> web.Response:
    """The message becomes an example of a draft intent ({"intent", "create": false}; unknown intent: 422)."""
    data = await read_json(request)
    intent = field_str(data, "intent", max_len=200).strip()
    if not intent:
        raise DomainError("'intent' must not be blank", code="invalid_field")
    create = data.get("create", False)
    if not isinstance(create, bool):
        raise DomainError("'create' must be true or false", code="invalid_field")
    text = await _item_text(request)
    return await _resolve(request, status="assigned", resolution="intent", target=intent,
                          edit=lambda c: add_example(c, intent, text, create=create))


@routes.post("/api/bot/review/{id}/article")
@requires(Role.DESIGNER)
async def link_article(request: web.Request) -> web.Response:
    """The message is answered by a knowledge-base article ({"article_id"}); the link is kept and exported."""
    data = await read_json(request)
    article_id = int_field(data, "article_id")
    return await _resolve(request, status="assigned", resolution="article", target=str(article_id),
                          article_id=article_id)


@routes.post("/api/bot/review/{id}/out-of-scope")
@requires(Role.DESIGNER)
async def out_of_scope(request: web.Request) -> web.Response:
    """The message becomes an out-of-scope example in the draft (the bot should not claim to understand it)."""
    text = await _item_text(request)

    def edit(content: Any) -> Any:
        return add_example(content, out_of_scope_name(content), text, create=True)

    return await _resolve(request, status="assigned", resolution="out_of_scope", target=None, edit=edit)


@routes.post("/api/bot/review/{id}/dismiss")
@requires(Role.DESIGNER)
async def dismiss(request: web.Request) -> web.Response:
    """Nothing to learn from this message."""
    return await _resolve(request, status="dismissed", resolution=None, target=None)
