"""Email ingest benchmark: parse and deliver throughput over real-world MIME shapes (GBK, Big5, HTML, bounces...).

Run: python -m bench.email_ingest [--messages 3000] [--connections 4] [--imap 500] [--seed 7]

Prints messages/s for the pure parser (per shape and mixed), for the SMTP listener over loopback (aiosmtplib
clients -> EmailChannel -> a counting hub), and, when Debian's dovecot is installed, for draining an IMAP mailbox.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiosmtplib

from channels.base import DeliverResult, DeliveryUpdate, HubPort, InboundMessage
from channels.email.adapter import EmailChannel
from channels.email.config import EmailConfig, ImapSettings, Mailbox
from channels.email.parse import classify_email

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "email"

# How often each shape turns up in a support mailbox, roughly: mostly people, some robots.
MIX: dict[str, int] = {
    "gbk_foxmail_reply.eml": 14,
    "gb2312_mislabelled_gbk.eml": 8,
    "big5_quoted_printable.eml": 6,
    "gb18030_alternative.eml": 4,
    "utf8_labelled_gb2312.eml": 4,
    "html_only_outlook.eml": 10,
    "gmail_reply_quoted.eml": 14,
    "gmail_zh_reply_flowed.eml": 8,
    "apple_mail_zh_html.eml": 8,
    "forwarded_inline.eml": 3,
    "attachments_mixed.eml": 6,
    "no_message_id.eml": 3,
    "out_of_office_exchange.eml": 4,
    "autoreply_qq.eml": 3,
    "newsletter_bulk.eml": 2,
    "bounce_postfix_dsn.eml": 2,
    "bounce_plain_chinese.eml": 1,
}


@dataclass
class CountingHub:
    """A hub that only counts, so the figures are the channel's own cost."""

    delivered: int = 0
    reported: int = 0

    async def deliver(self, message: InboundMessage) -> DeliverResult:
        self.delivered += 1
        return DeliverResult(message_id=self.delivered, conversation_id=1, customer_id=1)

    async def report_delivery(self, update: DeliveryUpdate) -> None:
        self.reported += 1

    @property
    def port(self) -> HubPort:
        return HubPort(deliver=self.deliver, report_delivery=self.report_delivery)


def corpus(count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` messages drawn from the mix, each with its own Message-ID so nothing looks like a duplicate."""
    rng = random.Random(seed)
    shapes = {name: (FIXTURES / name).read_bytes() for name in MIX}
    names = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    out = []
    for index, name in enumerate(names):
        raw = shapes[name]
        stamp = f"X-Bench-Seq: {index}\r\n".encode()
        out.append((name, stamp + raw))
    return out


def bench_parser(messages: list[tuple[str, bytes]]) -> None:
    """Pure classify_email: messages/s overall and per shape."""
    per_shape: dict[str, list[float]] = {}
    started = time.perf_counter()
    for name, raw in messages:
        t0 = time.perf_counter()
        classify_email(raw)
        per_shape.setdefault(name, []).append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    volume = sum(len(raw) for _, raw in messages)
    print(f"pure parser: {len(messages)} messages, {volume / 1e6:.1f} MB in {elapsed:.2f} s "
          f"-> {len(messages) / elapsed:,.0f} msg/s, {volume / 1e6 / elapsed:.1f} MB/s")
    print(f"  {'shape':34} {'n':>5} {'median µs':>10} {'p99 µs':>9} {'msg/s':>9}")
    for name in sorted(per_shape, key=lambda n: -statistics.median(per_shape[n])):
        times = sorted(per_shape[name])
        median = statistics.median(times)
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"  {name:34} {len(times):5} {median * 1e6:10.0f} {p99 * 1e6:9.0f} {1 / median:9,.0f}")


async def bench_listener(messages: list[tuple[str, bytes]], connections: int) -> None:
    """Loopback SMTP: `connections` clients each reuse one session; and one session per message."""
    hub = CountingHub()
    channel = EmailChannel(EmailConfig(from_address="support@kefu.example", listen=("127.0.0.1", 0)))
    await channel.start(hub.port)
    address = channel.listen_address
    assert address is not None
    try:
        async def sender(batch: list[bytes]) -> None:
            async with aiosmtplib.SMTP(hostname=address[0], port=address[1], timeout=30) as client:
                for raw in batch:
                    await client.sendmail("customer@example.com", ["support@kefu.example"], raw)

        raws = [raw for _, raw in messages]
        batches = [raws[i::connections] for i in range(connections)]
        started = time.perf_counter()
        await asyncio.gather(*(sender(b) for b in batches))
        elapsed = time.perf_counter() - started
        handled = hub.delivered + hub.reported
        print(f"SMTP listener, {connections} reused sessions: {handled} messages in {elapsed:.2f} s "
              f"-> {handled / elapsed:,.0f} msg/s (delivered {hub.delivered}, bounces reported {hub.reported})")

        sample = raws[: max(200, len(raws) // 10)]
        before = hub.delivered + hub.reported
        limit = asyncio.Semaphore(connections)

        async def one(raw: bytes) -> None:
            async with limit:
                async with aiosmtplib.SMTP(hostname=address[0], port=address[1], timeout=30) as client:
                    await client.sendmail("customer@example.com", ["support@kefu.example"], raw)

        started = time.perf_counter()
        await asyncio.gather(*(one(raw) for raw in sample))
        elapsed = time.perf_counter() - started
        handled = hub.delivered + hub.reported - before
        print(f"SMTP listener, a new session per message ({connections} at a time): {handled} messages in "
              f"{elapsed:.2f} s -> {handled / elapsed:,.0f} msg/s")
    finally:
        await channel.stop()


async def bench_imap(messages: list[tuple[str, bytes]]) -> None:
    """Drain a loopback dovecot mailbox holding `messages`: fetch, parse, deliver, mark \\Seen."""
    from tests.fakes.dovecot import dovecot_binary, running_dovecot

    if dovecot_binary() is None:
        print("IMAP: skipped (Debian's dovecot is not installed)")
        return
    with running_dovecot() as server:
        names = [server.deliver(raw) for _, raw in messages]
        hub = CountingHub()
        imap = ImapSettings(host=server.host, port=server.port, security="none", username=server.user,
                            password=server.password, timeout=30)
        channel = EmailChannel(EmailConfig(from_address="support@kefu.example",
                                           mailboxes=(Mailbox(server.user, imap=imap),)))
        started = time.perf_counter()
        await channel.start(hub.port)
        try:
            while hub.delivered + hub.reported < len(messages):
                await asyncio.sleep(0.01)
            while server.flags_of(names[-1]) != "S":
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
        finally:
            await channel.stop()
    print(f"IMAP drain (dovecot on loopback, login to last \\Seen): {len(messages)} messages in {elapsed:.2f} s "
          f"-> {len(messages) / elapsed:,.0f} msg/s")


def main() -> None:
    """Parse arguments and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--imap", type=int, default=500, help="messages for the IMAP drain; 0 skips it")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    messages = corpus(args.messages, args.seed)
    shapes = Counter(name for name, _ in messages)
    print(f"corpus: {len(messages)} messages over {len(shapes)} shapes, "
          f"{sum(len(r) for _, r in messages) / len(messages) / 1024:.1f} KiB average")
    bench_parser(messages)
    asyncio.run(bench_listener(messages, args.connections))
    if args.imap:
        asyncio.run(bench_imap(messages[: args.imap]))


if __name__ == "__main__":
    main()
