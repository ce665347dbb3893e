"""Someone guessing an agent's password is made to wait after a few tries; the agent, logging in from
her own machine, is not; and the wait ends by itself."""
from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.config import Settings
from tests.support import PASSWORD, add_agent

ATTACKER = "203.0.113.7"
MEI_AT_HOME = "198.51.100.2"

MakeHub = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_hub(aiohttp_client: Any, settings: Settings) -> MakeHub:
    async def make(**changes: Any) -> TestClient:
        from hub.app import create_app

        app: web.Application = create_app(dataclasses.replace(settings, **changes))
        return await aiohttp_client(app)

    return make


async def log_in(hub: TestClient, password: str, source: str, email: str = "mei@example.com") -> Any:
    # The test client connects from 127.0.0.1, which these hubs trust as their reverse proxy.
    return await hub.post(
        "/api/login", json={"email": email, "password": password}, headers={"X-Forwarded-For": source}
    )


async def test_a_password_guesser_waits_but_the_agent_at_home_logs_in(make_hub: MakeHub) -> None:
    hub = await make_hub(trusted_proxies=("127.0.0.1",), login_max_failures=5)
    await add_agent(hub, "mei@example.com")
    for attempt in range(5):
        resp = await log_in(hub, f"guess-{attempt}", ATTACKER)
        assert resp.status == 401
    # Even the right password waits now: a blocked guesser learns nothing.
    blocked = await log_in(hub, PASSWORD, ATTACKER)
    assert blocked.status == 429
    body = await blocked.json()
    assert body["error"] == "too_many_attempts" and 890 <= body["retry_after"] <= 900
    assert blocked.headers["Retry-After"] == str(body["retry_after"])
    assert "try again in" in body["message"]

    at_home = await log_in(hub, PASSWORD, MEI_AT_HOME)
    assert at_home.status == 200


async def test_one_address_trying_many_emails_is_stopped(make_hub: MakeHub) -> None:
    hub = await make_hub(trusted_proxies=("127.0.0.1",), login_max_failures_per_address=4)
    await add_agent(hub, "mei@example.com")
    for name in ("li", "wang", "zhao", "sun"):
        assert (await log_in(hub, "123456", ATTACKER, f"{name}@example.com")).status == 401
    assert (await log_in(hub, PASSWORD, ATTACKER)).status == 429
    assert (await log_in(hub, PASSWORD, MEI_AT_HOME)).status == 200


async def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(make_hub: MakeHub) -> None:
    hub = await make_hub(login_max_failures=2)
    await add_agent(hub, "mei@example.com")
    for source in ("192.0.2.1", "192.0.2.2"):  # a guesser cannot dodge the count by inventing hops
        assert (await log_in(hub, "wrong", source)).status == 401
    assert (await log_in(hub, PASSWORD, "192.0.2.3")).status == 429


async def test_the_wait_ends_by_itself_and_success_starts_the_count_over(make_hub: MakeHub) -> None:
    hub = await make_hub(login_max_failures=2, login_failure_window_s=0.5)
    await add_agent(hub, "mei@example.com")
    for _ in range(2):
        assert (await log_in(hub, "wrong", "-")).status == 401
    assert (await log_in(hub, PASSWORD, "-")).status == 429
    await asyncio.sleep(0.6)
    assert (await log_in(hub, "wrong", "-")).status == 401
    assert (await log_in(hub, PASSWORD, "-")).status == 200
    assert (await log_in(hub, "wrong", "-")).status == 401  # one failure since the success
    assert (await log_in(hub, PASSWORD, "-")).status == 200


def test_bad_lockout_settings_are_named() -> None:
    with pytest.raises(ValueError, match="KEFU_LOGIN_MAX_FAILURES"):
        Settings.from_env({"KEFU_LOGIN_MAX_FAILURES": "-1"})
    with pytest.raises(ValueError, match="KEFU_TRUSTED_PROXIES"):
        Settings.from_env({"KEFU_TRUSTED_PROXIES": "proxy.internal"})
    assert Settings.from_env({"KEFU_TRUSTED_PROXIES": "10.0.0.0/8, ::1"}).trusted_proxies == ("10.0.0.0/8", "::1")
