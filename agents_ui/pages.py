"""The console's pages and static files (plain ES modules, no build step)."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"

routes = web.RouteTableDef()


@routes.get("/")
async def index(request: web.Request) -> web.StreamResponse:
    """Send people to the console."""
    raise web.HTTPFound("/console")


@routes.get("/console")
async def console(request: web.Request) -> web.StreamResponse:
    """The agent console (it logs in through the API)."""
    return web.FileResponse(STATIC / "console.html", headers={"Cache-Control": "no-cache"})


@routes.get("/wallboard")
async def wallboard(request: web.Request) -> web.StreamResponse:
    """The supervisors' live wallboard (its data API checks the role)."""
    return web.FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-cache"})


@routes.get("/settings")
async def settings(request: web.Request) -> web.StreamResponse:
    """Supervisors' settings: queues and business-hours calendars (the routing API checks the role)."""
    return web.FileResponse(STATIC / "settings.html", headers={"Cache-Control": "no-cache"})


@routes.get("/designer")
async def designer(request: web.Request) -> web.StreamResponse:
    """The bot designer's workspace (its APIs check the designer role)."""
    return web.FileResponse(STATIC / "designer.html", headers={"Cache-Control": "no-cache"})


routes.static("/static/console", STATIC)
