"""The asyncio HTTP client the twilio library uses (with the default timeout it forgets), and media downloads."""
from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

from channels.sms.media import MediaFetchError, MediaTooLarge

MAX_REDIRECTS = 5  # Twilio answers a media URL with one redirect to its storage.


def basic_auth_header(login: str, password: str) -> str:
    """The Authorization header value for HTTP Basic auth."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode("ascii")


class TwilioHttpClient(AsyncTwilioHttpClient):
    """AsyncTwilioHttpClient whose constructor `timeout` applies to every request."""

    def __init__(self, timeout: float = 10.0, **kwargs: Any) -> None:
        # twilio 9.x stores `timeout` but hands aiohttp only the per-call value (None), so a stalled
        # connection would wait forever and hold up the outbox.
        super().__init__(timeout=timeout, **kwargs)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send one API request, falling back to the client's timeout."""
        if auth is not None:
            # aiohttp 3.14 deprecates its `auth=` argument; a header works on every version and
            # twilio's request logging already leaves Authorization out.
            headers = {**(headers or {}), "Authorization": basic_auth_header(*auth)}
        return await super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=None,
            timeout=timeout if timeout is not None else self.timeout,
            allow_redirects=allow_redirects,
        )

    async def download(
        self, url: str, *, auth: tuple[str, str] | None, max_bytes: int, timeout: float
    ) -> bytes:
        """GET a media URL's bytes, following redirects, reading no more than `max_bytes`.

        Credentials go only to the first URL: aiohttp drops Authorization on a redirect to another
        host, which Twilio's storage needs (it refuses a request carrying two kinds of auth).
        """
        headers = {"Authorization": basic_auth_header(*auth)} if auth else {}
        session = self.session if isinstance(self.session, aiohttp.ClientSession) else None
        own = session is None
        session = session or aiohttp.ClientSession()
        try:
            async with asyncio.timeout(timeout):
                return await _read_body(session, url, headers, max_bytes)
        except aiohttp.ClientError as exc:
            raise MediaFetchError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if own:
                await session.close()


async def _read_body(session: aiohttp.ClientSession, url: str, headers: dict[str, str], max_bytes: int) -> bytes:
    async with session.get(url, headers=headers, allow_redirects=True, max_redirects=MAX_REDIRECTS) as resp:
        if resp.status != 200:
            raise MediaFetchError(f"HTTP {resp.status} from {resp.url.host}")
        if resp.content_length is not None and resp.content_length > max_bytes:
            raise MediaTooLarge(resp.content_length)
        body = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > max_bytes:
                raise MediaTooLarge(len(body))
        return bytes(body)
