"""The bot designer's workspace API: the working draft, versions trained from it, evaluations and lint."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from agents_ui.bot_api import MAX_IMPORT_BYTES, import_content
from agents_ui.security import current_agent, requires
from bots.content import (
    BotContent,
    ContentError,
    content_from_json,
    content_to_json,
    intent_from_json,
    intent_to_json,
    response_from_json,
)
from bots.draft import MissingItem, delete_intent, delete_response, replace_intent, replace_response
from bots.draft_merge import merge_drafts
from bots.draft_store import Edit
from bots.lint import lint
from bots.rasa_format import RasaFormatError, from_bot_content, write_domain, write_nlu
from bots.service import BOT_SERVICE as BOT
from hub.domain import Conflict, DomainError, NotFound, Role
from hub.http import field_str, path_int, read_json

routes = web.RouteTableDef()


def actor(request: web.Request) -> str:
    """Who did it, as version and draft rows record it."""
    return f"agent:{current_agent(request).id}"


def meta(draft: dict[str, Any]) -> dict[str, Any]:
    """The draft without its content: what edits answer, so a big bot is not sent back on every keystroke."""
    return {k: v for k, v in draft.items() if k != "content"}


def int_field(data: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    """An integer field from a JSON body, checked (booleans are not numbers here)."""
    value = data.get(name)
    if value is None:
        if required:
            raise DomainError(f"'{name}' is required", code="missing_field")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"'{name}' must be an integer", code="invalid_field")
    return value


def query_revision(request: web.Request) -> int:
    """The `revision` query parameter (DELETE has no body)."""
    raw = request.query.get("revision")
    if raw is None:
        raise DomainError("'revision' is required (?revision=N)", code="missing_field")
    try:
        return int(raw)
    except ValueError as exc:
        raise DomainError("'revision' must be an integer", code="invalid_field") from exc


async def apply(request: web.Request, edit: Edit, revision: int | None, **rebase: Any) -> dict[str, Any]:
    """Run a draft edit; content mistakes are 422 naming the place, missing names 404."""
    try:
        return await request.app[BOT].drafts.edit(edit, revision=revision, actor=actor(request), **rebase)
    except ContentError as exc:
        raise DomainError(str(exc), code="invalid_content", status=422) from exc
    except MissingItem as exc:
        raise NotFound(str(exc)) from exc


def parsed(build: Any) -> Any:
    """Parse a piece of content, turning its mistakes into a 422."""
    try:
        return build()
    except ContentError as exc:
        raise DomainError(str(exc), code="invalid_content", status=422) from exc


async def named_body(request: web.Request, parse: Callable[[Any], Any]) -> tuple[str, int, Any]:
    """The {name} in the path, the body's revision, and the item the rest of the body describes."""
    name = request.match_info["name"]
    data = await read_json(request, max_bytes=MAX_IMPORT_BYTES)
    revision = int_field(data, "revision")
    assert revision is not None
    body = {k: v for k, v in data.items() if k != "revision"}
    body.setdefault("name", name)
    return name, revision, parsed(lambda: parse(body))


# ------------------------------------------------------------------------------------------------ draft


@routes.get("/api/bot/draft")
@requires(Role.DESIGNER)
async def get_draft(request: web.Request) -> web.Response:
    """The working draft: content, the version it came from, revision, last change."""
    return web.json_response({"draft": await request.app[BOT].drafts.get()})


@routes.put("/api/bot/draft")
@requires(Role.DESIGNER)
async def put_draft(request: web.Request) -> web.Response:
    """Replace the whole draft: at `revision` (else 409), or with `base` merged with what others saved meanwhile."""
    data = await read_json(request, max_bytes=MAX_IMPORT_BYTES * 2)
    revision = int_field(data, "revision")
    if not isinstance(data.get("content"), dict):
        raise DomainError("'content' must be Kefu's bot JSON object", code="missing_field")
    content = parsed(lambda: content_from_json(data["content"]))
    if data.get("base") is None:
        return web.json_response({"draft": await apply(request, lambda _old: content, revision)})
    if not isinstance(data["base"], dict):
        raise DomainError("'base' must be the bot JSON the edit started from", code="invalid_field")
    base = content_to_json(parsed(lambda: content_from_json(data["base"])))
    mine = content_to_json(content)
    draft = await apply(request, lambda current: merged_edit(base, mine, current), None)
    # Anything in the saved draft that is not what was sent came from someone else's save.
    return web.json_response({"draft": draft, "merged": draft["content"] != mine})


