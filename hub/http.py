"""HTTP plumbing shared by every route: JSON errors and checked JSON bodies."""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from hub.client_address import Network, client_address
from hub.domain import DomainError

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_error(status: int, code: str, message: str, **extra: Any) -> web.Response:
    """A JSON error body: {"error": code, "message": text}."""
    return web.json_response({"error": code, "message": message, **extra}, status=status)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a JSON error; never leak a traceback to the client."""
    try:
        return await handler(request)
    except DomainError as exc:
        return json_error(exc.status, exc.code, exc.message, **exc.details)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        code = _HTTP_CODES.get(exc.status, "error")
        return json_error(exc.status, code, exc.reason if exc.text is None else _plain(exc.text, exc.reason))
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "internal_error", "something went wrong; the error was logged")


def _plain(text: str, reason: str) -> str:
    # aiohttp's default bodies look like "404: Not Found"; keep only the words.
    return text.split(": ", 1)[-1] if text.startswith(tuple("12345")) else (text or reason)


def request_address(request: web.Request, proxies: tuple[Network, ...]) -> str:
    """The client's address for this request, looking through the trusted reverse proxies."""
    return client_address(request.remote, request.headers.get("X-Forwarded-For"), proxies)


async def read_json(request: web.Request, *, max_bytes: int = 1_000_000) -> dict[str, Any]:
    """The request body as a JSON object, or a clear 4xx."""
    if request.content_type != "application/json":
        raise DomainError("send the body as application/json", code="unsupported_media_type", status=415)
    if request.content_length is not None and request.content_length > max_bytes:
        raise DomainError("the request body is too large", code="payload_too_large", status=413)
    raw = await request.read()
    if len(raw) > max_bytes:
        raise DomainError("the request body is too large", code="payload_too_large", status=413)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(f"the body is not valid JSON: {exc}", code="bad_json") from exc
    if not isinstance(data, dict):
        raise DomainError("the body must be a JSON object", code="bad_json")
    return data


def field_str(data: dict[str, Any], name: str, *, required: bool = True, max_len: int = 10_000) -> str:
    """A string field from a JSON body, checked."""
    value = data.get(name)
    if value is None:
        if required:
            raise DomainError(f"'{name}' is required", code="missing_field")
        return ""
    if not isinstance(value, str):
        raise DomainError(f"'{name}' must be a string", code="invalid_field")
    if len(value) > max_len:
        raise DomainError(f"'{name}' is longer than {max_len} characters", code="too_long")
    return value


def path_int(request: web.Request, name: str) -> int:
    """An integer path parameter, or 404."""
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError) as exc:
        raise DomainError(f"{name} must be a number", code="not_found", status=404) from exc
