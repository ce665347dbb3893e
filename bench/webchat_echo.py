"""The ceiling for bench.webchat: a bare aiohttp websocket server that echoes every text frame back.

Run: python -m bench.webchat_echo --port PORT  (the benchmark starts it in its own process, like the hub)
"""
from __future__ import annotations

import argparse

from aiohttp import WSMsgType, web


async def _echo(request: web.Request) -> web.WebSocketResponse:
    """Echo each text frame to the socket it came from, untouched."""
    # Same socket settings as Kefu's web chat socket, so only the work per frame differs.
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1 << 20)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
    return ws


async def _healthz(request: web.Request) -> web.Response:
    """Readiness probe, same path as the hub's."""
    return web.json_response({"status": "ok"})


def make_app() -> web.Application:
    """The echo application: /ws and /healthz."""
    app = web.Application()
    app.router.add_get("/ws", _echo)
    app.router.add_get("/healthz", _healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    """Serve until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(make_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
