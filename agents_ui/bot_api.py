"""The bot designer's API: versions, imports (Rasa or Kefu JSON), training, testing, activation, rollback."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from agents_ui.security import current_agent, requires
from bots.content import BotContent, ContentError, content_from_json, content_to_json
from bots.policy import Memory
from bots.rasa_format import (
    RasaFormatError,
    from_bot_content,
    read_domain_text,
    read_nlu_text,
    to_bot_content,
    write_domain,
    write_nlu,
)
from bots.service import BOT_SERVICE as BOT
from hub.domain import DomainError, Role
from hub.http import field_str, path_int, read_json

routes = web.RouteTableDef()

MAX_IMPORT_BYTES = 20_000_000


def _actor(request: web.Request) -> str:
    return f"agent:{current_agent(request).id}"


def import_content(data: dict[str, Any]) -> tuple[BotContent, str]:
    """The content of an import body: {"format": "kefu", "content": {...}} or {"format": "rasa", "nlu", "domain"}."""
    kind = data.get("format", "kefu")
    try:
        if kind == "kefu":
            if not isinstance(data.get("content"), dict):
                raise DomainError("'content' must be Kefu's bot JSON object", code="missing_field")
            return content_from_json(data["content"]), "kefu-json"
        if kind == "rasa":
            nlu = read_nlu_text(field_str(data, "nlu", max_len=MAX_IMPORT_BYTES), "nlu.yml")
            domain_text = field_str(data, "domain", required=False, max_len=MAX_IMPORT_BYTES)
            domain = read_domain_text(domain_text, "domain.yml") if domain_text.strip() else None
            return to_bot_content(nlu, domain), "rasa"
    except (ContentError, RasaFormatError) as exc:
        raise DomainError(str(exc), code="invalid_content", status=422) from exc
    raise DomainError("format must be 'kefu' or 'rasa'", code="invalid_field")


@routes.get("/api/bot/versions")
@requires(Role.DESIGNER)
async def list_versions(request: web.Request) -> web.Response:
    """Every bot version, newest first, and which one is active."""
    items, active = await request.app[BOT].store.list_versions()
    return web.json_response({"versions": items, "active_version_id": active})


@routes.post("/api/bot/versions")
@requires(Role.DESIGNER)
async def create_version(request: web.Request) -> web.Response:
    """Import content as a new version; it is trained at once unless "train": false."""
    data = await read_json(request, max_bytes=MAX_IMPORT_BYTES)
    content, source = import_content(data)
    engine = data.get("engine", "embedded")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise DomainError("'settings' must be an object", code="invalid_field")
    if engine == "rasa" and not isinstance(settings.get("rasa"), dict):
        raise DomainError("a Rasa version needs settings.rasa: {url, mode, token, timeout}", code="missing_field")
    label = field_str(data, "label", required=False, max_len=200) or f"{source} import"
    service = request.app[BOT]
    try:
        version_id = await service.create_version(content, label=label, source=source, engine_name=str(engine),
                                                  settings=settings, actor=_actor(request))
    except ValueError as exc:
        raise DomainError(str(exc), code="invalid_settings", status=422) from exc
    if data.get("train", True):
        await service.train(version_id, activate=bool(data.get("activate", False)), actor=_actor(request))
    return web.json_response({"version": await service.store.version_info(version_id)}, status=201)


@routes.get("/api/bot/versions/{id}")
@requires(Role.DESIGNER)
async def get_version(request: web.Request) -> web.Response:
    """One version: status, training progress, metrics."""
    version_id = path_int(request, "id")
    return web.json_response({"version": await request.app[BOT].store.version_info(version_id)})


@routes.get("/api/bot/versions/{id}/content")
@requires(Role.DESIGNER)
async def get_content(request: web.Request) -> web.Response:
    """A version's content as Kefu JSON, or as Rasa nlu.yml + domain.yml with ?format=rasa."""
    record = await request.app[BOT].store.version(path_int(request, "id"))
    if request.query.get("format") == "rasa":
        try:
            nlu, domain = from_bot_content(record.content)
            return web.json_response({"nlu": write_nlu(nlu), "domain": write_domain(domain)})
        except RasaFormatError as exc:
            raise DomainError(str(exc), code="not_expressible_in_rasa", status=422) from exc
    return web.json_response({"content": content_to_json(record.content)})


@routes.post("/api/bot/versions/{id}/train")
@requires(Role.DESIGNER)
async def train(request: web.Request) -> web.Response:
    """Train (or retrain) a version in the background; poll the version for progress."""
    version_id = path_int(request, "id")
    data = await read_json(request) if request.can_read_body else {}
    service = request.app[BOT]
    await service.train(version_id, activate=bool(data.get("activate", False)), actor=_actor(request))
    return web.json_response({"version": await service.store.version_info(version_id)}, status=202)


@routes.post("/api/bot/versions/{id}/test")
@requires(Role.DESIGNER)
async def test_message(request: web.Request) -> web.Response:
    """What this version would understand and answer for a message, and whether it would hand off."""
    version_id = path_int(request, "id")
    data = await read_json(request)
    text = field_str(data, "text", max_len=4000)
    channel = field_str(data, "channel", required=False, max_len=32) or "webchat"
    tier = field_str(data, "tier", required=False, max_len=32) or "standard"
    memory = Memory.from_json(data["memory"]) if isinstance(data.get("memory"), dict) else None
    result = await request.app[BOT].test_message(version_id, text, channel=channel, tier=tier, memory=memory)
    return web.json_response(result)


@routes.post("/api/bot/versions/{id}/activate")
@requires(Role.DESIGNER)
async def activate(request: web.Request) -> web.Response:
    """Make a trained version the one that answers customers, at once (no restart)."""
    version_id = path_int(request, "id")
    store = request.app[BOT].store
    previous = await store.activate(version_id, _actor(request))
    return web.json_response({"version": await store.version_info(version_id), "previous_version_id": previous})


@routes.post("/api/bot/rollback")
@requires(Role.DESIGNER)
async def rollback(request: web.Request) -> web.Response:
    """Go back to the version that was active before the current one."""
    store = request.app[BOT].store
    version_id = await store.rollback(_actor(request))
    return web.json_response({"version": await store.version_info(version_id)})
