"""Processes for bench.webchat: the hub and the echo server as children, agents, databases, machine facts."""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process and its children have used so far (all threads), from /proc.

    Children count: the hub scores complaints in a child process, and that is the hub's work."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return float("nan")
    # The command name may hold spaces, so count fields from after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime, stime, and cutime, cstime of children that have exited and been waited for.
    total = sum(int(x) for x in fields[11:15]) / CLK_TCK
    for child in _children(pid):
        used = process_cpu_seconds(child)
        if not math.isnan(used):
            total += used
    return total


def _children(pid: int) -> list[int]:
    """Live child processes of `pid` (Linux's /proc/PID/task/TID/children; empty where it is missing)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.extend(int(x) for x in f.read().split())
        except OSError:
            continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy (not idle, not waiting for I/O) since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice are already in user/nice]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK


class Child:
    """A server process the benchmark started: its log, its CPU use, and a stop that always happens."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path, base_url: str) -> None:
        self.name = name
        self.base_url = base_url
        self.log_path = log_path
        self._log = open(log_path, "wb")
        # Own session: a Ctrl-C in the terminal reaches only the benchmark, which then stops the child itself.
        self.proc = subprocess.Popen(
            list(argv), env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """CPU seconds the child has used so far."""
        return process_cpu_seconds(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the child's output, for error messages."""
        self._log.flush()
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait_healthy(self, timeout: float = 60.0) -> None:
        """Poll GET /healthz until it answers 200, or raise with the child's log."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    async with session.get(self.base_url + "/healthz", timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy after {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (aiohttp shuts down cleanly), then SIGKILL after the grace period."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        self._log.close()


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment for a hub command: this one plus the data dir and any KEFU_* overrides."""
    env = dict(os.environ)
    env["KEFU_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def start_hub(data_dir: Path, database: str | None) -> Child:
    """Start `python -m hub.cli serve` on a free port, as an operator would run it."""
    port = free_port()
    argv = [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if database:
        argv += ["--database", database]
    # The load's 200 visitors send ~16 messages/s each from one address, far past the flood limits meant
    # for people (60 a minute per visitor, 600 per address). The limits are raised out of reach rather
    # than switched off, so every message still pays for being counted.
    env = child_env(
        data_dir,
        KEFU_WEBCHAT_MESSAGES_PER_MINUTE="1000000",
        KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS="100000000",
    )
    return Child("hub", argv, env, data_dir / "hub.log", f"http://127.0.0.1:{port}")


def start_echo(log_dir: Path) -> Child:
    """Start the bare aiohttp echo server on a free port."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.webchat_echo", "--port", str(port)]
    return Child("echo", argv, dict(os.environ), log_dir / "echo.log", f"http://127.0.0.1:{port}")


def agent_email(i: int) -> str:
    """The email of benchmark agent i."""
    return f"bench-agent-{i}@example.com"


def add_agents(data_dir: Path, database: str | None, count: int, password: str) -> str:
    """Create the agents before the hub starts; returns how ("one process" or "CLI per agent")."""
    try:
        from hub.cli import _settings, _with_database  # one process, one migration, one password hash
        from hub.domain import Role
        from hub.passwords import hash_password_sync
    except ImportError:
        _add_agents_cli(data_dir, database, count, password)
        return "kefu agent add per agent"
    os.environ["KEFU_DATA_DIR"] = str(data_dir)
    settings = _settings(argparse.Namespace(database=database))
    password_hash = hash_password_sync(password)

    async def add(actions: Any) -> None:
        for i in range(count):
            await actions.create_agent(
                name=f"Bench Agent {i}", email=agent_email(i), password_hash=password_hash, role=Role.AGENT
            )

    asyncio.run(_with_database(settings, add))
    return "one process (hub.cli internals)"


def _add_agents_cli(data_dir: Path, database: str | None, count: int, password: str) -> None:
    """Fallback: the documented CLI, once per agent (about a second each)."""
    env = child_env(data_dir, KEFU_AGENT_PASSWORD=password)
    for i in range(count):
        argv = [sys.executable, "-m", "hub.cli", "agent", "add", "--name", f"Bench Agent {i}",
                "--email", agent_email(i)]
        if database:
            argv += ["--database", database]
        done = subprocess.run(argv, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"kefu agent add failed: {done.stderr or done.stdout}")


def _admin_dsn(url: str) -> tuple[str, str]:
    """The asyncpg DSN of the server's maintenance database, and the database name in the URL."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.database:
        raise SystemExit("--database needs a database name, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/kefu_bench")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database


async def create_pg_database(url: str) -> None:
    """Create the database the URL names; refuse to touch one that already exists."""
    import asyncpg  # type: ignore[import-untyped]

    dsn, name = _admin_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            raise SystemExit(f"database {name!r} already exists; the benchmark only runs on a database it creates")
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_pg_database(url: str) -> None:
    """Drop the benchmark's database, closing whatever still uses it."""
    import asyncpg  # type: ignore[import-untyped]

    dsn, name = _admin_dsn(url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def count_stored_messages(data_dir: Path, database: str | None) -> int | None:
    """Inbound web chat messages in the hub's database (None when it cannot be read)."""
    query = "SELECT count(*) FROM messages WHERE channel = 'webchat' AND direction = 'in'"
    try:
        if database and database.startswith("postgresql"):
            import asyncpg  # type: ignore[import-untyped]
            from sqlalchemy.engine import make_url

            dsn = make_url(database).set(drivername="postgresql").render_as_string(hide_password=False)
            conn = await asyncpg.connect(dsn)
            try:
                return int(await conn.fetchval(query))
            finally:
                await conn.close()
        import sqlite3

        path = database.split("///", 1)[1] if database else str(data_dir / "kefu.db")
        with sqlite3.connect(path) as db:
            return int(db.execute(query).fetchone()[0])
    except Exception:
        return None


def machine_info() -> dict[str, Any]:
    """CPU count, model, OS and versions, for the report."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


async def py_spy_record(pid: int, delay: float, seconds: float, out: Path, rate: int = 100) -> str | None:
    """Sample a process with py-spy for `seconds` after `delay`; None when done, else why it failed."""
    exe = shutil.which("py-spy")
    if exe is None:
        return "py-spy is not installed (pip install py-spy)"
    await asyncio.sleep(delay)
    proc = await asyncio.create_subprocess_exec(
        exe, "record", "-p", str(pid), "-d", str(max(1, round(seconds))), "-r", str(rate), "--threads",
        "-f", "raw", "-o", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await proc.communicate()
    if proc.returncode != 0 or not out.exists():
        return f"py-spy failed ({proc.returncode}): {output.decode(errors='replace').strip()[-300:]}"
    return None


def _frame(frame: str) -> str:
    """'fn (path/to/file.py:12)' -> 'fn (path/to/file.py)': group a function's lines together."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


# Leaf frames that mean "this thread waits": py-spy's own idle detection lets some through on this VM.
WAITING = frozenset({
    "EpollSelector.select (selectors.py)",
    "_connection_worker_thread (aiosqlite/core.py)",
    "_worker (concurrent/futures/thread.py)",
    "Condition.wait (threading.py)",
    "Queue.get (queue.py)",
})


def summarize_profile(path: Path, seconds: float, rate: int = 100, top: int = 10) -> list[str]:
    """Hot spots from py-spy's collapsed stacks: busy share per thread, then the functions on top."""
    # The repository's own packages, as py-spy prints their paths (relative to the working directory).
    root = Path(__file__).resolve().parents[1]
    ours = tuple(f"{d.name}/" for d in root.iterdir() if (d / "__init__.py").exists() and d.name != "bench")
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        body = [_frame(f) for f in frames[1:]]
        if not body or body[-1] in WAITING:
            continue
        thread = frames[0].split(": ", 1)[-1]
        # Pool threads are numbered; one line per pool reads better.
        threads[thread.rstrip("0123456789").rstrip("_-") if thread[-1].isdigit() else thread] += n
        busy += n
        own[body[-1]] += n
        for f in set(body):
            if f.rpartition(" (")[2].startswith(ours):
                inclusive[f] += n
    if not busy:
        return ["py-spy recorded no busy samples"]
    samples = rate * seconds
    share = lambda n: f"{n / busy:6.1%}"  # noqa: E731
    lines = [
        f"{busy} busy samples at {rate} Hz over {seconds:g} s = {busy / samples:.0%} of one core",
        "busy by thread (share of one core): "
        + ", ".join(f"{t} {n / samples:.0%}" for t, n in threads.most_common(5)),
        "Kefu functions, inclusive share of busy samples:",
    ]
    skip = {"<module> (hub/cli.py)", "main (hub/cli.py)", "_serve (hub/cli.py)"}
    lines += [f"  {share(n)}  {f}" for f, n in inclusive.most_common(top + len(skip)) if f not in skip][:top + 3]
    lines.append("leaf functions (self time):")
    lines += [f"  {share(n)}  {f}" for f, n in own.most_common(top)]
    return lines
