"""Signed Twilio webhook ingest over loopback: the SMS channel's route against a bare aiohttp handler.

Run: python -m bench.twilio_ingest [--requests 6000] [--concurrency 32] [--rounds 3]
The server runs in its own process (so the load generator does not share its event loop) and hands
messages to a hub that only counts them, so the figures are the adapter's own cost: form parsing,
signature check, payload parsing and the TwiML answer.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
from aiohttp import web
from multidict import MultiDict, MultiDictProxy
from twilio.request_validator import RequestValidator

from channels.base import DeliverResult, DeliveryUpdate, HubPort, InboundMessage
from channels.sms.adapter import EMPTY_TWIML, TwilioSmsChannel
from channels.sms.config import TwilioConfig
from channels.sms.parse import parse_inbound

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-token-0123456789abcdef0123"
RAW_PATH = "/raw"


def _form(i: int) -> dict[str, str]:
    """A realistic inbound SMS form with a distinct MessageSid."""
    sid = f"SM{i:032x}"
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": f"Hello, where is my order #{i}? 你好，我的订单到哪里了？",
        "FromCountry": "US",
        "To": "+14155550100",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": "+14155550123",
        "ApiVersion": "2010-04-01",
    }


async def _serve(conn: Connection) -> None:
    delivered = 0

    async def deliver(message: InboundMessage) -> DeliverResult:
        nonlocal delivered
        delivered += 1
        return DeliverResult(message_id=delivered, conversation_id=1, customer_id=1)

    async def report(update: DeliveryUpdate) -> None:
        return None

    async def raw(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=EMPTY_TWIML, content_type="text/xml")

    config = TwilioConfig(kind="sms", account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_="+14155550100")
    channel = TwilioSmsChannel(config)
    app = web.Application()
    app.router.add_routes(channel.routes())
    app.router.add_post(RAW_PATH, raw)
    await channel.start(HubPort(deliver=deliver, report_delivery=report))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    conn.send(runner.addresses[0][1])
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"
    conn.send(delivered)
    await channel.stop()
    await runner.cleanup()


def _server_main(conn: Connection) -> None:
    asyncio.run(_serve(conn))


async def _load(
    url: str, bodies: list[tuple[dict[str, str], dict[str, str]]], concurrency: int
) -> tuple[float, list[float]]:
    """Send every (form, headers) pair with `concurrency` in flight; elapsed seconds and latencies."""
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[dict[str, str], dict[str, str]]] = asyncio.Queue()
    for item in bodies:
        queue.put_nowait(item)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while not queue.empty():
                form, headers = queue.get_nowait()
                t0 = time.perf_counter()
                async with session.post(url, data=form, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{url} answered {resp.status}: {await resp.text()}")
                latencies.append(time.perf_counter() - t0)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, latencies


def _signed(url: str, forms: list[dict[str, str]]) -> list[tuple[dict[str, str], dict[str, str]]]:
    validator = RequestValidator(AUTH_TOKEN)
    return [(f, {"X-Twilio-Signature": validator.compute_signature(url, f)}) for f in forms]


def _report(name: str, runs: list[tuple[int, float, list[float]]]) -> dict[str, float]:
    """Print and return the median round's throughput and the pooled latency percentiles."""
    rates = sorted(n / elapsed for n, elapsed, _ in runs)
    lat = sorted(x for _, _, latencies in runs for x in latencies)
    row = {
        "rps": statistics.median(rates),
        "rps_min": rates[0],
        "rps_max": rates[-1],
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
    }
    print(
        f"{name:<28} {row['rps']:>7.0f} req/s (rounds {row['rps_min']:.0f}..{row['rps_max']:.0f})"
        f"   p50 {row['p50_ms']:6.2f} ms   p99 {row['p99_ms']:6.2f} ms"
    )
    return row


def _in_process_costs(rounds: int = 20000) -> None:
    """Microseconds per signature check and per parse, without HTTP."""
    # The form as the handler has it: aiohttp's MultiDictProxy (the validator is ~2x slower on a dict).
    form = MultiDictProxy(MultiDict(_form(1)))
    url = "https://support.example.com/channels/twilio/sms/inbound"
    validator = RequestValidator(AUTH_TOKEN)
    signature = validator.compute_signature(url, form)
    t0 = time.perf_counter()
    for _ in range(rounds):
        validator.validate(url, form, signature)
    t1 = time.perf_counter()
    for _ in range(rounds):
        parse_inbound(form)
    t2 = time.perf_counter()
    print(f"{'RequestValidator.validate':<28} {(t1 - t0) / rounds * 1e6:>9.1f} µs/call")
    print(f"{'parse_inbound':<28} {(t2 - t1) / rounds * 1e6:>9.1f} µs/call")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per target (noise control)")
    args = parser.parse_args(argv)

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_server_main, args=(child,), daemon=True)
    server.start()
    port = parent.recv()
    base = f"http://127.0.0.1:{port}"
    urls = {"raw": base + RAW_PATH, "channel": f"{base}/channels/twilio/sms/inbound"}
    n, warm, rounds = args.requests, args.warmup, args.rounds
    per_round = max(1, n // rounds)

    forms = iter(_form(i) for i in range(10**9))
    results: dict[str, Any] = {"requests": per_round * rounds, "concurrency": args.concurrency}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{per_round * rounds} requests per target in {rounds} alternating rounds, {args.concurrency} in flight,"
        f" server in its own process on 127.0.0.1; load average {load} on {os.cpu_count()} CPUs"
    )

    def batch(target: str, count: int) -> list[tuple[dict[str, str], dict[str, str]]]:
        return _signed(urls[target], [next(forms) for _ in range(count)])

    async def run() -> None:
        runs: dict[str, list[tuple[int, float, list[float]]]] = {"raw": [], "channel": []}
        for target, url in urls.items():
            await _load(url, batch(target, warm), args.concurrency)
        for r in range(rounds):
            # Alternate who goes first so drift in background load hits both alike.
            for target in (("raw", "channel") if r % 2 == 0 else ("channel", "raw")):
                elapsed, latencies = await _load(urls[target], batch(target, per_round), args.concurrency)
                runs[target].append((per_round, elapsed, latencies))
        results["raw"] = _report("raw aiohttp form handler", runs["raw"])
        results["channel"] = _report("TwilioSmsChannel inbound", runs["channel"])

    try:
        asyncio.run(run())
    finally:
        parent.send("stop")
        delivered = parent.recv()
        server.join(timeout=5)
    print(f"hub.deliver calls: {delivered} (expected {warm + per_round * rounds})")
    ratio = results["channel"]["rps"] / results["raw"]["rps"]
    print(f"channel throughput is {ratio:.0%} of the raw handler's")
    _in_process_costs()
    return results


if __name__ == "__main__":
    main()