def merged_edit(base: dict[str, Any], mine: dict[str, Any], current: BotContent) -> BotContent:
    """The draft with this designer's changes (mine against base) merged in; a 409 naming both-sides edits."""
    result = merge_drafts(base, mine, content_to_json(current))
    if result.conflicts:
        names = ", ".join(f"{c.kind} '{c.name}'" for c in result.conflicts)
        raise Conflict(
            f"someone else saved changes to the same items: {names}; reload to see theirs and make yours again",
            code="merge_conflict", details={"conflicts": [c.as_json() for c in result.conflicts]},
        )
    return content_from_json(result.content)


@routes.get("/api/bot/draft/intents")
@requires(Role.DESIGNER)
async def list_intents(request: web.Request) -> web.Response:
    """The draft's intents with example counts, responses, and the latest evaluation's scores."""
    service = request.app[BOT]
    draft = await service.drafts.get()
    content = content_from_json(draft["content"])
    evaluated_id, evaluation = await service.store.latest_evaluation()
    scores = (evaluation or {}).get("per_intent", {})
    listing = []
    for intent in content.intents:
        score = scores.get(intent.name)
        listing.append({
            "name": intent.name,
            "example_count": len(intent.examples),
            "responses": [r.name for r in content.responses if r.name == f"utter_{intent.name}"],
            "precision": score["precision"] if score else None,
            "recall": score["recall"] if score else None,
            "f1": score["f1"] if score else None,
            "support": score["support"] if score else None,
        })
    return web.json_response({"intents": listing, "revision": draft["revision"],
                              "evaluation_version_id": evaluated_id})


@routes.put("/api/bot/draft/intents/{name}")
@requires(Role.DESIGNER)
async def put_intent(request: web.Request) -> web.Response:
    """Replace (or add) one intent with its examples; a different "name" in the body renames it."""
    name, revision, intent = await named_body(request, intent_from_json)
    draft = await apply(request, lambda c: replace_intent(c, name, intent), revision)
    return web.json_response({"draft": meta(draft), "intent": intent_to_json(intent)})


@routes.delete("/api/bot/draft/intents/{name}")
@requires(Role.DESIGNER)
async def delete_intent_route(request: web.Request) -> web.Response:
    """Remove one intent and its examples (?revision=N)."""
    name = request.match_info["name"]
    draft = await apply(request, lambda c: delete_intent(c, name), query_revision(request))
    return web.json_response({"draft": meta(draft)})


@routes.put("/api/bot/draft/responses/{name}")
@requires(Role.DESIGNER)
async def put_response(request: web.Request) -> web.Response:
    """Replace (or add) one response with its variations; a different "name" renames it."""
    name, revision, response = await named_body(request, response_from_json)
    draft = await apply(request, lambda c: replace_response(c, name, response), revision)
    return web.json_response({"draft": meta(draft)})


@routes.delete("/api/bot/draft/responses/{name}")
@requires(Role.DESIGNER)
async def delete_response_route(request: web.Request) -> web.Response:
    """Remove one response (?revision=N)."""
    name = request.match_info["name"]
    draft = await apply(request, lambda c: delete_response(c, name), query_revision(request))
    return web.json_response({"draft": meta(draft)})


@routes.get("/api/bot/draft/lint")
@requires(Role.DESIGNER)
async def lint_draft(request: web.Request) -> web.Response:
    """What to fix in the draft before training: conflicts, duplicates, thin intents, missing responses."""
    draft = await request.app[BOT].drafts.get()
    return web.json_response({"revision": draft["revision"], "lint": lint(content_from_json(draft["content"]))})


@routes.post("/api/bot/draft/import")
@requires(Role.DESIGNER)
async def import_draft(request: web.Request) -> web.Response:
    """Replace the draft with imported content (Kefu JSON, or Rasa nlu.yml + domain.yml); optional revision."""
    data = await read_json(request, max_bytes=MAX_IMPORT_BYTES)
    revision = int_field(data, "revision", required=False)
    content, _source = import_content(data)
    return web.json_response({"draft": await apply(request, lambda _old: content, revision)})


