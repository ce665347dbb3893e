"""A loopback stand-in for Twilio's Messages API (2010-04-01) and its signed status callbacks."""
from __future__ import annotations

import asyncio
import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import aiohttp
from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator
from yarl import URL

from channels.sms.http import TwilioHttpClient

API_HOST = "https://api.twilio.com"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def new_sid(prefix: str) -> str:
    """A SID shaped like Twilio's: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


@dataclass
class SentMessage:
    """One Messages.json create call the fake accepted or refused, as it arrived."""

    account_sid: str
    form: MultiDict[str]
    http_status: int
    sid: str | None = None

    @property
    def to(self) -> str:
        """The To field."""
        return self.form.get("To", "")

    @property
    def body(self) -> str:
        """The Body field ("" when absent)."""
        return self.form.get("Body", "")

    @property
    def media_urls(self) -> list[str]:
        """Every MediaUrl field, in order."""
        return self.form.getall("MediaUrl", [])


@dataclass
class StoredMedia:
    """One media item of an incoming message, as Twilio keeps it until someone deletes it."""

    data: bytes
    content_type: str


@dataclass
class FakeTwilioApi:
    """Twilio's Messages API on 127.0.0.1: Basic auth, documented JSON and errors, injectable outages.

    Incoming media live at their api.twilio.com URL (`add_media`), which answers with a redirect to
    a second loopback origin standing in for Twilio's storage; that storage, like S3, refuses a request
    that also carries an Authorization header. `enforce_media_auth` is the console's "Enforce HTTP
    Basic Auth for Media URLs" setting.
    """

    account_sid: str
    auth_token: str
    received: list[SentMessage] = field(default_factory=list)
    unsubscribed: set[str] = field(default_factory=set)
    api_keys: dict[str, str] = field(default_factory=dict)
    _failures: list[int] = field(default_factory=list)
    _failing_calls: dict[int, int] = field(default_factory=dict)
    media: dict[str, StoredMedia] = field(default_factory=dict)
    media_requests: list[tuple[str, bool]] = field(default_factory=list)
    deleted_media: list[str] = field(default_factory=list)
    enforce_media_auth: bool = True
    media_delay: float = 0.0
    _runner: web.AppRunner | None = None
    base_url: str = ""
    storage_url: str = ""

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next `count` create calls with this 5xx status, then recover."""
        self._failures.extend([status] * count)

    def fail_calls(self, *numbers: int, status: int = 503) -> None:
        """Answer the create calls with these 1-based numbers (counting every call) with a 5xx status."""
        self._failing_calls.update(dict.fromkeys(numbers, status))

    @property
    def accepted(self) -> list[SentMessage]:
        """The create calls that made a message."""
        return [m for m in self.received if m.sid]

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{account}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media}", self._media)
        app.router.add_delete(
            "/2010-04-01/Accounts/{account}/Messages/{message}/Media/{media:ME[0-9a-fA-F]{32}}.json", self._delete_media
        )
        app.router.add_get("/storage/{key}", self._storage)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Two listening sockets: the API, and "storage" on another port (so another origin).
        for _ in range(2):
            await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        api_port, storage_port = (address[1] for address in self._runner.addresses)
        self.base_url = f"http://127.0.0.1:{api_port}"
        self.storage_url = f"http://127.0.0.1:{storage_port}"

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def http_client(self, timeout: float = 5.0) -> TwilioHttpClient:
        """The product's twilio http client, but sending what was meant for api.twilio.com here."""
        return LoopbackTwilioHttpClient(self.base_url, timeout=timeout)

    def add_media(self, message_sid: str, data: bytes, content_type: str) -> str:
        """Keep a media item for an incoming message; its api.twilio.com URL, as a webhook's MediaUrlN."""
        media_sid = new_sid("ME")
        self.media[media_sid] = StoredMedia(data, content_type)
        return f"{API_HOST}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    # -- the API -------------------------------------------------------------------------------

    def _authorized(self, request: web.Request, account: str) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        if account != self.account_sid:
            return False
        # Either the account's own credentials or an API key (SK...) with its secret.
        expected = self.auth_token if user == self.account_sid else self.api_keys.get(user)
        return expected is not None and secrets.compare_digest(password, expected)

    @staticmethod
    def _error(http_status: int, code: int, message: str) -> web.Response:
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": http_status,
            },
            status=http_status,
        )

    async def _media(self, request: web.Request) -> web.Response:
        account, media_sid = request.match_info["account"], request.match_info["media"]
        authorized = self._authorized(request, account)
        self.media_requests.append((media_sid, "Authorization" in request.headers))
        if self.enforce_media_auth and not authorized:
            return self._error(401, 20003, "Authenticate")
        if media_sid not in self.media or account != self.account_sid:
            return self._error(404, 20404, f"The requested resource {request.path} was not found")
        # Twilio answers 307 with a short-lived signed URL on its storage.
        location = f"{self.storage_url}/storage/{media_sid}?Expires=300&Signature={secrets.token_hex(8)}"
        raise web.HTTPTemporaryRedirect(location)

    async def _delete_media(self, request: web.Request) -> web.Response:
        account, media_sid = request.match_info["account"], request.match_info["media"]
        if not self._authorized(request, account):
            return self._error(401, 20003, "Authenticate")
        if self.media.pop(media_sid, None) is None:
            return self._error(404, 20404, f"The requested resource {request.path} was not found")
        self.deleted_media.append(media_sid)
        return web.Response(status=204)

    async def _storage(self, request: web.Request) -> web.StreamResponse:
        if request.url.port != URL(self.storage_url).port:
            raise web.HTTPNotFound()
        if "Authorization" in request.headers:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code>'
                "<Message>Only one auth mechanism allowed</Message></Error>"
            )
            return web.Response(status=400, text=body, content_type="application/xml")
        stored = self.media.get(request.match_info["key"])
        if stored is None or not request.query.get("Signature"):
            denied = "<Error><Code>AccessDenied</Code></Error>"
            return web.Response(status=403, text=denied, content_type="application/xml")
        if self.media_delay:
            await asyncio.sleep(self.media_delay)
        return web.Response(body=stored.data, content_type=stored.content_type)

    async def _create(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        form: MultiDict[str] = MultiDict((k, v) for k, v in (await request.post()).items() if isinstance(v, str))
        record = SentMessage(account_sid=account, form=form, http_status=0)
        self.received.append(record)
        response, record.sid = self._answer(request, account, form)
        record.http_status = response.status
        return response

    def _answer(
        self, request: web.Request, account: str, form: MultiDict[str]
    ) -> tuple[web.Response, str | None]:
        """The response Twilio would give, and the new Message SID when one is made."""
        refusal = self._refusal(request, account, form)
        if refusal is not None:
            return refusal, None
        media = form.getall("MediaUrl", [])
        sid = new_sid("MM" if media else "SM")
        return web.json_response(self._resource(account, sid, form, media), status=201), sid

    def _refusal(self, request: web.Request, account: str, form: MultiDict[str]) -> web.Response | None:
        if not self._authorized(request, account):
            return self._error(401, 20003, "Authenticate")
        status = self._failing_calls.pop(len(self.received), None)
        if status is None and self._failures:
            status = self._failures.pop(0)
        if status is not None:
            return self._error(status, 20000 + status, "Service Unavailable" if status == 503 else "Internal Error")
        to, sender, service = form.get("To", ""), form.get("From", ""), form.get("MessagingServiceSid", "")
        body, media = form.get("Body", ""), form.getall("MediaUrl", [])
        if not to:
            return self._error(400, 21604, "A 'To' phone number is required.")
        if not sender and not service:
            return self._error(400, 21603, "A 'From' phone number is required.")
        if not body and not media:
            return self._error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        number = to.removeprefix("whatsapp:")
        if not _E164.match(number):
            return self._error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to.startswith("whatsapp:") != sender.startswith("whatsapp:") and sender:
            return self._error(400, 63007, f"Twilio could not find a Channel with the specified From address: {sender}")
        if to in self.unsubscribed:
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        return None

    @staticmethod
    def _resource(account: str, sid: str, form: MultiDict[str], media: list[str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True).replace("GMT", "+0000")
        body = form.get("Body", "")
        uri = f"/2010-04-01/Accounts/{account}/Messages/{sid}"
        return {
            "account_sid": account,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From") or None,
            "messaging_service_sid": form.get("MessagingServiceSid") or None,
            "num_media": str(len(media)),
            # A rough count; the fake is not the place to reimplement segmenting.
            "num_segments": str(max(1, -(-len(body) // 153))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if not form.get("From") else "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": form["To"],
            "uri": f"{uri}.json",
        }

    # -- callbacks -----------------------------------------------------------------------------

    async def fire_status(
        self, sid: str, status: str, error_code: str | None = None, url: str | None = None
    ) -> int:
        """POST a signed status callback for a sent message to its StatusCallback; the HTTP status."""
        sent = next(m for m in self.received if m.sid == sid)
        target = url or sent.form.get("StatusCallback")
        if not target:
            raise AssertionError(f"{sid} was sent without a StatusCallback")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": sent.form.get("From", ""),
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": sent.to,
        }
        if sent.form.get("MessagingServiceSid"):
            params["MessagingServiceSid"] = sent.form["MessagingServiceSid"]
        if error_code:
            params["ErrorCode"] = error_code
        return await post_signed(target, params, self.auth_token)


async def post_signed(
    url: str, params: dict[str, str], auth_token: str, signed_for: str | None = None
) -> int:
    """POST a form the way Twilio does, signed for `signed_for` (default: the URL posted to)."""
    signature = RequestValidator(auth_token).compute_signature(signed_for or url, params)
    headers = {"X-Twilio-Signature": signature}
    async with aiohttp.ClientSession() as session, session.post(url, data=params, headers=headers) as resp:
        await resp.read()
        return resp.status


class LoopbackTwilioHttpClient(TwilioHttpClient):
    """Rewrites https://api.twilio.com to the fake's loopback address; everything else is the real client."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self._base_url = base_url

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        """Send the request to the fake instead of Twilio."""
        if url.startswith(API_HOST):
            url = self._base_url + url[len(API_HOST):]
        return await super().request(method, url, *args, **kwargs)

    async def download(self, url: str, **kwargs: Any) -> bytes:
        """Fetch media from the fake instead of Twilio."""
        if url.startswith(API_HOST):
            url = self._base_url + url[len(API_HOST):]
        return await super().download(url, **kwargs)
