"""The server keeps its long-lived heap out of full garbage collections; other processes are left alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_server_freezes_what_start_up_built_and_each_model_swapped_in_after() -> None:
    out = _run(
        """
        import asyncio, gc
        from hub import heap
        heap.enable()
        print(gc.get_threshold() == heap.THRESHOLDS)
        asyncio.run(heap.freeze_at_startup(None))
        frozen = gc.get_freeze_count()
        print(frozen > 1000)
        model = [[i] for i in range(5000)]  # a detector, an index: built after start-up
        heap.settle()
        print(gc.get_freeze_count() >= frozen + 5000)
        """
    )
    assert out.split() == ["True", "True", "True"]


def test_without_enable_nothing_is_frozen_so_test_processes_keep_collecting_their_garbage() -> None:
    out = _run(
        """
        import asyncio, gc
        from hub import heap
        before = gc.get_threshold()
        asyncio.run(heap.freeze_at_startup(None))
        heap.settle()
        print(gc.get_freeze_count(), gc.get_threshold() == before)
        """
    )
    assert out.split() == ["0", "True"]