@routes.get("/api/bot/draft/export")
@requires(Role.DESIGNER)
async def export_draft(request: web.Request) -> web.Response:
    """The draft as Kefu JSON (?format=kefu) or Rasa nlu.yml + domain.yml (?format=rasa), with article links."""
    kind = request.query.get("format", "kefu")
    if kind not in ("kefu", "rasa"):
        raise DomainError("format must be 'kefu' or 'rasa'", code="invalid_field")
    service = request.app[BOT]
    draft = await service.drafts.get()
    links = await service.review.article_links()
    if kind == "kefu":
        return web.json_response({"content": draft["content"], "article_links": links,
                                  "revision": draft["revision"]})
    content: BotContent = content_from_json(draft["content"])
    try:
        nlu, domain = from_bot_content(content)
    except RasaFormatError as exc:
        raise DomainError(str(exc), code="not_expressible_in_rasa", status=422) from exc
    return web.json_response({"nlu": write_nlu(nlu), "domain": write_domain(domain), "article_links": links,
                              "revision": draft["revision"]})


@routes.post("/api/bot/draft/reset")
@requires(Role.DESIGNER)
async def reset_draft(request: web.Request) -> web.Response:
    """Load a version's content into the draft (the draft's own edits are replaced); optional revision."""
    data = await read_json(request)
    version_id = int_field(data, "version_id")
    revision = int_field(data, "revision", required=False)
    assert version_id is not None
    record = await request.app[BOT].store.version(version_id)
    draft = await apply(request, lambda _old: record.content, revision, base_version_id=version_id, rebase=True)
    return web.json_response({"draft": draft})


@routes.post("/api/bot/draft/versions")
@requires(Role.DESIGNER)
async def version_from_draft(request: web.Request) -> web.Response:
    """Snapshot the draft as a new version and train it (202; poll GET /api/bot/versions/{id})."""
    data = await read_json(request)
    label = field_str(data, "label", required=False, max_len=200)
    settings = data.get("settings")
    if settings is not None and not isinstance(settings, dict):
        raise DomainError("'settings' must be an object", code="invalid_field")
    for flag in ("train", "activate"):
        if not isinstance(data.get(flag, False), bool):
            raise DomainError(f"'{flag}' must be true or false", code="invalid_field")
    revision = int_field(data, "revision", required=False)
    service = request.app[BOT]
    draft = await service.drafts.get()
    if revision is not None and revision != draft["revision"]:
        raise DomainError(f"the draft is at revision {draft['revision']}, not {revision}; reload before training",
                          code="stale_revision", status=409)
    content = content_from_json(draft["content"])
    if settings is None:
        settings = await _base_settings(request, draft["base_version_id"])
    try:
        version_id = await service.create_version(
            content, label=label or f"Draft revision {draft['revision']}", source="designer",
            settings=settings, actor=actor(request))
    except ValueError as exc:
        raise DomainError(str(exc), code="invalid_settings", status=422) from exc
    await service.drafts.rebase(version_id)
    train = data.get("train", True)
    if train:
        await service.train(version_id, activate=bool(data.get("activate", False)), actor=actor(request))
    version = await service.store.version_info(version_id)
    return web.json_response({"version": version, "draft_revision": draft["revision"]}, status=202 if train else 201)


async def _base_settings(request: web.Request, base_version_id: int | None) -> dict[str, Any]:
    """The settings of the version the draft came from, when it was an embedded one (mode, thresholds)."""
    if base_version_id is None:
        return {}
    try:
        record = await request.app[BOT].store.version(base_version_id)
    except NotFound:
        return {}
    return dict(record.settings) if record.engine == "embedded" else {}


# ------------------------------------------------------------------------------------------------ evaluation


@routes.get("/api/bot/versions/{id}/evaluation")
@requires(Role.DESIGNER)
async def evaluation(request: web.Request) -> web.Response:
    """A version's held-out evaluation (null until trained) and its content's lint."""
    version_id = path_int(request, "id")
    store = request.app[BOT].store
    version, result = await store.evaluation(version_id)
    record = await store.version(version_id)
    return web.json_response({"version": version, "evaluation": result, "lint": lint(record.content)})
