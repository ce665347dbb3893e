"""Stories about agents logging off, customers going quiet or leaving, and closed hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.routing.calendar import BusinessCalendar
from hub.routing.lifecycle import Closure, agents_gone_silent, on_agent_offline, out_of_hours_notice, plan_closures
from hub.routing.model import AgentState, ConversationStatus, Offer, OpenConversation, Presence, QueueConfig

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
QUEUES = {
    1: QueueConfig(id=1, close_inactive_after_seconds=600, abandon_after_seconds=120),
    2: QueueConfig(id=2, requeue_on_agent_offline=frozenset({"chat", "email"})),
}


def conv(conv_id: int, **kw: object) -> OpenConversation:
    base: dict[str, object] = {
        "queue_id": 1,
        "channel": "webchat",
        "status": ConversationStatus.ASSIGNED,
        "enqueued_at": NOW - timedelta(minutes=30),
        "agent_id": 7,
        "assigned_at": NOW - timedelta(minutes=29),
    }
    base.update(kw)
    return OpenConversation(id=conv_id, **base)  # type: ignore[arg-type]


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_when_an_agent_logs_off_their_chats_go_back_to_the_queue_and_their_emails_stay() -> None:
    chats = conv(1)
    email = conv(2, channel="email")
    someone_elses = conv(3, agent_id=8)
    email_in_strict_queue = conv(4, channel="email", queue_id=2)
    offers = [Offer(5, 7, 1, "chat", ago(0.2), NOW + timedelta(seconds=20)), Offer(6, 8, 1, "chat", ago(0.1), NOW)]
    plan = on_agent_offline(7, [chats, email, someone_elses, email_in_strict_queue], offers, QUEUES, NOW)
    assert [(r.conversation_id, r.queue_id, r.reason) for r in plan.requeue] == [
        (1, 1, "agent_offline"),
        (4, 2, "agent_offline"),
    ]
    assert plan.requeue[0].enqueued_at == chats.enqueued_at  # back near the front, not the end of the line
    assert plan.keep == (2,)
    assert [o.conversation_id for o in plan.withdraw] == [5]


def test_a_web_chat_customer_who_left_before_any_answer_is_an_abandon() -> None:
    left = conv(1, status=ConversationStatus.QUEUED, agent_id=None, assigned_at=None, last_customer_activity_at=ago(3))
    still_here = conv(
        2, status=ConversationStatus.QUEUED, agent_id=None, assigned_at=None, last_customer_activity_at=ago(1)
    )
    sms_waits_silently = conv(3, channel="sms", status=ConversationStatus.QUEUED, last_customer_activity_at=ago(25))
    assert plan_closures([left, still_here, sms_waits_silently], QUEUES, NOW) == [
        Closure(1, "customer_left", abandoned=True, at=NOW)
    ]


def test_a_chat_is_closed_when_the_customer_stops_answering_the_agent() -> None:
    quiet = conv(1, first_agent_response_at=ago(20), last_customer_activity_at=ago(15), last_agent_message_at=ago(11))
    recent = conv(2, first_agent_response_at=ago(20), last_customer_activity_at=ago(15), last_agent_message_at=ago(9))
    customer_waiting = conv(
        3, first_agent_response_at=ago(20), last_agent_message_at=ago(30), last_customer_activity_at=ago(29)
    )
    assert plan_closures([quiet, recent, customer_waiting], QUEUES, NOW) == [
        Closure(1, "customer_inactive", abandoned=False, at=NOW)
    ]


def test_queues_without_timeouts_never_close_anything() -> None:
    quiet = conv(1, queue_id=2, first_agent_response_at=ago(200), last_agent_message_at=ago(200))
    assert plan_closures([quiet], QUEUES, NOW) == []


def test_customers_arriving_after_hours_are_told_when_the_team_is_back() -> None:
    calendar = BusinessCalendar.from_spec("office", "Europe/Berlin", {"mon": ["09:00-10:30"], "tue": ["09:00-17:00"]})
    queue = QueueConfig(id=1, out_of_hours_message="We are closed right now.")
    # 10:00 UTC is 11:00 in Berlin on Monday: closed since 10:30, back Tuesday 09:00 (08:00 UTC).
    notice = out_of_hours_notice(queue, calendar, NOW)
    assert notice is not None
    assert notice.message == "We are closed right now."
    assert notice.opens_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert out_of_hours_notice(queue, calendar, NOW - timedelta(minutes=45)) is None  # 10:15 local, open
    assert out_of_hours_notice(QueueConfig(id=1), calendar, NOW) is None  # no message configured
    assert out_of_hours_notice(queue, None, NOW) is None  # no calendar: always open


def test_an_agent_whose_console_went_silent_is_taken_offline() -> None:
    agents = [
        AgentState(1, Presence.AVAILABLE, last_activity_at=ago(0.5)),
        AgentState(2, Presence.AVAILABLE, last_activity_at=ago(3)),
        AgentState(3, Presence.AWAY, last_activity_at=ago(10)),
        AgentState(4, Presence.OFFLINE, last_activity_at=ago(60)),
        AgentState(5, Presence.AVAILABLE),
    ]
    assert agents_gone_silent(agents, NOW, after_seconds=120) == [2, 3, 5]
