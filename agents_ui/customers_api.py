"""The customer-record API: record fields and attributes, history, timeline, CSV import/export, privacy."""
from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import BodyPartReader, web

from agents_ui.security import current_agent, requires
from hub.customers.attributes import AttributeDef
from hub.customers.csv_io import export_header, export_lines, header_line
from hub.customers.errors import FieldError
from hub.customers.fields import normalize_stage, normalize_tier
from hub.customers.keys import CUSTOMERS
from hub.customers.privacy import BASES
from hub.customers.timeline import parse_query
from hub.domain import DomainError, Role
from hub.http import json_error, path_int, read_json

routes = web.RouteTableDef()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")
EXPORT_PAGE = 1000


def _field_errors(handler: Handler) -> Handler:
    """A bad field is a 400 that names it: {"error", "message", "field"}."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except FieldError as error:
            return json_error(error.status, error.code, error.message, field=error.field)

    return wrapped


def _actor(request: web.Request) -> str:
    return f"agent:{current_agent(request).id}"


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DomainError(f"{name} must be a whole number", code=f"invalid_{name}") from None
    if not low <= value <= high:
        raise DomainError(f"{name} must be between {low} and {high}", code=f"invalid_{name}")
    return value


def _moment(request: web.Request, name: str, *, end: bool) -> datetime | None:
    raw = request.query.get(name, "")
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + (timedelta(days=1) if end else timedelta())
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{name} must be a date or an ISO 8601 time", code=f"invalid_{name}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- records


@routes.post("/api/customers")
@requires()
@_field_errors
async def create_customer(request: web.Request) -> web.Response:
    """Enter a customer by hand (fields as in PATCH /record); 409 if one of the emails is already known."""
    data = await read_json(request)
    service = request.app[CUSTOMERS]
    customer_id = await service.records.create(_actor(request), data)
    return web.json_response({"customer": await service.reads.record(customer_id)}, status=201)


@routes.get("/api/customers/{id}/record")
@requires()
async def get_record(request: web.Request) -> web.Response:
    """The whole record: fields, emails and phones, custom attributes, identities, CSAT summary."""
    customer_id = path_int(request, "id")
    return web.json_response({"customer": await request.app[CUSTOMERS].reads.record(customer_id)})


@routes.patch("/api/customers/{id}/record")
@requires()
@_field_errors
async def patch_record(request: web.Request) -> web.Response:
    """Edit fields (checked; 400 names the bad one); the change is logged with before and after."""
    customer_id = path_int(request, "id")
    data = await read_json(request)
    service = request.app[CUSTOMERS]
    changed = await service.records.update(customer_id, _actor(request), data)
    return web.json_response({"customer": await service.reads.record(customer_id), "changed": changed})


@routes.get("/api/customers/{id}/history")
@requires()
async def record_history(request: web.Request) -> web.Response:
    """Field changes, newest first: ?field=tier,attributes&actor=agent:3&from=&to=&limit=&before=<event id>."""
    customer_id = path_int(request, "id")
    fields = [f.strip() for f in request.query.get("field", "").split(",") if f.strip()]
    since, until = _moment(request, "from", end=False), _moment(request, "to", end=True)
    before = _int(request, "before", 0, 0, 2**62) or None
    limit = _int(request, "limit", 100, 1, 500)
    changes, next_before = await request.app[CUSTOMERS].reads.history(
        customer_id, fields=fields, actor=request.query.get("actor") or None, since=since, until=until,
        before_event=before, limit=limit,
    )
    return web.json_response({"changes": [c.as_dict() for c in changes], "next_before": next_before})


@routes.get("/api/customers/{id}/timeline")
@requires()
async def record_timeline(request: web.Request) -> web.Response:
    """Every exchange and state change in one view: ?kind=&channel=&from=&to=&q=&order=&limit=&cursor=."""
    customer_id = path_int(request, "id")
    query = parse_query(request.query)
    return web.json_response(await request.app[CUSTOMERS].timeline(customer_id, query))


# ---------------------------------------------------------------------------------------------- attributes


@routes.get("/api/customer-attributes")
@requires()
async def list_attributes(request: web.Request) -> web.Response:
    """Custom attribute definitions, in display order (every agent needs them to show a record)."""
    return web.json_response({"attributes": await request.app[CUSTOMERS].reads.definitions()})


@routes.post("/api/customer-attributes")
@requires(Role.ADMIN)
@_field_errors
async def define_attribute(request: web.Request) -> web.Response:
    """Define an attribute: {"key", "label", "type": text|number|date|choice, "choices", "min", "max", ...}."""
    definition = await request.app[CUSTOMERS].records.define_attribute(await read_json(request))
    return web.json_response({"attribute": definition.as_dict()}, status=201)


@routes.patch("/api/customer-attributes/{key}")
@requires(Role.ADMIN)
@_field_errors
async def redefine_attribute(request: web.Request) -> web.Response:
    """Change label, description, position, choices or limits (key and type never change)."""
    key = request.match_info["key"][:40]
    definition: AttributeDef = await request.app[CUSTOMERS].records.redefine_attribute(key, await read_json(request))
    return web.json_response({"attribute": definition.as_dict()})


@routes.delete("/api/customer-attributes/{key}")
@requires(Role.ADMIN)
async def delete_attribute(request: web.Request) -> web.Response:
    """Remove a definition; 409 while records hold values, unless ?purge=true removes those too."""
    key = request.match_info["key"][:40]
    purge = request.query.get("purge", "").lower() in ("1", "true", "yes")
    removed = await request.app[CUSTOMERS].records.delete_attribute(key, _actor(request), purge=purge)
    return web.json_response({"deleted": key, "values_removed": removed})


# ---------------------------------------------------------------------------------------------- CSV


async def _upload(request: web.Request, limit: int) -> tuple[bytes, str]:
    """The CSV from a multipart form (first file) or a raw text/csv body; 413 past the limit."""
    if request.content_length is not None and request.content_length > limit:
        raise DomainError(f"the file is larger than {limit // (1024 * 1024)} MiB", code="payload_too_large",
                          status=413)

    async def read_all(read: Callable[[int], Awaitable[bytes]]) -> bytes:
        chunks, total = [], 0
        while chunk := await read(64 * 1024):
            total += len(chunk)
            if total > limit:
                raise DomainError(f"the file is larger than {limit // (1024 * 1024)} MiB",
                                  code="payload_too_large", status=413)
            chunks.append(chunk)
        return b"".join(chunks)

    if request.content_type == "multipart/form-data":
        async for part in await request.multipart():
            if isinstance(part, BodyPartReader) and part.filename:
                return await read_all(part.read_chunk), part.filename
        raise DomainError("the form holds no file", code="empty_upload")
    if request.content_type in _CSV_TYPES:
        return await read_all(request.content.read), request.query.get("filename") or "customers.csv"
    raise DomainError("send the CSV as multipart/form-data or text/csv", code="unsupported_media_type", status=415)


@routes.post("/api/customer-imports")
@requires(Role.SUPERVISOR)
async def import_customers(request: web.Request) -> web.Response:
    """Import a CSV in the background (202 with the job); a bad header is a 400 at once."""
    service = request.app[CUSTOMERS]
    data, filename = await _upload(request, service.settings.import_max_bytes)
    if not data.strip():
        raise DomainError("the file is empty", code="empty_upload")
    job_id = await service.imports.start(data, filename, current_agent(request).id, _actor(request))
    return web.json_response(
        {"job": await service.imports.job(job_id)}, status=202, headers={"Location": f"/api/customer-imports/{job_id}"}
    )


@routes.get("/api/customer-imports/{job}")
@requires(Role.SUPERVISOR)
async def import_job(request: web.Request) -> web.Response:
    """An import's progress: state, processed of total, created/updated/unchanged/skipped, per-row problems."""
    return web.json_response({"job": await request.app[CUSTOMERS].imports.job(request.match_info["job"][:32])})


