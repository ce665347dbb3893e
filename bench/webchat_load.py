"""Load for bench.webchat: customer and agent websockets, closed-loop and fixed-rate phases, one asyncio loop.

Every message text is "<tag> <id> <customer> <perf_counter_ns at send>", so whoever receives it can tell the
phase, check it was expected exactly once at that socket, and compute the latency without any lookup.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import ClientWebSocketResponse, WSMsgType

now_ns = time.perf_counter_ns

# CPU seconds so far: (server process, this process, the whole machine).
CpuProbe = Callable[[], tuple[float, float, float]]
Mark = tuple[int, tuple[float, float, float]]
DRAIN_S = 30.0  # how long to wait, after sending stops, for the last messages to arrive


@dataclass
class Customer:
    """One visitor socket (on the hub or on the echo server)."""

    index: int
    ws: ClientWebSocketResponse
    conversation_id: int | None = None


@dataclass
class Agent:
    """One logged-in agent with its console socket."""

    index: int
    agent_id: int
    session: aiohttp.ClientSession
    csrf: str
    ws: ClientWebSocketResponse


@dataclass
class Phase:
    """What one phase sent, what came back, and what was measured in its window."""

    tag: str
    copies: int = 1
    sent: int = 0
    acks: int = 0
    received: dict[int, int] = field(default_factory=dict)
    duplicates: int = 0
    misrouted: int = 0
    errors: list[str] = field(default_factory=list)
    window: tuple[int, int] = (0, 0)
    saturated_at: int | None = None
    # Raw timings, cut to the measured window afterwards (the window moves if the phase stops early).
    sent_at: list[int] = field(default_factory=list)
    done: list[tuple[int, int]] = field(default_factory=list)
    acked: list[tuple[int, int]] = field(default_factory=list)
    lags: list[tuple[int, int]] = field(default_factory=list)
    receiver_of: list[int] | None = None
    # False for the persist-only phase: the ack is the end of the road, no agent is connected.
    deliver: bool = True
    on_done: Callable[[int], None] | None = None


@dataclass
class PhaseStats:
    """The figures of one measured phase."""

    name: str
    seconds: float
    sent: int
    delivered_per_s: float
    offered_per_s: float | None
    latency_ms: dict[str, float]
    ack_latency_ms: dict[str, float] | None
    undelivered: int
    duplicates: int
    misrouted: int
    acks_missing: int
    errors: list[str]
    server_cpu: float
    client_cpu: float
    other_cpu: float
    sched_lag_p99_ms: float | None = None
    saturated: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return dict(self.__dict__)


def percentiles(values_ns: list[int]) -> dict[str, float]:
    """p50, p95, p99 and max in milliseconds (nearest rank)."""
    if not values_ns:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan"), "max": float("nan")}
    s = sorted(values_ns)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))] / 1e6  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": s[-1] / 1e6}


class Load:
    """Both sides of the conversation in one loop, plus the bookkeeping that checks them."""

    def __init__(self) -> None:
        self.phase: Phase | None = None
        self.stray = 0
        self.broken: list[str] = []
        self.closing = False
        self._quiet: set[int] = set()  # sockets we closed on purpose
        self.assignee_of: list[int] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._sessions: list[aiohttp.ClientSession] = []

    # -- receiving -------------------------------------------------------------------------------

    def delivered(self, text: str, receiver: int, at: int) -> None:
        """A message arrived at socket `receiver` at time `at`."""
        tag, mid_s, cust_s, sent_s = text.split(" ")
        phase = self.phase
        if phase is None or tag != phase.tag:
            self.stray += 1  # a straggler from an earlier phase's timeout
            return
        mid, cust, sent = int(mid_s), int(cust_s), int(sent_s)
        count = phase.received.get(mid, 0) + 1
        phase.received[mid] = count
        if count > phase.copies:
            phase.duplicates += 1
            return
        if phase.receiver_of is not None and phase.receiver_of[cust] != receiver:
            phase.misrouted += 1
        if count < phase.copies:
            return
        phase.done.append((sent, at))
        if phase.on_done is not None:
            phase.on_done(cust)

    def acked(self, customer: Customer, frame: dict[str, Any], at: int) -> None:
        """The hub stored a message and said so."""
        phase = self.phase
        client_id = str(frame.get("client_id", ""))
        if phase is None or not client_id.startswith(phase.tag + "-"):
            self.stray += 1
            return
        phase.acks += 1
        phase.acked.append((phase.sent_at[int(client_id.split("-", 1)[1])], at))
        if frame.get("duplicate"):
            phase.errors.append(f"ack marked duplicate: {client_id}")
        customer.conversation_id = frame.get("conversation_id")
        if not phase.deliver and phase.on_done is not None:
            phase.on_done(customer.index)

    async def _read_hub_customer(self, customer: Customer) -> None:
        async for msg in customer.ws:
            if msg.type != WSMsgType.TEXT:
                break
            at = now_ns()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "ack":
                self.acked(customer, frame, at)
            elif kind == "error" and self.phase is not None:
                self.phase.errors.append(f"customer {customer.index}: {frame}")
        self._closed(f"customer {customer.index}", customer.ws)

    def _closed(self, who: str, ws: ClientWebSocketResponse) -> None:
        """A socket ended; unless we are closing them, that is a failure worth stopping for."""
        if not self.closing and id(ws) not in self._quiet:
            self.broken.append(f"{who} socket closed by the server (code {ws.close_code}, {ws.exception()!r})")

    async def _read_echo_customer(self, customer: Customer) -> None:
        async for msg in customer.ws:
            if msg.type != WSMsgType.TEXT:
                break
            at = now_ns()
            self.delivered(json.loads(msg.data)["text"], customer.index, at)
        self._closed(f"echo customer {customer.index}", customer.ws)

    async def _read_agent(self, agent: Agent) -> None:
        ws = agent.ws
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            data = msg.data
            # Each message also sends a conversation summary to every agent; skip those unparsed so the
            # load generator's CPU goes to the frames being measured. Kefu writes "type" first.
            if '"message"' not in data[:32]:
                continue
            at = now_ns()
            frame = json.loads(data)
            if frame.get("type") == "message":
                self.delivered(frame["message"]["text"], agent.index, at)
        self._closed(f"agent {agent.index}", ws)

    # -- connecting ------------------------------------------------------------------------------

    async def disconnect_agents(self, agents: list[Agent]) -> None:
        """Close every agent's console socket (the login stays valid)."""
        for agent in agents:
            self._quiet.add(id(agent.ws))
            await agent.ws.close()

    async def reconnect_agents(self, base: str, agents: list[Agent]) -> None:
        """Open every agent's console socket again with its existing session."""
        for agent in agents:
            agent.ws = await agent.session.ws_connect(base + "/api/ws", origin=base, max_msg_size=0)
            hello = json.loads((await agent.ws.receive(timeout=10)).data)
            if hello.get("type") != "hello":
                raise RuntimeError(f"agent socket said {hello}")
            self._spawn(self._read_agent(agent))

    def _session(self, **kwargs: Any) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), **kwargs)
        self._sessions.append(session)
        return session

    def _spawn(self, coro: Any) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def connect_agents(self, base: str, emails: list[str], password: str) -> list[Agent]:
        """Log every agent in through the API and open its console socket."""

        async def one(i: int, email: str) -> Agent:
            session = self._session(cookie_jar=aiohttp.CookieJar(unsafe=True))
            async with session.post(base + "/api/login", json={"email": email, "password": password}) as r:
                body = await r.json()
                if r.status != 200:
                    raise RuntimeError(f"login {email}: {r.status} {body}")
            ws = await session.ws_connect(base + "/api/ws", origin=base, max_msg_size=0)
            hello = json.loads((await ws.receive(timeout=10)).data)
            if hello.get("type") != "hello":
                raise RuntimeError(f"agent socket said {hello}")
            return Agent(i, int(body["agent"]["id"]), session, body["csrf_token"], ws)

        agents = list(await asyncio.gather(*(one(i, e) for i, e in enumerate(emails))))
        for agent in agents:
            self._spawn(self._read_agent(agent))
        return agents

    async def connect_customers(self, url: str, count: int, *, hub: bool) -> list[Customer]:
        """Open `count` customer sockets; on the hub each says hello and gets its token."""
        session = self._session()
        gate = asyncio.Semaphore(50)  # do not open hundreds of TCP handshakes at once

        async def one(i: int) -> Customer:
            async with gate:
                ws = await session.ws_connect(url, max_msg_size=0)
                if hub:
                    await ws.send_str('{"type":"hello"}')
                    welcome = json.loads((await ws.receive(timeout=30)).data)
                    if welcome.get("type") != "welcome":
                        raise RuntimeError(f"hello answered {welcome}")
            return Customer(i, ws)

        customers = list(await asyncio.gather(*(one(i) for i in range(count))))
        for c in customers:
            self._spawn(self._read_hub_customer(c) if hub else self._read_echo_customer(c))
        return customers

    async def close(self) -> None:
        """Close every socket and session, then stop the readers."""
        self.closing = True
        for session in self._sessions:
            await session.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, customer: Customer, phase: Phase) -> None:
        """Send the next message of the phase from this customer."""
        mid = phase.sent
        phase.sent += 1
        at = now_ns()
        phase.sent_at.append(at)
        # Formatted by hand: every field is a plain token, and json.dumps would cost the generator CPU.
        await customer.ws.send_str(
            f'{{"type":"message","client_id":"{phase.tag}-{mid}","text":"{phase.tag} {mid} {customer.index} {at}"}}'
        )

    async def drain(self, phase: Phase, *, acks: bool, timeout: float) -> None:
        """Wait until every message arrived (and was acked) or the timeout passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.broken:
            if (len(phase.done) >= phase.sent or not phase.deliver) and (not acks or phase.acks >= phase.sent):
                return
            await asyncio.sleep(0.01)

    async def warm_up(self, customers: list[Customer], copies: int, timeout: float = 60.0) -> Phase:
        """Each customer sends one message (the hub opens its conversation); wait for acks and copies."""
        phase = Phase("w", copies=copies)
        self.phase = phase
        # The very first conversation also creates the default queue; open it alone so the rest do not
        # race to create it (on PostgreSQL that race fails the losers' messages: a hub bug, reported).
        await self.send(customers[0], phase)
        await self.drain(phase, acks=True, timeout=timeout)
        for c in customers[1:]:
            await self.send(c, phase)
        await self.drain(phase, acks=True, timeout=timeout)
        if len(phase.done) < phase.sent or phase.acks < phase.sent:
            raise RuntimeError(
                f"warm-up: {phase.acks}/{phase.sent} acks, {len(phase.done)}/{phase.sent} delivered to all agents; "
                f"errors: {(phase.errors + self.broken)[:3]}"
            )
        return phase

    async def _mark_at(self, when: int, probe: CpuProbe, marks: list[Mark]) -> None:
        await asyncio.sleep(max(0.0, (when - now_ns()) / 1e9))
        marks.append((now_ns(), probe()))

    async def closed_loop(
        self, name: str, tag: str, customers: list[Customer], *, window: int, warm_s: float, seconds: float,
        probe: CpuProbe, acks: bool, receiver_of: list[int], deliver: bool = True,
    ) -> PhaseStats:
        """Every customer keeps `window` messages in flight, as fast as deliveries (or acks) come back."""
        phase = Phase(tag, receiver_of=receiver_of, deliver=deliver)
        credits = [asyncio.Semaphore(window) for _ in customers]
        phase.on_done = lambda cust: credits[cust].release()
        start = now_ns()
        marks = [(start, probe())]
        phase.window = (start + int(warm_s * 1e9), start + int((warm_s + seconds) * 1e9))
        self.phase = phase
        marker = asyncio.create_task(self._mark_at(phase.window[0], probe, marks))
        stop_at = phase.window[1]

        async def customer_loop(c: Customer) -> None:
            credit = credits[c.index]
            while True:
                await credit.acquire()
                if now_ns() >= stop_at:
                    return
                await self.send(c, phase)

        async def stopper() -> None:
            await self._mark_at(stop_at, probe, marks)
            for credit in credits:  # wake senders still waiting for a credit so they see the stop time
                credit.release()

        await asyncio.gather(stopper(), *(customer_loop(c) for c in customers))
        await marker
        await self.drain(phase, acks=acks, timeout=DRAIN_S)
        return self._stats(name, phase, marks, acks, offered=None)

    async def fixed_rate(
        self, name: str, tag: str, customers: list[Customer], *, rate: float, warm_s: float, seconds: float,
        probe: CpuProbe, acks: bool, receiver_of: list[int],
    ) -> PhaseStats:
        """Open loop: message k leaves at start + k/rate from customer k mod N, whatever comes back.

        When more than a second's worth of messages is outstanding the server is saturated: sending stops
        there (so the backlog stays drainable) and the phase is measured up to that point.
        """
        phase = Phase(tag, receiver_of=receiver_of)
        start = now_ns() + 1_000_000
        marks = [(now_ns(), probe())]
        phase.window = (start + int(warm_s * 1e9), start + int((warm_s + seconds) * 1e9))
        self.phase = phase
        marker = asyncio.create_task(self._mark_at(phase.window[0], probe, marks))
        interval = 1e9 / rate
        total = int((warm_s + seconds) * rate)
        backlog = max(100, int(rate))
        n = len(customers)
        behind = 0
        for k in range(total):
            due = start + int(k * interval)
            t = now_ns()
            if due > t:
                behind = 0
                await asyncio.sleep((due - t) / 1e9)
                t = now_ns()
            else:
                behind += 1
                if behind % 32 == 0:  # running late: still let the readers run, or nothing is received
                    await asyncio.sleep(0)
            if phase.sent - len(phase.done) > backlog:
                phase.saturated_at = t
                break
            phase.lags.append((due, t - due))
            await self.send(customers[k % n], phase)
        marker.cancel()
        marks.append((now_ns(), probe()))
        await self.drain(phase, acks=acks, timeout=DRAIN_S)
        return self._stats(name, phase, marks, acks, offered=rate)

    def _stats(
        self, name: str, phase: Phase, marks: list[Mark], acks: bool,
        offered: float | None,
    ) -> PhaseStats:
        """Cut the raw timings to the measured window: the planned one, or up to where sending stopped."""
        lo, hi = phase.window
        if phase.saturated_at is not None:
            # Stopped early: measure from the window start if a second of it ran, else from the phase start.
            hi = phase.saturated_at
            if hi - lo < 1_000_000_000:
                lo = marks[0][0]
        seconds = (hi - lo) / 1e9
        t0, (s0, c0, m0) = min(marks, key=lambda m: abs(m[0] - lo))
        t1, (s1, c1, m1) = min(marks, key=lambda m: abs(m[0] - hi))
        cpu_s = max(1e-9, (t1 - t0) / 1e9)
        done = phase.done if phase.deliver else phase.acked
        in_window = lambda pairs: [at - sent for sent, at in pairs if lo <= sent < hi]  # noqa: E731
        delivered_per_s = sum(1 for _, at in done if lo <= at < hi) / seconds
        if phase.saturated_at is not None and done:
            # Saturated: what the server sustained is everything it delivered over the time it took.
            delivered_per_s = len(done) / max(1e-9, (max(at for _, at in done) - marks[0][0]) / 1e9)
        undelivered = sum(1 for mid in range(phase.sent) if phase.received.get(mid, 0) < phase.copies)
        if not phase.deliver:
            undelivered = 0
            phase.duplicates += len(phase.received)  # nobody should have received anything
        lags = [lag for due, lag in phase.lags if lo <= due < hi]
        return PhaseStats(
            name=name,
            seconds=seconds,
            sent=phase.sent,
            delivered_per_s=delivered_per_s,
            offered_per_s=offered,
            latency_ms=percentiles(in_window(done)),
            ack_latency_ms=percentiles(in_window(phase.acked)) if acks else None,
            undelivered=undelivered,
            duplicates=phase.duplicates,
            misrouted=phase.misrouted,
            acks_missing=max(0, phase.sent - phase.acks) if acks else 0,
            errors=(phase.errors + self.broken)[:5],
            server_cpu=(s1 - s0) / cpu_s,
            client_cpu=(c1 - c0) / cpu_s,
            other_cpu=max(0.0, (m1 - m0) - (s1 - s0) - (c1 - c0)) / cpu_s,
            sched_lag_p99_ms=percentiles(lags)["p99"] if lags else None,
            saturated=phase.saturated_at is not None,
        )

    # -- the hub's side of the setup -------------------------------------------------------------

    async def take_round_robin(self, base: str, agents: list[Agent], customers: list[Customer]) -> None:
        """Customer i's conversation goes to agent i mod M, through the take API."""
        self.assignee_of = [c.index % len(agents) for c in customers]

        async def takes(agent: Agent) -> None:
            for c in customers[agent.index :: len(agents)]:
                url = f"{base}/api/conversations/{c.conversation_id}/take"
                async with agent.session.post(url, json={}, headers={"X-CSRF-Token": agent.csrf}) as r:
                    if r.status != 200:
                        raise RuntimeError(f"take {c.conversation_id}: {r.status} {await r.text()}")

        await asyncio.gather(*(takes(a) for a in agents))
