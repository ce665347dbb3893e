"""SLA stories: a Berlin office promises a first answer within 2 business hours and a fix within 2 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hub.routing.calendar import BusinessCalendar
from hub.routing.model import ConversationStatus, ConversationTimes, EscalationRule, Priority, SlaTargets
from hub.routing.sla import (
    BREACH,
    FIRST_RESPONSE,
    RESOLUTION,
    WARNING,
    PriorityChange,
    SlaState,
    plan_sla_actions,
    sla_status,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
OFFICE = BusinessCalendar.from_spec(
    "office", "Europe/Berlin", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
)
TARGETS = SlaTargets(first_response_seconds=2 * HOUR, resolution_seconds=16 * HOUR, warn_before_seconds=30 * 60)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN)


def times(enqueued: datetime | None, **kw: datetime) -> ConversationTimes:
    return ConversationTimes(
        id=42,
        queue_id=1,
        channel="email",
        status=ConversationStatus.QUEUED,
        created_at=enqueued or berlin(2026, 3, 6, 15, 0),
        enqueued_at=enqueued,
        **kw,  # type: ignore[arg-type]
    )


FRIDAY_4PM = berlin(2026, 3, 6, 16, 0)


def test_an_email_on_friday_afternoon_is_due_on_monday_morning() -> None:
    status = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now=berlin(2026, 3, 7, 12, 0))
    first, resolution = status.targets
    assert first.target == FIRST_RESPONSE and first.due_at == berlin(2026, 3, 9, 10, 0)
    assert first.warn_at == berlin(2026, 3, 9, 9, 30)
    assert resolution.target == RESOLUTION and resolution.due_at == berlin(
        2026, 3, 10, 16, 0
    )  # 1h Fri + 8h Mon + 7h Tue
    assert status.state == SlaState.OK
    assert first.remaining_business_seconds == HOUR  # Friday's last hour is used up; one left on Monday
    assert status.next_check_at == berlin(2026, 3, 9, 9, 30)


def test_half_an_hour_before_the_due_time_it_turns_to_warning_and_after_it_to_breached() -> None:
    warning = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now=berlin(2026, 3, 9, 9, 45))
    assert warning.state == SlaState.WARNING and warning.next_check_at == berlin(2026, 3, 9, 10, 0)
    breached = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now=berlin(2026, 3, 9, 10, 0))
    assert breached.targets[0].state == SlaState.BREACHED and breached.targets[0].remaining_business_seconds == 0
    assert breached.state == SlaState.BREACHED


def test_an_answer_in_time_stops_the_first_response_clock_for_good() -> None:
    answered = times(FRIDAY_4PM, first_agent_response_at=berlin(2026, 3, 9, 9, 50))
    status = sla_status(answered, TARGETS, OFFICE, now=berlin(2026, 3, 12, 12, 0))
    first, resolution = status.targets
    assert first.state == SlaState.OK and not first.running
    assert resolution.state == SlaState.BREACHED and resolution.running


def test_a_late_answer_is_recorded_as_a_breach() -> None:
    late = times(FRIDAY_4PM, first_agent_response_at=berlin(2026, 3, 9, 10, 1))
    assert sla_status(late, TARGETS, OFFICE, now=berlin(2026, 3, 9, 11, 0)).targets[0].state == SlaState.BREACHED


def test_a_customer_who_left_stops_the_clocks_and_bot_conversations_have_none() -> None:
    left = times(FRIDAY_4PM, abandoned_at=berlin(2026, 3, 6, 16, 30))
    status = sla_status(left, TARGETS, OFFICE, now=berlin(2026, 3, 20, 12, 0))
    assert status.state == SlaState.OK and not any(t.running for t in status.targets)
    with_bot = sla_status(times(None), TARGETS, OFFICE, now=berlin(2026, 3, 20, 12, 0))
    assert with_bot.targets == () and with_bot.state == SlaState.OK and with_bot.next_check_at is None


def test_without_a_calendar_the_clock_runs_around_the_clock() -> None:
    status = sla_status(times(FRIDAY_4PM), TARGETS, None, now=FRIDAY_4PM)
    assert status.targets[0].due_at == FRIDAY_4PM.astimezone(UTC) + timedelta(hours=2)


def test_the_hub_passes_its_own_warning_lead_time() -> None:
    status = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now=FRIDAY_4PM, warn_before_seconds=90 * 60)
    assert status.targets[0].warn_at == berlin(2026, 3, 6, 16, 30)


def test_a_warning_is_published_once_and_a_breach_raises_the_priority_one_step() -> None:
    rule = EscalationRule()
    now = berlin(2026, 3, 9, 9, 45)
    warning = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now)
    actions = plan_sla_actions(warning, frozenset(), Priority.NORMAL, rule, now)
    assert [(e.target, e.kind) for e in actions.events] == [(FIRST_RESPONSE, WARNING)]
    assert actions.priority_change is None
    again = plan_sla_actions(warning, frozenset({(FIRST_RESPONSE, WARNING)}), Priority.NORMAL, rule, now)
    assert again.events == () and again.priority_change is None

    later = berlin(2026, 3, 9, 10, 5)
    breached = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, later)
    actions = plan_sla_actions(breached, frozenset({(FIRST_RESPONSE, WARNING)}), Priority.NORMAL, rule, later)
    assert [(e.kind, e.due_at) for e in actions.events] == [(BREACH, berlin(2026, 3, 9, 10, 0))]
    assert actions.priority_change == PriorityChange(42, Priority.NORMAL, Priority.HIGH, "sla")
    emitted = frozenset({(FIRST_RESPONSE, WARNING), (FIRST_RESPONSE, BREACH)})
    assert plan_sla_actions(breached, emitted, Priority.HIGH, rule, later).priority_change is None


def test_urgent_conversations_cannot_go_higher_and_stopped_clocks_do_not_escalate() -> None:
    later = berlin(2026, 3, 9, 10, 5)
    breached = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, later)
    assert plan_sla_actions(breached, frozenset(), Priority.URGENT, EscalationRule(), later).priority_change is None
    late_answer = times(FRIDAY_4PM, first_agent_response_at=berlin(2026, 3, 9, 10, 1))
    answered = sla_status(late_answer, SlaTargets(first_response_seconds=2 * HOUR), OFFICE, later)
    actions = plan_sla_actions(answered, frozenset(), Priority.LOW, EscalationRule(), later)
    assert [e.kind for e in actions.events] == [BREACH] and actions.priority_change is None


def test_a_queue_can_escalate_on_warnings_too() -> None:
    now = berlin(2026, 3, 9, 9, 45)
    warning = sla_status(times(FRIDAY_4PM), TARGETS, OFFICE, now)
    eager = EscalationRule(raise_priority_on_warning=True)
    change = plan_sla_actions(warning, frozenset(), Priority.LOW, eager, now).priority_change
    assert change is not None and change.new == Priority.NORMAL
