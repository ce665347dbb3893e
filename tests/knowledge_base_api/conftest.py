"""Designers and agents using the knowledge base through the hub's HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from hub.domain import Role
from tests.browser.conftest import browser  # noqa: F401 - Chromium for the widget story
from tests.support import AgentSession, add_agent


class Desk:
    """A logged-in agent's view of the knowledge-base API: JSON in, (status, JSON) out."""

    def __init__(self, session: AgentSession) -> None:
        self.session = session
        self.client = session.client
        self.headers = {"X-CSRF-Token": session.csrf}

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        resp = await self.client.request(method, path, json=body, headers=self.headers)
        return resp.status, await resp.json()

    async def get(self, path: str) -> tuple[int, Any]:
        return await self.call("GET", path)

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.call("POST", path, {} if body is None else body)

    async def patch(self, path: str, body: Any) -> tuple[int, Any]:
        return await self.call("PATCH", path, body)

    async def delete(self, path: str) -> tuple[int, Any]:
        return await self.call("DELETE", path)

    async def write(self, title: str, body: str, *, publish: bool = True, **fields: Any) -> dict[str, Any]:
        """Create an article (and publish it unless told not to); the article as stored."""
        status, data = await self.post("/api/kb/articles", {"title": title, "body_markdown": body, **fields})
        assert status == 201, data
        article = data["article"]
        if publish:
            status, data = await self.post(f"/api/kb/articles/{article['id']}/publish")
            assert status == 200, data
            article = data["article"]
        return article  # type: ignore[no-any-return]

    async def search(self, query: str, **params: str) -> list[dict[str, Any]]:
        resp = await self.client.get("/api/kb/search", params={"q": query, **params})
        assert resp.status == 200, await resp.text()
        return (await resp.json())["hits"]  # type: ignore[no-any-return]

    async def upload(self, path: str, files: list[tuple[str, bytes, str]], **fields: str) -> tuple[int, Any]:
        """POST files as multipart/form-data."""
        form = FormData()
        for name, value in fields.items():
            form.add_field(name, value)
        for filename, data, content_type in files:
            form.add_field("files", data, filename=filename, content_type=content_type)
        resp = await self.client.post(path, data=form, headers=self.headers)
        return resp.status, await resp.json()

    async def finished(self, job: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """Poll an import job until it is done or failed, checking progress never goes back."""
        done = 0
        async with asyncio.timeout(timeout):
            while True:
                status, data = await self.get(f"/api/kb/imports/{job['id']}")
                assert status == 200, data
                job = data["job"]
                assert job["done"] >= done and job["done"] <= max(job["total"], job["done"])
                done = job["done"]
                if job["state"] in ("done", "failed", "interrupted"):
                    return job
                await asyncio.sleep(0.05)


@pytest.fixture
async def desk(hub: TestClient, login_as: Callable[..., Awaitable[AgentSession]]) -> Callable[..., Awaitable[Desk]]:
    """Log someone in with a role and hand back their Desk."""

    async def _desk(email: str, role: Role = Role.DESIGNER) -> Desk:
        await add_agent(hub, email, role)
        return Desk(await login_as(email))

    return _desk


@pytest.fixture
async def designer(desk: Callable[..., Awaitable[Desk]]) -> Desk:
    """A logged-in knowledge-base designer."""
    return await desk("lin.designer@example.com", Role.DESIGNER)