def _csv_text(header: list[str], records: list[dict[str, Any]]) -> str:
    return "".join(export_lines(header, records))


@routes.get("/api/customer-export")
@requires(Role.SUPERVISOR)
async def export_customers(request: web.Request) -> web.StreamResponse:
    """Every live record as CSV (UTF-8 with BOM for Excel), streamed; ?lifecycle_stage=&tier=&tag= narrow it."""
    try:
        stage = normalize_stage(request.query["lifecycle_stage"]) if request.query.get("lifecycle_stage") else None
        tier = normalize_tier(request.query["tier"]) if request.query.get("tier") else None
    except FieldError as error:
        return json_error(400, error.code, error.message, field=error.field)
    tag = (request.query.get("tag") or "").strip().casefold() or None
    service = request.app[CUSTOMERS]
    definitions = await service.reads.definitions()
    header = export_header(AttributeDef(d["key"], d["label"], d["type"]) for d in definitions)
    response = web.StreamResponse(
        headers={"Content-Type": "text/csv; charset=utf-8",
                 "Content-Disposition": 'attachment; filename="kefu-customers.csv"'}
    )
    await response.prepare(request)
    await response.write(("\ufeff" + header_line(header)).encode())
    loop = asyncio.get_running_loop()
    after = 0
    while True:
        page = await service.reads.export_page(after, EXPORT_PAGE, stage=stage, tier=tier)
        if not page:
            break
        after = page[-1]["id"]
        if tag is not None:
            page = [r for r in page if tag in {t.casefold() for t in r["tags"]}]
        text = await loop.run_in_executor(None, _csv_text, header, page)
        await response.write(text.encode())
    await response.write_eof()
    return response


# ---------------------------------------------------------------------------------------------- privacy


@routes.get("/api/customers/{id}/privacy/export")
@requires(Role.SUPERVISOR)
async def privacy_export(request: web.Request) -> web.Response:
    """Everything Kefu holds about the person, as one JSON file (the export is logged on the record)."""
    customer_id = path_int(request, "id")
    data = await request.app[CUSTOMERS].export_person(customer_id, _actor(request))
    body = await asyncio.get_running_loop().run_in_executor(
        None, lambda: json.dumps(data, ensure_ascii=False, indent=1)
    )
    return web.Response(
        text=body,
        content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="kefu-customer-{customer_id}.json"'},
    )


@routes.post("/api/customers/{id}/privacy/erase")
@requires(Role.ADMIN)
async def privacy_erase(request: web.Request) -> web.Response:
    """Erase the person: {"confirm": <this customer id>, "basis": "gdpr"|"pipl"|"other"}."""
    customer_id = path_int(request, "id")
    data = await read_json(request)
    confirm = data.get("confirm")
    if confirm != customer_id or isinstance(confirm, bool):
        raise DomainError("confirm the erasure by sending this customer's id as 'confirm'", code="not_confirmed")
    basis = data.get("basis")
    if basis not in BASES:
        raise DomainError(f"basis must be one of {', '.join(BASES)}", code="invalid_basis")
    erasure = await request.app[CUSTOMERS].erase_person(customer_id, _actor(request), basis)
    return web.json_response({"erased": {"customer_id": customer_id, **erasure.counts}})
