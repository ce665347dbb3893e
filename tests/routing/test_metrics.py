"""One hour in a small contact center, with every figure worked out by hand (see docs/metrics.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.routing.metrics import (
    AgentMetrics,
    HandlingInterval,
    PresenceInterval,
    QueueMetrics,
    ServiceLevelConfig,
    abandonment_rate,
    agent_report,
    average_handle_time,
    average_speed_of_answer,
    longest_wait_seconds,
    occupancy,
    queue_report,
    service_level,
    waiting_now,
)
from hub.routing.model import ConversationStatus, ConversationTimes, Presence
from hub.routing.outcome import Outcome, classify

START, END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC), datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CONFIG = ServiceLevelConfig(threshold_seconds=60, short_abandon_seconds=5)
Q, A, R = ConversationStatus.QUEUED, ConversationStatus.ASSIGNED, ConversationStatus.RESOLVED


def at(hms: str) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2026, 3, 2, h, m, s, tzinfo=UTC)


def conv(
    cid: int, status: ConversationStatus, enqueued: str | None, queue: int = 1, agent: int | None = None, **kw: str
) -> ConversationTimes:
    return ConversationTimes(
        id=cid,
        queue_id=queue,
        channel="webchat",
        status=status,
        created_at=at(enqueued or "09:15:00"),
        agent_id=agent,
        enqueued_at=at(enqueued) if enqueued else None,
        **{k: at(v) for k, v in kw.items()},  # type: ignore[arg-type]
    )


RECORDS = [
    # answered in 30 s, handled 600 s by agent 7
    conv(1, R, "09:00:00", agent=7, assigned_at="09:00:20", first_agent_response_at="09:00:30", resolved_at="09:10:20"),
    # answered in 120 s (outside the 60 s threshold), handled 1200 s by agent 8
    conv(2, R, "09:05:00", agent=8, assigned_at="09:06:30", first_agent_response_at="09:07:00", resolved_at="09:26:30"),
    # left after 3 s: a short abandon, ignored by service level and abandonment rate
    conv(3, R, "09:10:00", abandoned_at="09:10:03"),
    # left after 120 s: an abandon
    conv(4, R, "09:20:00", abandoned_at="09:22:00"),
    # answered in 45 s by agent 7, still open
    conv(5, A, "09:30:00", agent=7, assigned_at="09:30:40", first_agent_response_at="09:30:45"),
    # still waiting at 10:00: 600 s and 120 s
    conv(6, Q, "09:50:00"),
    conv(7, Q, "09:58:00"),
    # the bot solved it; never queued
    conv(8, R, None, resolved_at="09:20:00"),
    # answered before the hour (not counted as answered), resolved in it: handled 1920 s by agent 8
    conv(9, R, "08:50:00", agent=8, assigned_at="08:58:00", first_agent_response_at="08:59:00", resolved_at="09:30:00"),
    # answered exactly at 10:00: the range is half-open, so not in this hour
    conv(10, A, "09:59:00", agent=8, assigned_at="09:59:30", first_agent_response_at="10:00:00"),
    # billing queue: one customer left after 60 s
    conv(11, R, "09:00:00", queue=2, abandoned_at="09:01:00"),
]


def test_each_conversation_has_one_queue_outcome() -> None:
    outcomes = [classify(r, CONFIG.short_abandon_seconds) for r in RECORDS]
    assert outcomes == [
        Outcome.ANSWERED,
        Outcome.ANSWERED,
        Outcome.SHORT_ABANDON,
        Outcome.ABANDONED,
        Outcome.ANSWERED,
        Outcome.WAITING,
        Outcome.WAITING,
        Outcome.BOT_ONLY,
        Outcome.ANSWERED,
        Outcome.ANSWERED,
        Outcome.ABANDONED,
    ]


def test_the_support_queue_hour_by_hand() -> None:
    support = [r for r in RECORDS if r.queue_id == 1]
    # Answered in the hour: #1 (30 s), #2 (120 s), #5 (45 s); within 60 s: #1 and #5.
    # Abandoned: #4; short abandon #3 left out.  SL = 2 / (3 + 1).
    assert service_level(support, START, END, CONFIG) == 0.5
    assert average_speed_of_answer(support, START, END) == (30 + 120 + 45) / 3
    # Resolved in the hour after assignment: #1 (600 s), #2 (1200 s), #9 (1920 s).
    assert average_handle_time(support, START, END) == (600 + 1200 + 1920) / 3
    assert abandonment_rate(support, START, END, CONFIG) == 1 / 4
    assert waiting_now(support) == 2
    assert longest_wait_seconds(support, END) == 600


def test_the_report_gives_every_figure_per_queue() -> None:
    report = queue_report(RECORDS, START, END, END, CONFIG)
    assert report[1] == QueueMetrics(
        queue_id=1,
        waiting_now=2,
        longest_wait_seconds=600,
        answered=3,
        answered_within_threshold=2,
        abandoned=1,
        short_abandoned=1,
        service_level=0.5,
        average_speed_of_answer_seconds=65,
        handled=3,
        average_handle_time_seconds=1240,
        abandonment_rate=0.25,
    )
    assert report[2] == QueueMetrics(
        queue_id=2,
        waiting_now=0,
        longest_wait_seconds=None,
        answered=0,
        answered_within_threshold=0,
        abandoned=1,
        short_abandoned=0,
        service_level=0.0,
        average_speed_of_answer_seconds=None,
        handled=0,
        average_handle_time_seconds=None,
        abandonment_rate=1.0,
    )


def test_counting_short_abandons_as_real_ones_lowers_the_service_level() -> None:
    support = [r for r in RECORDS if r.queue_id == 1]
    strict = ServiceLevelConfig(threshold_seconds=60, short_abandon_seconds=0)
    assert service_level(support, START, END, strict) == 2 / 5
    assert service_level(support, START, END, ServiceLevelConfig(threshold_seconds=120)) == 3 / 4


PRESENCE = [
    PresenceInterval(7, Presence.AVAILABLE, at("09:00:00"), at("09:30:00")),
    PresenceInterval(7, Presence.AWAY, at("09:30:00"), at("09:40:00")),
    PresenceInterval(7, Presence.AVAILABLE, at("09:40:00"), None),
    PresenceInterval(8, Presence.AVAILABLE, at("08:30:00"), at("10:30:00")),
]
HANDLING = [
    HandlingInterval(7, 1, at("09:00:20"), at("09:10:20")),
    HandlingInterval(7, 5, at("09:30:40"), None),
    HandlingInterval(8, 9, at("08:58:00"), at("09:30:00")),
    HandlingInterval(8, 2, at("09:06:30"), at("09:26:30")),
]


def test_occupancy_is_time_handling_while_available_over_time_available() -> None:
    # Agent 7: available 30 + 20 min = 3000 s; handling while available 600 s (#1) + 1200 s (#5 after 09:40).
    assert occupancy(PRESENCE[:3], HANDLING[:2], START, END) == 1800 / 3000
    # Agent 8: two overlapping chats count once: busy 09:00-09:30 of a full available hour.
    assert occupancy(PRESENCE[3:], HANDLING[2:], START, END) == 0.5
    assert occupancy([], HANDLING[:2], START, END) is None


def test_the_agent_report_by_hand() -> None:
    report = agent_report(RECORDS, PRESENCE, HANDLING, START, END)
    assert report == {
        7: AgentMetrics(
            7, handled=1, average_handle_time_seconds=600, available_seconds=3000, handling_seconds=1800, occupancy=0.6
        ),
        8: AgentMetrics(
            8, handled=2, average_handle_time_seconds=1560, available_seconds=3600, handling_seconds=1800, occupancy=0.5
        ),
    }


def test_an_empty_hour_has_no_ratios_rather_than_zero() -> None:
    assert service_level([], START, END, CONFIG) is None
    assert average_speed_of_answer([], START, END) is None
    assert abandonment_rate([], START, END, CONFIG) is None
    assert longest_wait_seconds([], END) is None
    assert queue_report([], START, END, END, CONFIG) == {}


@pytest.mark.parametrize("threshold, expected", [(29, 0 / 4), (30, 1 / 4), (45, 2 / 4), (119, 2 / 4), (120, 3 / 4)])
def test_the_threshold_is_inclusive(threshold: float, expected: float) -> None:
    support = [r for r in RECORDS if r.queue_id == 1]
    assert service_level(support, START, END, ServiceLevelConfig(threshold, 5)) == expected
