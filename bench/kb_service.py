"""Knowledge base through the running hub: import 10,000 articles over HTTP, restart, then search.

Run: python -m bench.kb_service [--articles 10000] [--queries 500] [--database-url URL]

Steps, each timed: upload the articles as one zip of Markdown to /api/kb/imports/markdown and poll
the job until done (parse, save in batches, index); start a second hub on the same database and
wait until its index is built from the database; then 500 Chinese and 500 English customer
questions through KnowledgeBase.search (what the bot calls), through GET /api/kb/search (what the
console calls) and GET /webchat/kb/suggest (what the widget calls), one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.kb_search import generate_articles, generate_queries
from hub.config import Settings
from hub.domain import Role
from hub.keys import ACTIONS
from hub.passwords import hash_password
from knowledge_base.bundles import markdown_zip
from knowledge_base.keys import KNOWLEDGE_BASE

PASSWORD = "bench-password-123"


def _pct(samples: Sequence[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _line(label: str, samples: tuple[list[float], list[float]]) -> str:
    """Wall-clock percentiles, then in brackets the process CPU time each call cost."""
    wall, cpu = samples
    return (
        f"{label:<34} p50 {statistics.median(wall) * 1e3:6.2f} ms  p95 {_pct(wall, 0.95) * 1e3:6.2f} ms  "
        f"p99 {_pct(wall, 0.99) * 1e3:6.2f} ms  max {max(wall) * 1e3:6.2f} ms  "
        f"(CPU p50 {statistics.median(cpu) * 1e3:5.2f}  p99 {_pct(cpu, 0.99) * 1e3:5.2f} ms, n={len(wall)})"
    )


async def _timed(call: Callable[[str], Awaitable[object]], inputs: Sequence[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and process CPU seconds of each call, one call at a time."""
    wall, cpu = [], []
    for value in inputs:
        start, start_cpu = time.perf_counter(), time.process_time()
        await call(value)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


async def _serve(settings: Settings) -> tuple[web.AppRunner, str]:
    from hub.app import create_app

    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _login(session: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    async with session.post(f"{base}/api/login", json={"email": email, "password": PASSWORD}) as resp:
        assert resp.status == 200, await resp.text()
        return {"X-CSRF-Token": (await resp.json())["csrf_token"]}


async def run(articles_count: int, queries_count: int, database_url: str, data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, database_url=database_url)
    articles = [replace(a, id=None) for a in generate_articles(articles_count)]
    bundle = markdown_zip(articles)
    print(f"{'articles':<34} {len(articles):8d}  ({len(bundle) / 2**20:.1f} MiB zip of Markdown)")

    runner, base = await _serve(settings)
    email = "designer@bench.example"
    await runner.app[ACTIONS].create_agent(
        name="Bench", email=email, password_hash=await hash_password(PASSWORD), role=Role.DESIGNER
    )
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        headers = await _login(session, base, email)
        form = aiohttp.FormData()
        form.add_field("files", bundle, filename="help.zip", content_type="application/zip")
        start = time.perf_counter()
        async with session.post(f"{base}/api/kb/imports/markdown", data=form, headers=headers) as resp:
            assert resp.status == 202, await resp.text()
            job = (await resp.json())["job"]
        polls = 0
        while job["state"] not in ("done", "failed", "interrupted"):
            await asyncio.sleep(0.25)
            polls += 1
            async with session.get(f"{base}/api/kb/imports/{job['id']}") as resp:
                job = (await resp.json())["job"]
        took = time.perf_counter() - start
        assert job["state"] == "done" and job["created"] == len(articles), job
        print(
            f"{'import over HTTP (parse+save+index)':<34} {took:8.2f} s  "
            f"({len(articles) / took:.0f} articles/s, {polls} progress polls)"
        )
    await runner.cleanup()

    start = time.perf_counter()
    runner, base = await _serve(settings)
    kb = runner.app[KNOWLEDGE_BASE]
    serving = time.perf_counter() - start
    while not kb.ready:
        await asyncio.sleep(0.05)
    print(
        f"{'restart: hub serving after':<34} {serving:8.2f} s; index of {len(kb.index)} built after "
        f"{time.perf_counter() - start:.2f} s"
    )

    zh, en = generate_queries(queries_count, "zh"), generate_queries(queries_count, "en")
    await _timed(lambda q: kb.search(q, limit=5), zh[:50] + en[:50])  # warm-up: word caches
    both = await _timed(lambda q: kb.search(q, limit=5), zh + en)
    print(_line("KnowledgeBase.search (bot)", both))
    print(_line("  Chinese questions", (both[0][: len(zh)], both[1][: len(zh)])))
    print(_line("  English questions", (both[0][len(zh) :], both[1][len(zh) :])))
    print(_line("  language filter", await _timed(lambda q: kb.search(q, language="zh", limit=5), zh)))

    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        headers = await _login(session, base, email)

        async def api(query: str) -> None:
            async with session.get(f"{base}/api/kb/search", params={"q": query, "limit": "10"}) as resp:
                assert resp.status == 200
                await resp.read()

        async def suggest(query: str) -> None:
            async with session.get(f"{base}/webchat/kb/suggest", params={"q": query}) as resp:
                assert resp.status == 200
                await resp.read()

        print(_line("GET /api/kb/search (limit 10)", await _timed(api, zh + en)))
        print(_line("GET /webchat/kb/suggest (limit 3)", await _timed(suggest, zh + en)))
        del headers
    await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    """Print import, restart and search figures for the knowledge base in a running hub."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temporary folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kefu-kb-bench-") as folder:
        asyncio.run(run(args.articles, args.queries, args.database_url, Path(folder)))


if __name__ == "__main__":
    main()
