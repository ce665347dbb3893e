"""A loopback stand-in for the Telegram Bot API: documented request and answer shapes, on a real socket.

Every call is `POST /bot<token>/<method>` with JSON, form or multipart parameters, answered with
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": ..., "description": ...}`; files are
served at `GET /file/bot<token>/<file_path>`. Tests queue updates, register files, block chats and
make the next N calls fail, then read back what was called.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

JsonDict = dict[str, Any]

BOT_USER: JsonDict = {
    "id": 7012345678,
    "is_bot": True,
    "first_name": "Kefu Support",
    "username": "kefu_support_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_GETFILE_BYTES = 20 * 1024 * 1024
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note"}
)
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
# Form and multipart values arrive as strings; these are the parameters the real API reads as
# numbers, booleans or JSON.
_INT_FIELDS = frozenset({"chat_id", "offset", "limit", "timeout", "message_id", "max_connections",
                         "cache_time", "reply_to_message_id"})
_BOOL_FIELDS = frozenset({"drop_pending_updates", "disable_notification", "show_alert",
                          "protect_content"})
_JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "entities", "caption_entities",
                          "reply_parameters", "link_preview_options"})


class ApiError(Exception):
    """An error answer the fake gives, shaped like Telegram's."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent to the fake as multipart."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API request as the fake understood it."""

    method: str
    params: JsonDict
    uploads: dict[str, Upload] = field(default_factory=dict)


@dataclass(slots=True)
class _Failure:
    method: str | None
    skip: int
    remaining: int
    code: int
    description: str
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class FakeTelegramAPI:
    """The Bot API on 127.0.0.1 for one bot token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.downloads: list[str] = []
        self.webhook: JsonDict | None = None
        self.blocked_chats: set[int] = set()
        self._updates: list[JsonDict] = []
        self._confirmed_below = 0
        self._arrived = asyncio.Condition()
        self._closing = False
        self._failures: list[_Failure] = []
        self._files: dict[str, _StoredFile] = {}
        self._message_ids = itertools.count(1000)
        self._file_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle_call)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        app.on_shutdown.append(self._wake_pollers)
        # No access log: its request lines would print the bot token into test output.
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Release long polls and stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_url(self) -> str:
        """What to pass as PTB's base_url (the token is appended to it)."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def file_url(self) -> str:
        """What to pass as PTB's base_file_url."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # --- what tests arrange ----------------------------------------------------------------

    async def queue_update(self, update: JsonDict) -> None:
        """Make an update available to getUpdates (and wake a waiting long poll)."""
        async with self._arrived:
            self._updates.append(update)
            self._arrived.notify_all()

    def add_file(self, file_id: str, data: bytes, *, file_path: str | None = None) -> None:
        """Make a file fetchable by getFile and its download URL."""
        path = file_path or f"documents/file_{next(self._file_ids)}"
        self._files[file_id] = _StoredFile(file_id, f"u-{file_id[-12:]}", path, data)

    def fail(
        self,
        method: str | None = None,
        *,
        times: int = 1,
        code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        after: int = 0,
    ) -> None:
        """Let `after` calls (of `method`, or any) through, then answer the next `times` with an error."""
        self._failures.append(_Failure(method, after, times, code, description, retry_after))

    def block(self, chat_id: int) -> None:
        """The user in this chat blocks the bot: sends to it get 403."""
        self.blocked_chats.add(chat_id)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates getUpdates has not seen confirmed yet."""
        return [u for u in self._updates if u["update_id"] >= self._confirmed_below]

    # --- the HTTP side ---------------------------------------------------------------------

    async def _handle_call(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        try:
            params, uploads = await _read_params(request)
        except ValueError as exc:
            return _error(ApiError(400, f"Bad Request: {exc}"))
        self.calls.append(Call(method, params, uploads))
        try:
            self._maybe_fail(method)
            handler = self._methods().get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, uploads)
        except ApiError as exc:
            return _error(exc)
        return web.json_response({"ok": True, "result": result})

    async def _handle_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        self.downloads.append(path)
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _error(ApiError(404, "Not Found"))

    async def _wake_pollers(self, _app: web.Application) -> None:
        async with self._arrived:
            self._closing = True
            self._arrived.notify_all()

    def _maybe_fail(self, method: str) -> None:
        for failure in self._failures:
            if failure.remaining > 0 and failure.method in (None, method):
                if failure.skip > 0:
                    failure.skip -= 1
                    continue
                failure.remaining -= 1
                parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
                raise ApiError(failure.code, failure.description, parameters)

    def _methods(self) -> dict[str, Callable[[JsonDict, dict[str, Upload]], Awaitable[Any]]]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }

    # --- methods -----------------------------------------------------------------------------

    async def _get_me(self, _params: JsonDict, _uploads: dict[str, Upload]) -> JsonDict:
        return dict(BOT_USER)

    async def _get_updates(self, params: JsonDict, _uploads: dict[str, Upload]) -> list[JsonDict]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            # An offset confirms every update below it; they are never served again.
            self._confirmed_below = max(self._confirmed_below, offset)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._arrived:
            while not self.pending_updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    break
            return self.pending_updates[:limit]

    async def _set_webhook(self, params: JsonDict, _uploads: dict[str, Upload]) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or not url:
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = dict(params)
        return True

    async def _delete_webhook(self, params: JsonDict, _uploads: dict[str, Upload]) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._confirmed_below = max((u["update_id"] + 1 for u in self._updates), default=0)
        return True

    async def _get_webhook_info(self, _params: JsonDict, _uploads: dict[str, Upload]) -> JsonDict:
        return {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending_updates),
        }

    async def _send_message(self, params: JsonDict, _uploads: dict[str, Upload]) -> JsonDict:
        chat_id = self._reachable_chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return self._message(chat_id, {"text": text}, params)

    async def _send_photo(self, params: JsonDict, uploads: dict[str, Upload]) -> JsonDict:
        chat_id = self._reachable_chat(params)
        data = self._media(params, uploads, "photo")
        unique = f"photo-{next(self._file_ids)}"
        sizes = [
            {"file_id": f"{unique}-s", "file_unique_id": f"{unique}-s", "width": 90, "height": 90,
             "file_size": min(len(data), 1500)},
            {"file_id": f"{unique}-m", "file_unique_id": f"{unique}-m", "width": 800,
             "height": 800, "file_size": len(data)},
        ]
        return self._message(chat_id, {"photo": sizes, **_caption(params)}, params)

    async def _send_document(self, params: JsonDict, uploads: dict[str, Upload]) -> JsonDict:
        chat_id = self._reachable_chat(params)
        data = self._media(params, uploads, "document")
        upload = uploads.get("document")
        unique = f"document-{next(self._file_ids)}"
        document = {
            "file_id": unique,
            "file_unique_id": unique,
            "file_name": upload.filename if upload else "file",
            "mime_type": upload.content_type if upload else "application/octet-stream",
            "file_size": len(data),
        }
        return self._message(chat_id, {"document": document, **_caption(params)}, params)

    async def _send_chat_action(self, params: JsonDict, _uploads: dict[str, Upload]) -> bool:
        self._reachable_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: JsonDict, _uploads: dict[str, Upload]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    async def _get_file(self, params: JsonDict, _uploads: dict[str, Upload]) -> JsonDict:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_GETFILE_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # --- helpers -----------------------------------------------------------------------------

    def _reachable_chat(self, params: JsonDict) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _media(self, params: JsonDict, uploads: dict[str, Upload], name: str) -> bytes:
        if name in uploads:
            return uploads[name].data
        ref = params.get(name)
        if isinstance(ref, str) and ref:
            # A file_id or an HTTP URL Telegram would fetch itself; the fake has no bytes for it.
            return b""
        raise ApiError(400, f"Bad Request: there is no {name} in the request")

    def _message(self, chat_id: int, content: JsonDict, params: JsonDict) -> JsonDict:
        message: JsonDict = {
            "message_id": next(self._message_ids),
            "from": dict(BOT_USER),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                     **({"first_name": "Customer"} if chat_id > 0 else {"title": "Group"})},
            "date": int(time.time()),
            **content,
        }
        markup = params.get("reply_markup")
        if markup is not None:
            _check_markup(markup)
            message["reply_markup"] = markup
        return message


