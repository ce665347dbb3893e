"""The inbound storage path alone: Actions.receive_inbound on a SQLite file, in one process, no sockets.

Run: python -m bench.inbound_storage [--customers 200] [--messages 20000] [--batch 32] [--rate 1000]

Two measurements, each after a warm-up that opens every customer's conversation:
  batches   --batch messages stored concurrently, again and again (how the hub's write loop sees a
            busy web chat); CPU µs per message and messages per second.
  paced     one message every 1/--rate seconds (how a steady load arrives); CPU µs per message
            (including the pacing's own timer wake-ups) and store latency p50/p99.
No bus subscribers run: this is the write path (lookup, conversation bump, message insert, event log,
commit) that `python -m bench.webchat` measures end to end, without the websocket and the push.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from channels.base import InboundMessage
from hub.actions import Actions
from hub.attachments import AttachmentStore
from hub.config import Settings
from hub.events import InProcessBus
from hub.storage import migrate
from hub.storage.database import Database


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.inbound_storage", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20000, help="messages in the batches measurement")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rate", type=float, default=1000.0, help="paced measurement, messages/s (5 s)")
    args = parser.parse_args(argv)
    if min(args.customers, args.messages, args.batch) < 1 or args.rate <= 0:
        parser.error("all figures must be positive")
    return args


class Feed:
    """Customer messages as the web chat adapter hands them to the hub."""

    def __init__(self, actions: Actions, customers: int) -> None:
        self.actions = actions
        self.customers = customers
        self.n = 0

    async def one(self, customer: int) -> None:
        self.n += 1
        visitor = f"visitor:bench{customer:05d}-token-xxxxxxxxxxxxxxxx"
        client_id = f"{self.n:08d}-bench"
        await self.actions.receive_inbound(
            InboundMessage(
                channel="webchat", external_id=f"{visitor}:{client_id}", sender=visitor,
                text=f"r {self.n} {customer} {time.perf_counter_ns()}", metadata={"client_id": client_id},
            )
        )


async def batches(feed: Feed, messages: int, batch: int) -> tuple[float, float]:
    """(CPU µs per message, messages per second) storing `batch` at a time."""
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, messages, batch):
        await asyncio.gather(*(feed.one((start + k) % feed.customers) for k in range(batch)))
    return (time.process_time() - cpu) / messages * 1e6, messages / (time.perf_counter() - wall)


async def paced(feed: Feed, rate: float, seconds: float = 5.0) -> tuple[float, float, float]:
    """(CPU µs per message, p50 ms, p99 ms) with one message every 1/rate seconds."""
    count = int(rate * seconds)
    latencies: list[float] = []

    async def timed(customer: int) -> None:
        sent = time.perf_counter()
        await feed.one(customer)
        latencies.append(time.perf_counter() - sent)

    cpu, start = time.process_time(), time.perf_counter()
    tasks = []
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(timed(i % feed.customers)))
    await asyncio.gather(*tasks)
    used = (time.process_time() - cpu) / count * 1e6
    latencies.sort()
    return used, latencies[len(latencies) // 2] * 1e3, latencies[int(len(latencies) * 0.99)] * 1e3


async def run(args: argparse.Namespace, data: Path) -> None:
    """Migrate a fresh database, warm up, measure twice."""
    db = Database(f"sqlite+aiosqlite:///{data / 'kefu.db'}")
    try:
        await migrate.upgrade(db)
        actions = Actions(db, InProcessBus(), Settings(data_dir=data), AttachmentStore(data / "attachments"))
        await actions.ensure_default_queue()
        feed = Feed(actions, args.customers)
        await asyncio.gather(*(feed.one(c) for c in range(args.customers)))
        await batches(feed, min(args.messages, 2000), args.batch)  # warm caches and the statement compiler
        cpu, tput = await batches(feed, args.messages, args.batch)
        print(f"batches of {args.batch:<4}  {cpu:6.0f} µs CPU/msg  {tput:7.0f} msgs/s")
        cpu, p50, p99 = await paced(feed, args.rate)
        print(f"paced {args.rate:g}/s    {cpu:6.0f} µs CPU/msg  store latency p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        print(f"(one process, SQLite WAL in a temp dir, {args.customers} customers; {os.cpu_count()} CPUs)")
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Run in a temp dir and remove it."""
    args = parse_args(argv)
    data = Path(tempfile.mkdtemp(prefix="kefu-bench-storage-"))
    try:
        asyncio.run(run(args, data))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
