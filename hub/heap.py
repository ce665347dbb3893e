"""Keep the garbage collector's full passes off what lives for the whole run.

A running hub holds ~220,000 objects the collector tracks (imported code, the bot's and the complaint
detector's models, the knowledge-base index); a full collection walks them all, ~150–200 ms on this
project's 2-core machine, during which no customer message moves. `kefu serve` therefore freezes the
heap once started and again after each model or index is swapped in (gc.freeze: what exists now is no
longer walked; it is still freed when nothing refers to it). Only the server does this: in a test
process, freezing each short-lived app would keep its cyclic garbage forever.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

_enabled = False


# Collections by count of allocations net of frees: a server allocates in bursts per message and frees
# almost all of it at once, so the default (700, 10, 10) ran a young collection every few messages
# and a full one every few seconds, each a pause for whoever was waiting.
THRESHOLDS = (10_000, 20, 50)


def enable() -> None:
    """Freeze after start-up and after model swaps from now on, and collect less often (the server calls
    this once)."""
    global _enabled
    _enabled = True
    gc.set_threshold(*THRESHOLDS)


def settle() -> None:
    """After a long-lived structure was built: take everything alive now out of full collections."""
    if _enabled:
        gc.freeze()


async def freeze_at_startup(_app: object) -> None:
    """aiohttp on_startup hook: collect what start-up left behind, then freeze the rest."""
    if not _enabled:
        return
    gc.collect()
    gc.freeze()
    log.info("heap frozen after start-up: %s objects no longer walked by the collector", gc.get_freeze_count())
