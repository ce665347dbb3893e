"""The asyncio HTTP client the twilio library uses, with a default timeout it otherwise forgets."""
from __future__ import annotations

import base64
from typing import Any

from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response


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
