"""What the customer-record stories share: agents with roles, PATCH/DELETE calls, customers writing in."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import DeliverResult, InboundMessage
from hub.domain import Role
from hub.keys import ACTIONS
from tests.support import AgentSession, add_agent


async def staff(hub: TestClient, login_as: Any, role: Role, email: str | None = None) -> AgentSession:
    """An agent account with a role, logged in."""
    email = email or f"{role.value}@example.com"
    await add_agent(hub, email, role)
    return await login_as(email)


async def call(session: AgentSession, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Any method with the CSRF header; returns (status, JSON)."""
    resp = await session.client.request(
        method, path, json=body if body is not None else {}, headers={"X-CSRF-Token": session.csrf}
    )
    return resp.status, await resp.json()


async def customer_writes(
    hub: TestClient, channel: str, sender: str, text: str, external_id: str, **extra: Any
) -> DeliverResult:
    """A customer message arriving through the hub's deliver port, as a channel would hand it over."""
    return await hub.app[ACTIONS].receive_inbound(
        InboundMessage(channel=channel, external_id=external_id, sender=sender, text=text, **extra)
    )


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    """Poll until `check` returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            value = await check()
            if value:
                return value
            await asyncio.sleep(0.03)
