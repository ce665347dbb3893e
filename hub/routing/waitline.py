"""What a waiting customer is told: their place in their queue's line and a typical wait."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from hub.routing.decide import service_order
from hub.routing.model import WaitingConversation


def queue_positions(waiting: Iterable[WaitingConversation]) -> dict[int, tuple[int, int]]:
    """Each conversation's 1-based place in its own queue (served in routing's order) and the queue's length."""
    lines: defaultdict[int, list[int]] = defaultdict(list)
    for conv in service_order(waiting):
        lines[conv.queue_id].append(conv.id)
    return {cid: (i + 1, len(ids)) for ids in lines.values() for i, cid in enumerate(ids)}


def typical_wait_seconds(recent_asa: float | None) -> int | None:
    """The wait to show: recent average speed of answer, rounded up to 10 s; None when nobody was answered lately."""
    if recent_asa is None or recent_asa < 0:
        return None
    return max(10, math.ceil(recent_asa / 10) * 10)
