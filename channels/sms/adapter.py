"""SMS and WhatsApp through Twilio: signed webhooks in, Messages API out."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import ClassVar, Self, cast

from aiohttp import web
from multidict import MultiDictProxy
from twilio.base import values
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from channels.base import Capabilities, DeliveryStatus, HubPort, OutboundMessage, SendResult
from channels.render import render_for
from channels.sms.config import TwilioConfig, TwilioConfigError
from channels.sms.http import TwilioHttpClient
from channels.sms.media import fetch_media, fetched_media_sids
from channels.sms.outcome import PROVIDER_ERRORS, failure
from channels.sms.parse import (
    MAX_MEDIA,
    WHATSAPP_PREFIX,
    TwilioPayloadError,
    bare_address,
    parse_inbound,
    parse_status,
)
from channels.sms.segments import split_chars, split_sms
from channels.sms.signature import SIGNATURE_HEADER, signature_ok, signed_url

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
WHATSAPP_MAX_CHARS = 1600  # Twilio's Body limit; WhatsApp has no segments.
PARENT_PARAM = "kefu_parent"


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    503: web.HTTPServiceUnavailable,
}


def _error(status: int, reason: str) -> web.HTTPException:
    """A JSON error response to raise from a handler."""
    body = json.dumps({"error": reason}, ensure_ascii=False)
    return _ERRORS[status](text=body, content_type="application/json")


class TwilioChannel:
    """One Twilio channel; use TwilioSmsChannel or TwilioWhatsAppChannel, which fix `kind`."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(
        self,
        config: TwilioConfig,
        *,
        http_client: TwilioHttpClient | None = None,
        part_retry_delays: Sequence[float] = (0.5, 2.0),
    ) -> None:
        if config.kind != self.kind:
            raise TwilioConfigError(f"{type(self).__name__} needs a {self.kind!r} config, got {config.kind!r}")
        self.config = config
        self._validator = RequestValidator(config.auth_token)
        self._given_http = http_client
        self._http: TwilioHttpClient | None = None
        self._client: Client | None = None
        self._hub: HubPort | None = None
        self._part_retry_delays = tuple(part_retry_delays)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """A channel configured from KEFU_TWILIO_* variables."""
        return cls(TwilioConfig.from_env(cls.kind, env))  # type: ignore[arg-type]

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """POST routes for incoming messages and status callbacks."""
        return [
            web.post(self.config.inbound_path, self._on_inbound),
            web.post(self.config.status_path, self._on_status),
        ]

    async def start(self, hub: HubPort) -> None:
        """Open the API client; webhooks reach `hub` from now on."""
        # The session is made here, inside the running loop, and owned by us unless it was given.
        if self._http is None:
            self._http = self._given_http or TwilioHttpClient(timeout=self.config.timeout)
        c = self.config
        username, password = c.credentials
        self._client = Client(username, password, c.account_sid, http_client=self._http)
        self._hub = hub

    async def stop(self) -> None:
        """Stop taking webhooks and close the API client's session if we opened it."""
        self._hub = None
        self._client = None
        if self._http is not None and self._given_http is None:
            await self._http.close()
        self._http = None

    # -- inbound ---------------------------------------------------------------------------------

    async def _verified_form(self, request: web.Request) -> MultiDictProxy[str]:
        """The form of a request proven to come from Twilio for our account; raises 400/403/503."""
        if self._hub is None:
            raise _error(503, "channel not started")
        if request.content_type != "application/x-www-form-urlencoded":
            raise _error(400, "expected application/x-www-form-urlencoded")
        form = await request.post()
        url = signed_url(
            request.scheme,
            request.host,
            request.raw_path,
            request.headers,
            self.config.public_url,
            self.config.trust_forwarded,
        )
        if not signature_ok(self._validator, url, form, request.headers.get(SIGNATURE_HEADER)):
            log.warning("twilio %s webhook: bad or missing signature for %s", self.kind, url)
            raise _error(403, f"invalid {SIGNATURE_HEADER} for {url}")
        if form.get("AccountSid") != self.config.account_sid:
            raise _error(403, "AccountSid does not match this channel")
        # A urlencoded body has only text fields (files need multipart).
        return cast("MultiDictProxy[str]", form)

    async def _on_inbound(self, request: web.Request) -> web.Response:
        form = await self._verified_form(request)
        try:
            message = parse_inbound(form)
        except TwilioPayloadError as exc:
            raise _error(400, str(exc)) from exc
        if message.channel != self.kind:
            log.warning("twilio %s webhook got a %s message; check the console URLs", self.kind, message.channel)
        if message.attachments and self._http is not None:
            c = self.config
            message = await fetch_media(
                self._http, message, auth=c.credentials, max_bytes=c.max_media_bytes, timeout=c.media_timeout
            )
        hub = self._hub
        if hub is None:
            raise _error(503, "channel stopped while fetching media")
        result = await hub.deliver(message)
        if self.config.delete_media and not result.duplicate:
            await self._delete_media(fetched_media_sids(message))
        log.debug("twilio %s %s -> message %s (duplicate=%s)", self.kind, message.external_id,
                  result.message_id, result.duplicate)
        # Duplicates get the same answer: Twilio only needs to know we have it.
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    async def _delete_media(self, sids: list[tuple[str, str]]) -> None:
        """Delete media at Twilio once the hub keeps them (Twilio's advice for privacy); failures are logged."""
        client = self._client
        if not sids or client is None:
            return

        async def delete(message_sid: str, media_sid: str) -> None:
            try:
                await client.messages(message_sid).media(media_sid).delete_async()
            except PROVIDER_ERRORS as exc:
                log.warning("twilio: could not delete media %s of %s: %s", media_sid, message_sid, failure(exc).error)

        try:
            async with asyncio.timeout(self.config.media_timeout):
                await asyncio.gather(*(delete(*sid) for sid in sids))
        except TimeoutError:
            log.warning("twilio: deleting %d media took longer than %s s; left at Twilio", len(sids),
                        self.config.media_timeout)

    async def _on_status(self, request: web.Request) -> web.Response:
        form = await self._verified_form(request)
        try:
            update = parse_status(form, self.kind, request.query.get(PARENT_PARAM))
        except TwilioPayloadError as exc:
            raise _error(400, str(exc)) from exc
        if update is not None:
            hub = self._hub
            assert hub is not None
            await hub.report_delivery(update)
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    # -- outbound --------------------------------------------------------------------------------

    def _address(self, recipient: str) -> str:
        """The To address Twilio wants for this channel."""
        bare = bare_address(recipient)
        return WHATSAPP_PREFIX + bare if self.kind == "whatsapp" else bare

    def _split(self, text: str) -> list[str]:
        if self.kind == "whatsapp":
            return split_chars(text, WHATSAPP_MAX_CHARS)
        return split_sms(text, self.config.max_segments)

    def _callback(self, parent: str | None) -> str | object:
        url = self.config.status_callback_url
        if url is None:
            return values.unset
        # Later parts of a split reply report under the first part's SID, the one the hub knows.
        return f"{url}?{PARENT_PARAM}={parent}" if parent else url

    async def _create(self, to: str, body: str, media: list[str], parent: str | None) -> str:
        """One Messages API call; returns the new Message SID."""
        assert self._client is not None
        created = await self._client.messages.create_async(
            to=to,
            from_=self.config.from_ or values.unset,
            messaging_service_sid=self.config.messaging_service_sid or values.unset,
            body=body or values.unset,
            media_url=media or values.unset,
            status_callback=self._callback(parent),
        )
        return str(created.sid)

    async def send(self, message: OutboundMessage) -> SendResult:
        """Send one stored reply, split into several messages when it is too long for one."""
        if message.metadata.get("opted_out"):
            # The hub should not have asked; refusing here keeps us clear of 21610 and the law.
            return SendResult(DeliveryStatus.FAILED, error="recipient has opted out; not sent", retryable=False)
        if self._client is None:
            return SendResult(DeliveryStatus.FAILED, error="channel not started", retryable=True)
        message = render_for(self.capabilities, message)
        missing = [a.filename for a in message.attachments if not a.url]
        if missing:
            return SendResult(
                DeliveryStatus.FAILED,
                error=f"attachments need a public URL for Twilio to fetch: {', '.join(missing)}",
            )
        media = [a.url for a in message.attachments if a.url]
        if len(media) > MAX_MEDIA:
            return SendResult(DeliveryStatus.FAILED, error=f"Twilio takes at most {MAX_MEDIA} media per message")
        parts = self._split(message.text) or ([""] if media else [])
        if not parts:
            return SendResult(DeliveryStatus.FAILED, error="nothing to send: no text and no media")
        to = self._address(message.recipient)

        try:
            first = await self._create(to, parts[0], media, None)
        except PROVIDER_ERRORS as exc:
            result = failure(exc)
            log.info("twilio %s send of message %s failed: %s", self.kind, message.message_id, result.error)
            return result
        for number, body in enumerate(parts[1:], start=2):
            error = await self._send_part(to, body, first)
            if error is not None:
                return SendResult(
                    DeliveryStatus.FAILED,
                    external_id=first,
                    error=f"sent {number - 1} of {len(parts)} parts, then {error}",
                    retryable=False,
                )
        return SendResult(DeliveryStatus.SENT, external_id=first)

    async def _send_part(self, to: str, body: str, first: str) -> str | None:
        """Send a later part, retrying here (the outbox would resend earlier parts); the error or None."""
        delays = (*self._part_retry_delays, None)
        for delay in delays:
            try:
                await self._create(to, body, [], first)
                return None
            except PROVIDER_ERRORS as exc:
                result = failure(exc)
                if not result.retryable or delay is None:
                    return result.error
                await asyncio.sleep(delay)
        return None


class TwilioSmsChannel(TwilioChannel):
    """SMS (and MMS in the US/Canada) through a Twilio number or Messaging Service."""

    kind: ClassVar[str] = "sms"
    # Long text is split here into segment-sized messages, so no text limit is advertised.
    capabilities: ClassVar[Capabilities] = Capabilities(attachments=True)


class TwilioWhatsAppChannel(TwilioChannel):
    """WhatsApp through a Twilio WhatsApp sender (or the sandbox)."""

    kind: ClassVar[str] = "whatsapp"
    capabilities: ClassVar[Capabilities] = Capabilities(attachments=True)


def channels_from_env(env: Mapping[str, str] | None = None) -> list[TwilioChannel]:
    """The Twilio channels the environment configures (none when KEFU_TWILIO_ACCOUNT_SID is unset)."""
    kinds = {"sms": TwilioSmsChannel, "whatsapp": TwilioWhatsAppChannel}
    return [kinds[kind].from_env(env) for kind in TwilioConfig.enabled_kinds(env)]
