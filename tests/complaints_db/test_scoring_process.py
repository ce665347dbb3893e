"""Scoring runs in a child process: the hub's own threads never score, a dead child is replaced, a retrained
detector reaches the child, and with KEFU_COMPLAINT_PROCESS off the hub scores on a thread as before."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Any

import pytest

from hub.analysis.complaints import ComplaintDetector, default_detector
from hub.analysis.examples import correction, load_seed
from hub.analysis.scoring_process import ScoringProcess
from hub.config import Settings
from tests.complaints_db.conftest import Desk


async def _score(desk: Desk, sender: str, text: str) -> dict[str, Any]:
    boss = desk.sessions[0] if desk.sessions else (await desk.staff("lead@example.com")).session
    result = await desk.writes("webchat", sender, text)
    status, body = await boss.get(f"/api/messages/{result.message_id}/complaint")
    assert status == 200, body
    return body["score"]


def _count_scoring_on_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every score computed in this (the hub's) process, by thread name."""
    seen: list[str] = []
    original = ComplaintDetector.score

    def spy(self: ComplaintDetector, *args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread().name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ComplaintDetector, "score", spy)
    return seen


def _scoring(process: str) -> Any:
    """A fixture that sets KEFU_COMPLAINT_PROCESS before the desk's hub starts."""

    @pytest.fixture
    def chosen(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
        monkeypatch.setenv("KEFU_COMPLAINT_PROCESS", process)
        return settings

    return chosen


# The hub as `kefu serve` runs it (the suite's default is the thread), and with the child turned off.
child_scoring = _scoring("on")
thread_scoring = _scoring("off")


async def test_messages_are_scored_in_a_child_process_which_is_replaced_when_it_dies(
    child_scoring: Settings, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_hub = _count_scoring_on_threads(monkeypatch)
    first = await _score(desk, "visitor-1", "My order arrived broken and nobody answers my emails. Terrible service!")
    assert first["is_complaint"] is True and first["category"]
    scorer = desk.complaints._scorer
    assert scorer is not None and scorer.pid is not None and scorer.pid != os.getpid()
    assert in_hub == [], f"scored in the hub process on {in_hub}"

    os.kill(scorer.pid, signal.SIGKILL)  # the child dies (out of memory, say)
    second = await _score(desk, "visitor-2", "Do you ship to Shenzhen?")
    assert second["is_complaint"] is False
    assert scorer.pid is not None and scorer.pid != os.getpid()
    assert in_hub == []


async def test_the_child_scores_with_the_detector_it_was_last_given() -> None:
    scorer = ScoringProcess()
    try:
        text = "Where is my parcel?! It was due a week ago."
        seed = default_detector()
        (as_seed,) = await scorer.score(1, seed, [(text, "webchat", 0)])
        assert as_seed == seed.score(text, "webchat")
        # A retrained detector (a designer relabelled this text as fine) is sent once, then used.
        fixed = ComplaintDetector.train(load_seed() + [correction(text, False, None, "webchat")])
        (as_fixed,) = await scorer.score(2, fixed, [(text, "webchat", 0)])
        assert as_fixed == fixed.score(text, "webchat")
        assert as_fixed.probability != as_seed.probability
    finally:
        await scorer.close()
    assert scorer.pid is None


async def test_with_the_child_process_turned_off_the_hub_scores_on_its_scoring_thread(
    thread_scoring: Settings, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_hub = _count_scoring_on_threads(monkeypatch)
    body = await _score(desk, "visitor-3", "Third time asking, the refund still has not arrived!")
    assert body["is_complaint"] is True
    assert desk.complaints._scorer is None
    assert in_hub and all(name.startswith("kefu-complaint-score") for name in in_hub)


async def test_a_burst_cancelled_half_way_never_hands_its_answer_to_the_next_one() -> None:
    scorer = ScoringProcess()
    seed = default_detector()
    try:
        await scorer.score(1, seed, [])
        long_burst = asyncio.create_task(scorer.score(1, seed, [("Still waiting for my refund!", "sms", 2)] * 5000))
        await asyncio.sleep(0.05)  # the child is busy with it
        long_burst.cancel()
        with pytest.raises(asyncio.CancelledError):
            await long_burst
        text = "Thanks, that solved it."
        assert await scorer.score(1, seed, [(text, "webchat", 0)]) == [seed.score(text, "webchat")]
    finally:
        await scorer.close()
