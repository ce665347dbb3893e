"""Web chat end to end: customers' websocket messages, persisted by the hub, pushed to agents' websockets.

Run: python -m bench.webchat [--customers 200] [--agents 10] [--duration 10] [--rate 1000] [--database URL]
                             [--json] [--profile [RAW_OUT]]

The hub runs as `python -m hub.cli serve` in its own process (SQLite in a temp dir, or the PostgreSQL
database --database names, which the benchmark creates and drops). The ceiling is a bare aiohttp websocket
echo server (bench.webchat_echo), also in its own process. All clients share one asyncio loop in this
process: on two cores one core goes to the server under test and one to the load generator, so a second
client process would only take CPU from the server; the gen CPU column shows when the generator is the
limit, and the others column how much of the machine other processes took meanwhile.

Before the phases each customer sends one message, which opens its conversation and reaches every agent;
then the agents take the conversations round-robin, so afterwards each message reaches exactly one agent
socket. Phases, each --warmup seconds unmeasured then --duration seconds measured:
  Kefu closed loop   every customer keeps --window messages in flight; one is done when its agent receives
                     it; figure = messages received by agents per second.
  Kefu persist only  the same with the agents' sockets closed, done at the ack (stored and committed): the
                     storage path alone, to split the cost between storing and pushing.
  echo closed loop   the same against the echo server, done when the echo comes back.
  Kefu / echo fixed  --rate messages per second in total, open loop, round-robin over the customers;
                     figure = latency from the customer's send to the agent's receipt (the send's
                     perf_counter_ns is in the text). Stops early when over a second of backlog builds up.
Every message must be acked, stored once (rows counted in the database) and received once by its agent.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.webchat_load import DRAIN_S, Load, PhaseStats
from bench.webchat_procs import (
    Child,
    add_agents,
    agent_email,
    count_stored_messages,
    create_pg_database,
    drop_pg_database,
    machine_busy_seconds,
    machine_info,
    py_spy_record,
    start_echo,
    start_hub,
    summarize_profile,
)

PASSWORD = "bench-password-0123456789"
TARGET_RATE = 3000.0  # customer messages per second, persisted and delivered, 2 cores, SQLite
TARGET_P99_MS = 25.0
TARGET_AT_RATE = 1000.0
PROFILE_HZ = 100


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.webchat", description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n".join(__doc__.splitlines()[2:]),
    )
    parser.add_argument("--customers", type=int, default=200, help="customer websockets (default 200)")
    parser.add_argument("--agents", type=int, default=10, help="agent websockets (default 10)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per phase (default 10)")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each phase (default 1)")
    parser.add_argument("--rate", type=float, default=TARGET_AT_RATE, help="fixed-rate phase, msgs/s (default 1000)")
    parser.add_argument("--window", type=int, default=2, help="closed loop: messages in flight per customer")
    parser.add_argument(
        "--database",
        help="hub database URL (default SQLite in a temp dir); a postgresql+asyncpg:// URL names a database "
        "the benchmark creates and drops, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/kefu_bench",
    )
    parser.add_argument(
        "--profile", nargs="?", const="", metavar="RAW_OUT",
        help="sample the hub with py-spy during Kefu's measured closed loop, persist-only and fixed-rate phases "
        "and print its hot spots; with a path, also keep the collapsed stacks at PATH.PHASE (for flamegraph.pl "
        "or speedscope); py-spy stops "
        "the hub briefly for each sample, so that phase's figures drop a little",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON on stdout (table on stderr)")
    args = parser.parse_args(argv)
    if args.customers < 1 or args.agents < 1 or args.window < 1 or args.rate <= 0 or args.duration <= 0:
        parser.error("--customers, --agents, --window, --rate and --duration must be positive")
    return args


async def _nothing() -> None:
    """Nothing to collect (no --profile)."""


def _ws(base: str, path: str) -> str:
    return base.replace("http://", "ws://", 1) + path


async def settle(child: Child, limit_s: float = 90.0) -> float:
    """Wait until the child is idle (under 5% of a core for half a second); the CPU seconds it used meanwhile.

    Work a phase queued but the hub had not finished (complaint scoring, say) is counted, not hidden."""
    start = last = child.cpu_seconds()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = child.cpu_seconds()
        if now - last < 0.025:
            break
        last = now
    return child.cpu_seconds() - start


async def measure(args: argparse.Namespace, hub: Child, echo: Child, data_dir: Path) -> dict[str, Any]:
    """Connect everyone, warm up, run the five phases, count what the database holds."""
    load = Load()
    n, m = args.customers, args.agents
    try:
        await asyncio.gather(hub.wait_healthy(), echo.wait_healthy())
        agents = await load.connect_agents(hub.base_url, [agent_email(i) for i in range(m)], PASSWORD)
        kefu = await load.connect_customers(_ws(hub.base_url, "/webchat/ws"), n, hub=True)
        echoes = await load.connect_customers(_ws(echo.base_url, "/ws"), n, hub=False)
        warm = await load.warm_up(kefu, copies=m)
        await load.take_round_robin(hub.base_url, agents, kefu)
        await asyncio.sleep(0.5)  # let the takes' conversation frames reach the agents first
        await settle(hub)  # the warm-up's complaint scoring and routing passes are not the first phase's
        ready = time.monotonic()

        # The generator's own GC pauses (it keeps every timing) would show up as latency: collect between
        # phases instead, with everything from the setup frozen out of the way.
        gc.collect()
        gc.freeze()
        gc.disable()
        kefu_probe = lambda: (hub.cpu_seconds(), time.process_time(), machine_busy_seconds())  # noqa: E731
        echo_probe = lambda: (echo.cpu_seconds(), time.process_time(), machine_busy_seconds())  # noqa: E731
        to_agent, to_self = load.assignee_of, list(range(n))
        common = {"warm_s": args.warmup, "seconds": args.duration}
        phases: dict[str, PhaseStats] = {}
        profiles: dict[str, list[str]] = {}
        drained: dict[str, float] = {}

        def sample(phase: str) -> Callable[[], Awaitable[None]]:
            """Start py-spy for the measured part of a Kefu phase; the returned coroutine collects it."""
            if args.profile is None:
                return _nothing
            raw = data_dir / f"hub-profile-{phase}.txt"
            spy = asyncio.create_task(py_spy_record(hub.pid, args.warmup, args.duration, raw, PROFILE_HZ))

            async def collect() -> None:
                failed = await spy
                profiles[phase] = [failed] if failed else summarize_profile(raw, args.duration, PROFILE_HZ)
                if not failed and args.profile:
                    shutil.copyfile(raw, f"{args.profile}.{phase}")

            return collect

        collect = sample("kefu_closed")
        phases["kefu_closed"] = await load.closed_loop(
            "Kefu closed loop", "t", kefu, window=args.window, probe=kefu_probe, acks=True, receiver_of=to_agent,
            **common,
        )
        await collect()
        drained["kefu_closed"] = await settle(hub)
        gc.collect()
        # Persist only: with no agent connected the push has no one to tell, so this is the write path
        # alone (ack = committed). It shows how much of the gap is storage and how much is the push.
        await load.disconnect_agents(agents)
        collect = sample("kefu_persist")
        phases["kefu_persist"] = await load.closed_loop(
            "Kefu persist only", "p", kefu, window=args.window, probe=kefu_probe, acks=True, receiver_of=to_agent,
            deliver=False, **common,
        )
        await collect()
        drained["kefu_persist"] = await settle(hub)
        await load.reconnect_agents(hub.base_url, agents)
        gc.collect()
        phases["echo_closed"] = await load.closed_loop(
            "echo closed loop", "e", echoes, window=args.window, probe=echo_probe, acks=False, receiver_of=to_self,
            **common,
        )
        gc.collect()
        collect = sample("kefu_rate")
        phases["kefu_rate"] = await load.fixed_rate(
            f"Kefu at {args.rate:g}/s", "r", kefu, rate=args.rate, probe=kefu_probe, acks=True,
            receiver_of=to_agent, **common,
        )
        await collect()
        drained["kefu_rate"] = await settle(hub)
        gc.collect()
        phases["echo_rate"] = await load.fixed_rate(
            f"echo at {args.rate:g}/s", "f", echoes, rate=args.rate, probe=echo_probe, acks=False,
            receiver_of=to_self, **common,
        )
        kefu_sent = warm.sent + sum(phases[k].sent for k in ("kefu_closed", "kefu_persist", "kefu_rate"))
        stored = await count_stored_messages(data_dir, args.database)
        return {"phases": phases, "kefu_sent": kefu_sent, "stored": stored, "stray": load.stray, "ready": ready,
                "profiles": profiles, "drained_cpu_s": drained}
    finally:
        gc.enable()
        await load.close()


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}f}"


def report(args: argparse.Namespace, info: dict[str, Any], run: dict[str, Any], out: Any) -> dict[str, Any]:
    """Print the table and the targets; return everything as a JSON-friendly dict."""
    phases: dict[str, PhaseStats] = run["phases"]
    kc, ec, kr, er = phases["kefu_closed"], phases["echo_closed"], phases["kefu_rate"], phases["echo_rate"]
    kp = phases["kefu_persist"]
    p = lambda *a: print(*a, file=out)  # noqa: E731
    db = "SQLite (WAL) in a temp dir" if not args.database else args.database.split("@")[-1]
    p(f"machine   {info['nproc']} CPUs usable ({info['cpu_count']} online), {info['cpu_model'] or 'unknown CPU'}")
    p(f"          {info['platform']}, Python {info['python']}, aiohttp {info['aiohttp']}")
    p(f"load avg  before {info['load_before']}   after {info['load_after']}")
    p(f"hub       python -m hub.cli serve, database {db}; agents added by {info['agents_added_by']}")
    p(f"load      {args.customers} customers, {args.agents} agents, one asyncio loop in this process;"
      f" closed-loop window {args.window}/customer")
    p(f"phases    {args.warmup:g} s warm-up + {args.duration:g} s measured each; setup {info['setup_s']:.1f} s,"
      f" total {info['total_s']:.1f} s")
    p("")
    head = (f"{'phase':<20} {'msgs/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
            f" {'srv CPU':>7} {'µs/msg':>6} {'gen CPU':>7} {'others':>6}"
            f" {'sent':>6} {'undel':>5} {'dup':>3} {'wrong':>5} {'no ack':>6}")
    p(head)
    p("-" * len(head))
    for s in (kc, kp, ec, kr, er):
        lat = s.latency_ms
        per_msg = s.server_cpu / s.delivered_per_s * 1e6 if s.delivered_per_s else float("nan")
        p(f"{s.name:<20} {s.delivered_per_s:>7.0f} {_fmt(lat['p50']):>7} {_fmt(lat['p95']):>7}"
          f" {_fmt(lat['p99']):>7} {_fmt(lat['max']):>7} {s.server_cpu:>7.0%} {_fmt(per_msg, 0):>6}"
          f" {s.client_cpu:>7.0%} {s.other_cpu:>6.0%}"
          f" {s.sent:>6} {s.undelivered:>5} {s.duplicates:>3} {s.misrouted:>5} {s.acks_missing:>6}")
    p("")
    for line in (
        "msgs/s: received by agents (echo: back at the customer) per measured second; latency: send to receipt.",
        "srv CPU: the server process (hub or echo, all threads, with its child processes), in cores; µs/msg: its CPU"
        " time per message.",
        "gen CPU: this load generator; others: all other processes on the machine meanwhile, in cores (the noise,",
        "and PostgreSQL's own processes when the hub runs on it).",
        f"undel: not received {DRAIN_S:.0f} s after sending stopped; wrong: received by an agent other than the",
        "assignee; no ack: sent but never acknowledged as stored. Persist only: the agents' sockets are closed and",
        "a message is done when its ack (committed) arrives, so msgs/s and latency are the storage path alone.",
    ):
        p(line)
    for key, s in (("kefu_closed", kc), ("kefu_persist", kp), ("kefu_rate", kr)):
        extra = run["drained_cpu_s"].get(key)
        done = s.delivered_per_s * s.seconds if key != "kefu_persist" else s.sent
        if extra is not None and done:
            whole = (s.server_cpu * s.seconds + extra) / done * 1e6
            p(f"{s.name}: after the phase the hub spent {extra:.2f} CPU s finishing queued work (complaint"
              f" scoring, routing); counting it, {whole:.0f} µs/msg")
    for s in (kr, er):
        if s.saturated:
            p(f"{s.name}: SATURATED - over a second's worth of messages outstanding after {s.seconds:.1f} s, sending"
              " stopped; msgs/s is the rate it then drained at, latencies (of what was sent) are lower bounds")
    for s in (kc, kr):
        if s.ack_latency_ms is not None:
            a = s.ack_latency_ms
            p(f"{s.name}: customer ack (stored) p50 {_fmt(a['p50'])} ms, p99 {_fmt(a['p99'])} ms")
    for s in (kr, er):
        if s.sched_lag_p99_ms is not None:
            p(f"{s.name}: sender p99 lag behind schedule {s.sched_lag_p99_ms:.2f} ms")
    p("")
    tput_ratio = kc.delivered_per_s / ec.delivered_per_s if ec.delivered_per_s else float("nan")
    p99_ratio = kr.latency_ms["p99"] / er.latency_ms["p99"] if er.latency_ms["p99"] else float("nan")
    p(f"Kefu/echo  throughput {tput_ratio:.1%}   p99 at {args.rate:g}/s {p99_ratio:.1f}x the echo's")
    p("")

    stored, sent = run["stored"], run["kefu_sent"]
    clean = all(
        s.undelivered == s.duplicates == s.misrouted == s.acks_missing == 0 and not s.errors for s in phases.values()
    )
    persisted = stored is None or stored == sent
    rate_ok = not kr.saturated and kr.undelivered == 0 and kr.delivered_per_s >= 0.97 * args.rate
    checks = {
        "throughput": kc.delivered_per_s >= TARGET_RATE,
        "p99": rate_ok and kr.latency_ms["p99"] <= TARGET_P99_MS,
        "integrity": clean and persisted,
    }
    notes = {"throughput": "", "p99": "", "integrity": ""}
    if args.database and not args.database.startswith("sqlite"):
        notes["throughput"] = "  (the target is for SQLite)"
    if args.rate != TARGET_AT_RATE:
        notes["p99"] = f"  (the target is at {TARGET_AT_RATE:g}/s; this ran at {args.rate:g}/s)"
    if not rate_ok:
        notes["p99"] += f"  (it delivered only {kr.delivered_per_s:.0f}/s" + (", saturated)" if kr.saturated else ")")
    stored_txt = "not readable" if stored is None else str(stored)
    mark = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    p("targets")
    p(f"  >= {TARGET_RATE:.0f} msgs/s persisted and delivered   Kefu {kc.delivered_per_s:9.0f} msgs/s"
      f"  {mark(checks['throughput'])}{notes['throughput']}")
    p(f"  p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_AT_RATE:.0f} msgs/s            Kefu {kr.latency_ms['p99']:9.1f} ms"
      f"      {mark(checks['p99'])}{notes['p99']}")
    p(f"  every message acked, stored and received once  sent {sent}, rows stored {stored_txt}"
      f"  {mark(checks['integrity'])}")
    for s in phases.values():
        for err in s.errors:
            p(f"  error in {s.name}: {err}")
    if run["stray"]:
        p(f"  {run['stray']} frames arrived after their phase had ended")
    for key, lines in run["profiles"].items():
        p("")
        p(f"hub hot spots during {phases[key].name} (py-spy, {PROFILE_HZ} Hz, CPU samples only)")
        for line in lines:
            p(f"  {line}")
    return {
        "command": "python -m bench.webchat " + " ".join(sys.argv[1:]),
        "machine": info,
        "customers": args.customers,
        "agents": args.agents,
        "window": args.window,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "rate": args.rate,
        "database": "sqlite" if not args.database else args.database.split("@")[-1],
        "phases": {k: v.as_dict() for k, v in phases.items()},
        "ratio_throughput": tput_ratio,
        "ratio_p99": p99_ratio,
        "kefu_sent": sent,
        "stored": stored,
        "targets": {k: {"pass": v} for k, v in checks.items()},
        "profiles": run["profiles"],
    }


def _terminate(signum: int, frame: Any) -> None:
    # SIGTERM/SIGHUP become an exception, so the finally blocks stop the servers and remove the temp dir.
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Run everything; 0 when every message arrived intact (targets are reported, not enforced)."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    out = sys.stderr if args.json else sys.stdout
    info = machine_info()
    info["load_before"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    children: list[Child] = []
    pg = bool(args.database and args.database.startswith("postgresql"))
    pg_created = False
    hub: Child | None = None
    try:
        if pg:
            asyncio.run(create_pg_database(args.database))
            pg_created = True
        print(f"adding {args.agents} agents, starting the hub and the echo server ...", file=out, flush=True)
        info["agents_added_by"] = add_agents(tmp, args.database, args.agents, PASSWORD)
        hub = start_hub(tmp, args.database)
        children.append(hub)
        echo = start_echo(tmp)
        children.append(echo)
        run = asyncio.run(measure(args, hub, echo, tmp))
        info["setup_s"] = run.pop("ready") - t0
        info["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        info["total_s"] = time.monotonic() - t0
        results = report(args, info, run, out)
    except KeyboardInterrupt:
        print("interrupted: stopping the servers and removing the temp dir", file=sys.stderr)
        return 130
    except BaseException:
        if hub is not None:
            print(f"--- hub log (last lines) ---\n{hub.log_tail()}", file=sys.stderr)
        raise
    finally:
        # A second Ctrl-C must not leave servers or files behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children:
            child.stop()
        if pg_created:
            asyncio.run(drop_pg_database(args.database))
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if results["targets"]["integrity"]["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
