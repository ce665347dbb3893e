"""A bot's brain on a remote Rasa server: its REST channel (Rasa answers) or /model/parse (Kefu answers)."""
from __future__ import annotations

import enum
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from channels.base import Button


class RasaMode(str, enum.Enum):
    """How a bot uses its Rasa server."""

    REST = "rest"  # Rasa runs the dialogue and sends back what to say
    PARSE = "parse"  # Rasa only understands; Kefu's own content and policy decide the answer


class RasaError(Exception):
    """Something went wrong talking to Rasa; the bot should hand the conversation to a person."""


class RasaUnavailable(RasaError):
    """Rasa could not be reached, was too slow, or failed (5xx): worth retrying later."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RasaRejected(RasaError):
    """Rasa refused the request (4xx): a wrong URL, token or channel; retrying will not help."""

    def __init__(self, message: str, status: int, reason: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class RasaProtocolError(RasaError):
    """Rasa answered, but not in the shape its HTTP API documents."""


@dataclass(frozen=True, slots=True)
class RasaRemoteConfig:
    """Where a bot's Rasa server is and how to use it; stored per bot, or read from KEFU_RASA_*."""

    url: str
    mode: RasaMode = RasaMode.REST
    token: str | None = None
    timeout: float = 10.0
    channel: str = "rest"

    def __post_init__(self) -> None:
        base = URL(self.url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"a Rasa URL must be http(s)://host[:port][/path], got {self.url!r}")
        try:
            object.__setattr__(self, "mode", RasaMode(self.mode))
        except ValueError:
            raise ValueError(f"Rasa mode must be 'rest' or 'parse', got {self.mode!r}") from None
        if not (isinstance(self.timeout, (int, float)) and math.isfinite(self.timeout) and self.timeout > 0):
            raise ValueError(f"Rasa timeout must be a positive number of seconds, got {self.timeout!r}")
        if not self.channel or "/" in self.channel:
            raise ValueError(f"Rasa channel must be a channel name like 'rest', got {self.channel!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RasaRemoteConfig:
        """A bot's stored settings: {"url", "mode": "rest" | "parse", "token", "timeout", "channel"}."""
        unknown = sorted(set(data) - {"url", "mode", "token", "timeout", "channel"})
        if unknown:
            raise ValueError(f"unknown Rasa setting(s): {', '.join(unknown)}")
        if "url" not in data:
            raise ValueError("a Rasa connection needs a 'url'")
        return cls(**dict(data))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RasaRemoteConfig | None:
        """The default Rasa server from KEFU_RASA_URL, _MODE, _TOKEN, _TIMEOUT, _CHANNEL; None when no URL is set."""
        e = os.environ if env is None else env
        if not e.get("KEFU_RASA_URL"):
            return None
        values: dict[str, Any] = {"url": e["KEFU_RASA_URL"]}
        if e.get("KEFU_RASA_MODE"):
            values["mode"] = e["KEFU_RASA_MODE"].strip().lower()
        if e.get("KEFU_RASA_TOKEN"):
            values["token"] = e["KEFU_RASA_TOKEN"]
        if e.get("KEFU_RASA_TIMEOUT"):
            try:
                values["timeout"] = float(e["KEFU_RASA_TIMEOUT"])
            except ValueError:
                raise ValueError(f"KEFU_RASA_TIMEOUT must be seconds, got {e['KEFU_RASA_TIMEOUT']!r}") from None
        if e.get("KEFU_RASA_CHANNEL"):
            values["channel"] = e["KEFU_RASA_CHANNEL"]
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        """The settings as stored with a bot (the inverse of from_mapping)."""
        data: dict[str, Any] = {"url": self.url, "mode": self.mode.value, "timeout": self.timeout,
                                "channel": self.channel}
        if self.token is not None:
            data["token"] = self.token
        return data


@dataclass(frozen=True, slots=True)
class BotReply:
    """One message Rasa wants sent: text, buttons, an image, or a custom payload for the channel."""

    text: str = ""
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    custom: Any = None
    attachment: Any = None
    recipient_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IntentScore:
    """An intent and how sure the model is of it (0..1)."""

    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ParsedEntity:
    """An entity Rasa found; `value` may be structured (Duckling gives dicts), offsets may be missing."""

    entity: str
    value: Any
    start: int | None = None
    end: int | None = None
    confidence: float | None = None
    role: str | None = None
    group: str | None = None
    extractor: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What Rasa understood of one message: best intent, full ranking, entities."""

    text: str
    intent: IntentScore | None
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[ParsedEntity, ...] = ()


class RasaRemote:
    """Talks to one Rasa server over HTTP; pass a shared ClientSession, or let it open (and close) its own."""

    def __init__(self, config: RasaRemoteConfig, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> RasaRemote:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this connector opened it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, sender: str, text: str, metadata: Mapping[str, Any] | None = None) -> list[BotReply]:
        """Post a customer's message to Rasa's REST channel; Rasa's replies, in order (maybe none)."""
        payload: dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            payload["metadata"] = dict(metadata)
        return parse_rest_replies(await self._request("POST", f"webhooks/{self.config.channel}/webhook", payload))

    async def parse(self, text: str, message_id: str | None = None) -> ParseResult:
        """Ask Rasa's NLU what a message means, without touching any conversation on the Rasa side."""
        payload: dict[str, Any] = {"text": text}
        if message_id is not None:
            payload["message_id"] = message_id
        return parse_nlu_result(await self._request("POST", "model/parse", payload))

    async def version(self) -> str:
        """The Rasa server's version: a cheap check that URL and network are right."""
        data = await self._request("GET", "version", None)
        if not isinstance(data, dict) or not isinstance(data.get("version"), str):
            raise RasaProtocolError("GET /version did not answer {\"version\": ...}")
        return data["version"]

    async def _request(self, method: str, path: str, payload: Any) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        base = URL(self.config.url)
        url = base.with_path(base.path.rstrip("/") + "/" + path)
        # Rasa's HTTP API takes its auth token as a query parameter, not a header
        params = {"token": self.config.token} if self.config.token else None
        where = f"Rasa at {base.with_query(None)}"  # never the token
        try:
            async with self._session.request(
                method, url, json=payload, params=params, timeout=aiohttp.ClientTimeout(total=self.config.timeout)
            ) as response:
                status = response.status
                body = await response.read()
        except TimeoutError:
            raise RasaUnavailable(f"{where} did not answer /{path} within {self.config.timeout:g}s") from None
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"{where} could not be reached for /{path}: {exc.__class__.__name__}: {exc}") from exc
        if status >= 500:
            raise RasaUnavailable(f"{where} failed on /{path} with {status}: {_error_message(body)}", status)
        if status >= 400:
            raise RasaRejected(f"{where} refused /{path} with {status}: {_error_message(body)}", status,
                               _error_reason(body))
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RasaProtocolError(f"{where} answered /{path} with something that is not JSON: {body[:80]!r}") from exc