async def _read_params(request: web.Request) -> tuple[JsonDict, dict[str, Upload]]:
    """Parameters from a JSON, urlencoded or multipart body (the three ways the API accepts)."""
    uploads: dict[str, Upload] = {}
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("parameters must be a JSON object")
        return body, uploads
    raw: dict[str, str] = {}
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename:
                content_type = part.headers.get("Content-Type", "application/octet-stream")
                uploads[part.name] = Upload(part.filename, content_type, bytes(await part.read()))
            else:
                raw[part.name] = await part.text()
    elif request.can_read_body:
        raw = {k: str(v) for k, v in (await request.post()).items()}
    raw.update({k: v for k, v in request.query.items() if k not in raw})
    return {k: _decode(k, v) for k, v in raw.items()}, uploads


def _decode(name: str, value: str) -> Any:
    if name in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if name in _BOOL_FIELDS:
        return value.lower() == "true"
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError(f"can't parse {name} JSON object") from None
    return value


def _check_markup(markup: Any) -> None:
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if rows is None:
        return
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(
            400, "Bad Request: can't parse inline keyboard button: field \"inline_keyboard\" must be an Array of Arrays"
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _caption(params: JsonDict) -> JsonDict:
    caption = params.get("caption")
    return {"caption": caption} if caption else {}


def _error(exc: ApiError) -> web.Response:
    body: JsonDict = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.parameters:
        body["parameters"] = exc.parameters
    return web.json_response(body, status=exc.code)
