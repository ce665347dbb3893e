"""Complaint scoring in a process of its own, so the detector's CPU never holds the hub's GIL.

Scoring one message is 100–250 µs of pure Python. On a thread of the hub that time is taken from the
event loop (one GIL) and shows as latency when a burst is scored; in a child process it runs on another
core. The child (`python -m hub.analysis.scoring_worker`) is started on first use, talks over its
stdin/stdout in length-prefixed pickle frames (see scoring_worker), runs at a lower priority than the
hub so the scheduler lets messages through first, and keeps the detector it was last given: the hub
sends a model once per version, then only texts.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import struct
import sys
from typing import Any

from hub.analysis.complaints import ComplaintDetector, ComplaintScore

log = logging.getLogger(__name__)

Item = tuple[str, str, int]  # text, channel, prior contacts
HEADER = struct.Struct("!I")
START_TIMEOUT_S = 60.0


class ScoringProcessError(RuntimeError):
    """The child could not be started or stopped answering."""


class ScoringProcess:
    """One child process that scores bursts of messages with the hub's current detector."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._loaded: int | None = None
        self._blob: tuple[int, bytes] | None = None
        self._lock = asyncio.Lock()

    async def score(self, version: int, detector: ComplaintDetector, items: list[Item]) -> list[ComplaintScore]:
        """Score `items` with `detector` (named by `version`) in the child; a dead child is replaced once."""
        async with self._lock:
            for attempt in (1, 2):
                try:
                    proc = await self._running()
                    if self._loaded != version:
                        await self._call(proc, ("load", version, await self._pickled(version, detector)))
                        self._loaded = version
                    scores = await self._call(proc, ("score", version, items))
                    if scores is None:  # it holds another detector after all: a fresh child gets this one
                        raise ScoringProcessError("the scoring process did not hold the detector it was sent")
                    return list(scores)
                except (ConnectionError, asyncio.IncompleteReadError, ScoringProcessError, TimeoutError) as exc:
                    log.warning("complaint scoring process failed (%r); replacing it (attempt %s)", exc, attempt)
                    await self._stop()
                except asyncio.CancelledError:
                    # A reply may still be on its way: a later request must not read it as its own.
                    self._kill()
                    raise
            raise ScoringProcessError("the complaint scoring process keeps failing")

    async def _pickled(self, version: int, detector: ComplaintDetector) -> bytes:
        if self._blob is None or self._blob[0] != version:
            # ~1 MB once per model version, off the loop; older versions are no longer needed.
            blob = await asyncio.get_running_loop().run_in_executor(
                None, pickle.dumps, detector, pickle.HIGHEST_PROTOCOL
            )
            self._blob = (version, blob)
        return self._blob[1]

    async def _running(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hub.analysis.scoring_worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        self._loaded = None
        return self._proc

    async def _call(self, proc: asyncio.subprocess.Process, request: tuple[Any, ...]) -> Any:
        assert proc.stdin is not None and proc.stdout is not None
        body = pickle.dumps(request, pickle.HIGHEST_PROTOCOL)
        proc.stdin.write(HEADER.pack(len(body)) + body)
        await proc.stdin.drain()
        async with asyncio.timeout(START_TIMEOUT_S):
            (size,) = HEADER.unpack(await proc.stdout.readexactly(HEADER.size))
            reply = await proc.stdout.readexactly(size)
        kind, value = pickle.loads(reply)
        if kind == "error":
            raise ScoringProcessError(value)
        return value

    async def _stop(self) -> None:
        proc, self._proc, self._loaded = self._proc, None, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # end of input: the child exits
        try:
            async with asyncio.timeout(5):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def _kill(self) -> None:
        proc, self._proc, self._loaded = self._proc, None, None
        if proc is not None and proc.returncode is None:
            proc.kill()

    async def close(self) -> None:
        """Stop the child (what it holds is dropped; the next start's catch-up scores it)."""
        async with self._lock:
            await self._stop()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (for tests and diagnostics)."""
        if self._proc is None or self._proc.returncode is not None:
            return None
        return self._proc.pid