def _error_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _error_message(body: bytes) -> str:
    message = _error_json(body).get("message")
    if isinstance(message, str) and message:
        return message
    return body[:200].decode("utf-8", "replace").strip() or "(no body)"


def _error_reason(body: bytes) -> str | None:
    reason = _error_json(body).get("reason")
    return reason if isinstance(reason, str) else None


def parse_rest_replies(data: Any) -> list[BotReply]:
    """Kefu replies from the REST channel's answer: a JSON list of {recipient_id, text, buttons, image, custom}."""
    if not isinstance(data, list):
        raise RasaProtocolError(f"the REST channel should answer a list of messages, got {type(data).__name__}")
    replies = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise RasaProtocolError(f"message {index} from the REST channel is not an object: {item!r}")
        text = item.get("text")
        image = item.get("image")
        recipient = item.get("recipient_id")
        if text is not None and not isinstance(text, str):
            raise RasaProtocolError(f"message {index}: 'text' is not a string")
        if image is not None and not isinstance(image, str):
            raise RasaProtocolError(f"message {index}: 'image' is not a URL string")
        replies.append(BotReply(
            text=text or "",
            buttons=_reply_buttons(item.get("buttons"), index),
            image=image,
            custom=item.get("custom"),
            attachment=item.get("attachment"),
            recipient_id=None if recipient is None else str(recipient),
            extra={k: v for k, v in item.items()
                   if k not in ("text", "buttons", "image", "custom", "attachment", "recipient_id")},
        ))
    return replies


def _reply_buttons(value: Any, index: int) -> tuple[Button, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RasaProtocolError(f"message {index}: 'buttons' is not a list")
    buttons = []
    for button in value:
        if not isinstance(button, dict) or not isinstance(button.get("title"), str):
            raise RasaProtocolError(f"message {index}: a button has no 'title': {button!r}")
        payload = button.get("payload")
        # a button without a payload sends its title, as a typed answer would
        buttons.append(Button(button["title"], button["title"] if payload is None else str(payload)))
    return tuple(buttons)


def parse_nlu_result(data: Any) -> ParseResult:
    """Kefu's parse result from /model/parse's answer: {text, intent, intent_ranking, entities}."""
    if not isinstance(data, dict):
        raise RasaProtocolError(f"/model/parse should answer an object, got {type(data).__name__}")
    intent = _intent_score(data.get("intent"), "intent")
    ranking_data = data.get("intent_ranking", [])
    if ranking_data is None:
        ranking_data = []
    if not isinstance(ranking_data, list):
        raise RasaProtocolError("'intent_ranking' is not a list")
    ranking = tuple(
        score for i, item in enumerate(ranking_data) if (score := _intent_score(item, f"intent_ranking[{i}]"))
    )
    entities_data = data.get("entities", [])
    if entities_data is None:
        entities_data = []
    if not isinstance(entities_data, list):
        raise RasaProtocolError("'entities' is not a list")
    text = data.get("text")
    return ParseResult(
        text=text if isinstance(text, str) else "",
        intent=intent,
        ranking=ranking,
        entities=tuple(_entity(item, i) for i, item in enumerate(entities_data)),
    )


def _intent_score(value: Any, where: str) -> IntentScore | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RasaProtocolError(f"'{where}' is not an object")
    name = value.get("name")
    if name is None:
        return None  # a model without intents answers {"name": null, "confidence": 0.0}
    confidence = value.get("confidence", 0.0)
    if not isinstance(name, str) or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        raise RasaProtocolError(f"'{where}' needs a string name and a numeric confidence: {value!r}")
    return IntentScore(name, float(confidence))


def _entity(value: Any, index: int) -> ParsedEntity:
    if not isinstance(value, dict) or not isinstance(value.get("entity"), str):
        raise RasaProtocolError(f"entities[{index}] needs an 'entity' name: {value!r}")

    def number(key: str, kind: type | tuple[type, ...]) -> Any:
        raw = value.get(key)
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, kind):
            raise RasaProtocolError(f"entities[{index}].{key} is not a number: {raw!r}")
        return raw

    def text(key: str) -> str | None:
        raw = value.get(key)
        return raw if isinstance(raw, str) else None

    confidence = number("confidence_entity", (int, float))
    return ParsedEntity(
        entity=value["entity"],
        value=value.get("value"),
        start=number("start", int),
        end=number("end", int),
        confidence=None if confidence is None else float(confidence),
        role=text("role"),
        group=text("group"),
        extractor=text("extractor"),
    )
