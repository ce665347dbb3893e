"""A loopback stand-in for a Rasa 3.x server: the REST channel and /model/parse, on a real socket.

It follows Rasa's documented HTTP API: `POST /webhooks/rest/webhook` takes {"sender", "message",
"metadata"} and answers a list of {"recipient_id", "text" | "buttons" | "image" | "custom" |
"attachment"} messages, split the way Rasa's collecting output channel splits a response;
`POST /model/parse` takes {"text"} and answers {"text", "intent", "intent_ranking", "entities"};
`GET /version` answers the version. With a token set, every endpoint wants `?token=` (Rasa's
`--auth-token`). Understanding is a tiny deterministic table: keywords pick the intent, regexes find
entities. Tests can make the next calls fail, hang up, answer garbage, or slow down, then read back
what was called.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JsonDict = dict[str, Any]
RASA_VERSION = "3.6.20"
FALLBACK_INTENT = "nlu_fallback"
FALLBACK_CONFIDENCE = 0.3


@dataclass(frozen=True, slots=True)
class FakeIntent:
    """An intent the fake knows: keywords that trigger it and the Rasa responses it answers with."""

    name: str
    keywords: tuple[str, ...]
    responses: tuple[JsonDict, ...] = ()


@dataclass(frozen=True, slots=True)
class FakeCall:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, str]
    body: Any


SHOP_INTENTS: tuple[FakeIntent, ...] = (
    FakeIntent("greet", ("hello", "hi", "hey", "你好"), ({"text": "Hi!\n\nHow can I help?"},)),
    FakeIntent(
        "order_status", ("order", "track", "订单"),
        ({"text": "Order {order_id} is on its way.\n\nAnything else?",
          "buttons": [{"title": "Track parcel", "payload": "/track_parcel"},
                      {"title": "Talk to a person", "payload": "/human_handoff"}]},),
    ),
    FakeIntent(
        "refund", ("refund", "money back", "退款"),
        ({"text": "Refunds take 5-7 working days.", "image": "https://example.com/refund-steps.png",
          "custom": {"kind": "refund_form", "fields": ["order_id", "reason"]}},),
    ),
    FakeIntent("human_handoff", ("human", "person", "agent", "人工"), ()),
)
SHOP_ENTITIES: Mapping[str, str] = {"order_id": r"[A-Z]\d{7}"}
FALLBACK_RESPONSES: tuple[JsonDict, ...] = ({"text": "Sorry, I didn't get that. Could you rephrase?"},)


@dataclass
class _Trouble:
    kind: str  # "status", "hang_up" or "garbage"
    times: int
    status: int = 500


class FakeRasa:
    """A running fake Rasa server; `url` is what a bot's Rasa settings point at."""

    def __init__(
        self,
        intents: Sequence[FakeIntent] = SHOP_INTENTS,
        entities: Mapping[str, str] = SHOP_ENTITIES,
        token: str | None = None,
        prefix: str = "",
    ) -> None:
        self.intents = tuple(intents)
        self.prefix = prefix.rstrip("/")
        self.entities = {name: re.compile(pattern) for name, pattern in entities.items()}
        self.token = token
        self.delay = 0.0
        self.calls: list[FakeCall] = []
        self._trouble: list[_Trouble] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        # a prefix stands in for a reverse proxy that publishes Rasa under a path
        app.router.add_post(f"{self.prefix}/webhooks/rest/webhook", self._rest)
        app.router.add_post(f"{self.prefix}/model/parse", self._parse)
        app.router.add_get(f"{self.prefix}/version", self._version)
        app.router.add_get(f"{self.prefix}/", self._hello)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeRasa:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """The server's base URL, as a Rasa connection setting."""
        return f"http://127.0.0.1:{self._port}{self.prefix}"

    def fail(self, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` requests with an HTTP error shaped like Rasa's."""
        self._trouble.append(_Trouble("status", times, status))

    def hang_up(self, times: int = 1) -> None:
        """Drop the connection on the next `times` requests without answering."""
        self._trouble.append(_Trouble("hang_up", times))

    def answer_garbage(self, times: int = 1) -> None:
        """Answer the next `times` requests with 200 and a body that is not JSON."""
        self._trouble.append(_Trouble("garbage", times))

    def calls_to(self, path: str) -> list[FakeCall]:
        """Requests received for one path, oldest first."""
        return [call for call in self.calls if call.path == path]

    # --- understanding, the same for both endpoints -------------------------------------------------

    def understand(self, text: str) -> JsonDict:
        """What /model/parse answers for `text`."""
        folded = text.casefold()
        hits = [sum(bool(_keyword(k).search(folded)) for k in intent.keywords) for intent in self.intents]
        scores = [1 + 4 * h for h in hits]
        total = float(sum(scores)) or 1.0
        order = sorted(range(len(self.intents)), key=lambda i: (-hits[i], i))
        ranking = [{"name": self.intents[i].name, "confidence": round(scores[i] / total, 4)} for i in order]
        if not ranking or hits[order[0]] == 0:
            # Rasa's FallbackClassifier puts nlu_fallback on top with the threshold as confidence
            ranking.insert(0, {"name": FALLBACK_INTENT, "confidence": FALLBACK_CONFIDENCE})
        entities: list[JsonDict] = []
        for name, pattern in self.entities.items():
            for match in pattern.finditer(text):
                entities.append({"entity": name, "start": match.start(), "end": match.end(), "value": match[0],
                                 "extractor": "RegexEntityExtractor", "processors": []})
        entities.sort(key=lambda e: e["start"])
        return {"text": text, "intent": dict(ranking[0]), "entities": entities, "intent_ranking": ranking,
                "text_tokens": [[m.start(), m.end()] for m in re.finditer(r"\w+", text)]}

    def _messages(self, sender: str, parsed: JsonDict) -> list[JsonDict]:
        name = parsed["intent"]["name"]
        intent = next((i for i in self.intents if i.name == name), None)
        responses = FALLBACK_RESPONSES if intent is None else intent.responses[:1]
        slots = {e["entity"]: e["value"] for e in parsed["entities"]}
        out: list[JsonDict] = []
        for response in responses:
            out.extend(_collect(sender, response, slots))
        return out

    # --- HTTP ---------------------------------------------------------------------------------------

    async def _begin(self, request: web.Request) -> Any:
        """Record the call, apply trouble and the token check; the JSON body, or an error response."""
        body: Any = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                body = await request.text()
        self.calls.append(FakeCall(request.method, request.path, dict(request.query), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._trouble:
            trouble = self._trouble[0]
            trouble.times -= 1
            if trouble.times <= 0:
                self._trouble.pop(0)
            if trouble.kind == "hang_up":
                assert request.transport is not None
                request.transport.close()
                raise asyncio.CancelledError
            if trouble.kind == "garbage":
                return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
            return _error(trouble.status, "InternalServerError" if trouble.status >= 500 else "BadRequest",
                          f"The fake was told to answer {trouble.status}.")
        if self.token is not None and request.query.get("token") != self.token:
            return _error(401, "NotAuthenticated", "User is not authenticated.")
        return body

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        body = await self._begin(request)
        if isinstance(body, web.StreamResponse):
            return body
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return _error(400, "BadRequest", "The request body must be JSON with a 'message' string.")
        sender = str(body.get("sender") or "default")
        return web.json_response(self._messages(sender, self.understand(body["message"])))

    async def _parse(self, request: web.Request) -> web.StreamResponse:
        body = await self._begin(request)
        if isinstance(body, web.StreamResponse):
            return body
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _error(400, "BadRequest", "No text message defined in request_body.")
        return web.json_response(self.understand(body["text"]))

    async def _version(self, request: web.Request) -> web.StreamResponse:
        body = await self._begin(request)
        if isinstance(body, web.StreamResponse):
            return body
        return web.json_response({"version": RASA_VERSION, "minimum_compatible_version": "3.5.0"})

    async def _hello(self, _request: web.Request) -> web.StreamResponse:
        return web.Response(text=f"Hello from Rasa: {RASA_VERSION}")


def _collect(recipient: str, response: JsonDict, slots: Mapping[str, str]) -> list[JsonDict]:
    """The messages Rasa's collecting output channel sends for one response: text, custom, image, attachment."""
    messages: list[JsonDict] = []
    text = response.get("text")
    if text is not None:
        text = _fill(text, slots)
    if response.get("buttons"):
        messages.append({"recipient_id": recipient, "text": text, "buttons": response["buttons"]})
    elif text:
        # a plain text response becomes one message per paragraph
        messages.extend({"recipient_id": recipient, "text": part} for part in text.strip().split("\n\n"))
    if response.get("custom"):
        messages.append({"recipient_id": recipient, "custom": response["custom"]})
    if response.get("image"):
        messages.append({"recipient_id": recipient, "image": response["image"]})
    if response.get("attachment"):
        messages.append({"recipient_id": recipient, "attachment": response["attachment"]})
    return messages


def _keyword(keyword: str) -> re.Pattern[str]:
    # English keywords match whole words ("hi" is not in "this"); Chinese has no spaces to match on
    escaped = re.escape(keyword.casefold())
    return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if keyword.isascii() else escaped)


def _fill(text: str, slots: Mapping[str, str]) -> str:
    # unfilled variables read "None", as Rasa fills them from empty slots
    return re.sub(r"\{(\w+)\}", lambda m: str(slots.get(m[1])), text)


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response(
        {"version": RASA_VERSION, "status": "failure", "message": message, "reason": reason, "details": {},
         "help": None, "code": status},
        status=status,
    )
