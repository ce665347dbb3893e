"""Complaint writes: store scores, open and join cases, update and resolve them, apply corrections.

Every `*_tx` function is a plain write over a Connection (run by `Database.run_write`): it changes
nothing outside the database and hands back what happened, so the caller can publish after commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, Table, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from channels.base import utcnow
from hub.analysis.cues import Severity
from hub.analysis.examples import CATEGORIES
from hub.customers.store import log as log_event
from hub.domain import Conflict, DomainError, NotFound
from hub.events import Bus, ComplaintCaseChanged, ComplaintCorrected, ComplaintScored, Event
from hub.storage.complaint_tables import ComplaintCase, ComplaintCorrection, ComplaintMessageScore
from hub.storage.database import Database
from hub.storage.prepared import Prepared
from hub.storage.tables import Agent, Conversation, Customer, Message

log = logging.getLogger(__name__)

T = TypeVar("T")

cases: Table = ComplaintCase.__table__  # type: ignore[assignment]
scores: Table = ComplaintMessageScore.__table__  # type: ignore[assignment]
corrections: Table = ComplaintCorrection.__table__  # type: ignore[assignment]
messages: Table = Message.__table__  # type: ignore[assignment]
conversations: Table = Conversation.__table__  # type: ignore[assignment]
customers: Table = Customer.__table__  # type: ignore[assignment]
agents: Table = Agent.__table__  # type: ignore[assignment]

STATUSES = ("open", "in_progress", "resolved", "dismissed")
IN_HAND = ("open", "in_progress")
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}
MAX_NOTE = 4000


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the detector said about one message (the storable part of a ComplaintScore)."""

    is_complaint: bool
    probability: float
    category: str | None
    severity: str | None
    cues: tuple[str, ...] = ()

    @property
    def threatened_to_leave(self) -> bool:
        """True when a cue says the customer threatened to leave or cancel."""
        return any(c.startswith("threat_leave:") for c in self.cues)


@dataclass(slots=True)
class Outcome:
    """What a write did: the events to publish after commit, and data for the caller."""

    events: list[Event] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def higher(a: str | None, b: str | None) -> str:
    """The more serious of two severities."""
    return max((s for s in (a, b) if s in _RANK), key=lambda s: _RANK[s], default="low")


def outcome_text(case_id: int, note: str, chinese: bool) -> str:
    """What the customer is told when their complaint is resolved."""
    if chinese:
        return f"关于您的投诉（编号 {case_id}）：已处理完毕。{note}"
    return f"Update on your complaint (case {case_id}): it has been resolved. {note}"


def prefers_chinese(language: str | None, text: str) -> bool:
    """Reply in Chinese when the record says so, or when the complaint was written in Chinese."""
    if language:
        return language.lower().startswith("zh")
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _case_in_hand(conn: Connection, conversation_id: int) -> Any:
    return conn.execute(
        select(cases).where(cases.c.conversation_id == conversation_id, cases.c.status.in_(IN_HAND))
    ).first()


def _case_row(conn: Connection, case_id: int) -> Any:
    row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
    if row is None:
        raise NotFound(f"complaint case {case_id} does not exist")
    return row


def _open_case(
    conn: Connection,
    *,
    conversation_id: int,
    customer_id: int,
    channel: str,
    message_id: int,
    received_at: datetime,
    category: str,
    severity: str,
    threatened: bool,
    actor: str,
    now: datetime,
) -> int:
    case_id = conn.execute(
        insert(cases).returning(cases.c.id),
        {
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "channel": channel,
            "status": "open",
            "category": category,
            "severity": severity,
            "threatened_to_leave": threatened,
            "first_message_id": message_id,
            "message_count": 1,
            "opened_at": received_at,
            "last_message_at": received_at,
            "updated_at": now,
        },
    ).scalar_one()
    log_event(
        conn,
        customer_id,
        conversation_id,
        "complaint.opened",
        actor,
        {"case_id": case_id, "message_id": message_id, "category": category, "severity": severity},
        now,
    )
    return int(case_id)


def _join_case(
    conn: Connection, case: Any, *, received_at: datetime, severity: str | None, threatened: bool, now: datetime
) -> None:
    conn.execute(
        update(cases)
        .where(cases.c.id == case.id)
        .values(
            message_count=cases.c.message_count + 1,
            last_message_at=max(received_at, case.last_message_at),
            severity=higher(case.severity, severity),
            threatened_to_leave=case.threatened_to_leave or threatened,
            updated_at=now,
        )
    )


# ---------------------------------------------------------------- scoring


def _inbound_fields() -> Select[Any]:
    return (
        select(
            messages.c.id,
            messages.c.text,
            messages.c.channel,
            messages.c.conversation_id,
            messages.c.created_at,
            conversations.c.customer_id,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(messages.c.direction == "in")
    )


def inbound_query(message_id: int) -> Select[Any]:
    """The fields scoring needs of one customer message (no row if it is not one)."""
    return _inbound_fields().where(messages.c.id == message_id)


def inbound_query_many(message_ids: list[int]) -> Select[Any]:
    """The fields scoring needs of several customer messages, in id order."""
    return _inbound_fields().where(messages.c.id.in_(message_ids)).order_by(messages.c.id)


def inbound_for_scoring(conn: Connection, message_id: int) -> Any:
    """The message fields scoring needs, or None if it is not a stored customer message."""
    return conn.execute(inbound_query(message_id)).first()


def record_score_tx(conn: Connection, message_id: int, verdict: Verdict, model_version: int, now: datetime) -> Outcome:
    """Store a message's score; a complaint opens a case on its conversation or joins the one in hand."""
    out = Outcome()
    if conn.execute(select(scores.c.message_id).where(scores.c.message_id == message_id)).first() is not None:
        out.data["duplicate"] = True
        return out
    msg = inbound_for_scoring(conn, message_id)
    if msg is None:
        out.data["missing"] = True
        return out
    case_id: int | None = None
    if verdict.is_complaint:
        category = verdict.category or "other"
        case = _case_in_hand(conn, msg.conversation_id)
        if case is None:
            case_id = _open_case(
                conn,
                conversation_id=msg.conversation_id,
                customer_id=msg.customer_id,
                channel=msg.channel,
                message_id=message_id,
                received_at=msg.created_at,
                category=category,
                severity=verdict.severity or "low",
                threatened=verdict.threatened_to_leave,
                actor="system",
                now=now,
            )
            change, status = "opened", "open"
        else:
            _join_case(
                conn,
                case,
                received_at=msg.created_at,
                severity=verdict.severity,
                threatened=verdict.threatened_to_leave,
                now=now,
            )
            case_id, change, status = case.id, "joined", case.status
        out.events.append(ComplaintCaseChanged(case_id, msg.conversation_id, msg.customer_id, status, change))
    conn.execute(insert(scores), _score_row(msg, verdict, model_version, case_id, now))
    if verdict.is_complaint:
        out.events.insert(0, ComplaintScored(message_id, msg.conversation_id, msg.customer_id, True, case_id))
    out.data["case_id"] = case_id
    return out


_SCORE_COLUMNS = (
    "message_id", "conversation_id", "customer_id", "channel", "probability", "detected", "is_complaint",
    "category", "severity", "cues", "model_version", "case_id", "received_at", "scored_at",
)
_INSERT_SCORE = Prepared(insert(scores), _SCORE_COLUMNS)
# SQLite skips a message scored already by itself, so a burst needs no duplicate check first.
_INSERT_SCORE_IF_NEW = Prepared(insert(scores).prefix_with("OR IGNORE", dialect="sqlite"), _SCORE_COLUMNS)


def _score_row(msg: Any, verdict: Verdict, model_version: int, case_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "message_id": msg.id,
        "conversation_id": msg.conversation_id,
        "customer_id": msg.customer_id,
        "channel": msg.channel,
        "probability": verdict.probability,
        "detected": verdict.is_complaint,
        "is_complaint": verdict.is_complaint,
        "category": verdict.category if verdict.is_complaint else None,
        "severity": verdict.severity if verdict.is_complaint else None,
        "cues": list(verdict.cues),
        "model_version": model_version,
        "case_id": case_id,
        "received_at": msg.created_at,
        "scored_at": now,
    }


def record_scores_tx(
    conn: Connection, verdicts: list[tuple[Any, Verdict]], model_version: int, now: datetime
) -> list[Outcome]:
    """Store a burst of scores in one insert (messages scored already are skipped: by SQLite's insert
    itself, elsewhere by one check first); each complaint (rare) takes record_score_tx's path.

    Each verdict comes with the message fields scoring had (just written, or read by inbound_query_many):
    they are not read again. A message erased since then fails the insert on its foreign key, and the
    caller scores one by one.
    """
    if conn.dialect.name == "sqlite":
        insert_rows, done = _INSERT_SCORE_IF_NEW, set()
    else:
        ids = [msg.id for msg, _ in verdicts]
        insert_rows = _INSERT_SCORE
        done = set(conn.execute(select(scores.c.message_id).where(scores.c.message_id.in_(ids))).scalars())
    outcomes: list[Outcome] = []
    rows: list[dict[str, Any]] = []
    for msg, verdict in verdicts:
        if msg.id in done or verdict.is_complaint:
            if rows:  # keep the order: what came before is stored before a case opens
                insert_rows.many(conn, rows)
                rows = []
            outcomes.append(record_score_tx(conn, msg.id, verdict, model_version, now))
            done.add(msg.id)
            continue
        rows.append(_score_row(msg, verdict, model_version, None, now))
        done.add(msg.id)
        outcomes.append(Outcome(data={"case_id": None}))
    if rows:
        insert_rows.many(conn, rows)
    return outcomes


# ---------------------------------------------------------------- cases


def check_case_changes(data: dict[str, Any]) -> dict[str, Any]:
    """The allowed fields of a case update, checked: status, owner_id, note, notify."""
    unknown = set(data) - {"status", "owner_id", "note", "notify"}
    if unknown:
        raise DomainError(f"unknown fields: {', '.join(sorted(unknown))}", code="unknown_fields")
    if not data:
        raise DomainError("send at least one of status, owner_id, note", code="missing_field")
    changes: dict[str, Any] = {}
    if "status" in data:
        status = data["status"]
        if status not in ("open", "in_progress", "resolved"):
            raise DomainError("status must be open, in_progress or resolved", code="invalid_field")
        changes["status"] = status
    if "owner_id" in data:
        owner = data["owner_id"]
        if owner is not None and (not isinstance(owner, int) or isinstance(owner, bool)):
            raise DomainError("owner_id must be an agent id or null", code="invalid_field")
        changes["owner_id"] = owner
    if "note" in data:
        note = data["note"]
        if note is not None and not isinstance(note, str):
            raise DomainError("note must be a string", code="invalid_field")
        if note is not None and len(note) > MAX_NOTE:
            raise DomainError(f"note is longer than {MAX_NOTE} characters", code="too_long")
        changes["note"] = (note or "").strip() or None
    if "notify" in data:
        if not isinstance(data["notify"], bool):
            raise DomainError("notify must be true or false", code="invalid_field")
        changes["notify"] = data["notify"]
    return changes


def update_case_tx(
    conn: Connection, case_id: int, changes: dict[str, Any], actor: str, now: datetime, notify_default: bool
) -> Outcome:
    """Change a case's status, owner or resolution note; resolving asks for the customer to be told."""
    case = _case_row(conn, case_id)
    if case.status == "dismissed":
        raise Conflict("this case was dismissed as not a complaint", code="case_dismissed")
    values: dict[str, Any] = {}
    if "owner_id" in changes and changes["owner_id"] != case.owner_id:
        owner = changes["owner_id"]
        if owner is not None:
            found = conn.execute(select(agents.c.active).where(agents.c.id == owner)).first()
            if found is None or not found.active:
                raise DomainError(f"agent {owner} does not exist or is not active", code="unknown_agent")
        values["owner_id"] = owner
    if "note" in changes and changes["note"] != case.resolution_note:
        values["resolution_note"] = changes["note"]
    note = values.get("resolution_note", case.resolution_note)
    target = changes.get("status", case.status)
    change = "updated"
    if target != case.status:
        if target == "resolved":
            if not note:
                raise DomainError("say how the complaint was resolved: a note is required", code="note_required")
            notify = changes.get("notify", notify_default)
            values.update(
                status="resolved", resolved_at=now, resolved_by=actor, outcome_state="pending" if notify else "skipped"
            )
            change = "resolved"
        elif case.status == "resolved":
            other = _case_in_hand(conn, case.conversation_id)
            if other is not None:
                raise Conflict(f"case {other.id} is already open on this conversation", code="case_in_hand")
            values.update(status=target, resolved_at=None, resolved_by=None, outcome_state=None)
            change = "reopened"
        else:
            values["status"] = target
    if not values:
        return Outcome(data={"case_id": case_id, "changed": False})
    values["updated_at"] = now
    conn.execute(update(cases).where(cases.c.id == case_id).values(**values))
    before = {k: getattr(case, k) for k in values if k not in ("updated_at", "resolved_at")}
    after = {k: v for k, v in values.items() if k not in ("updated_at", "resolved_at")}
    log_event(
        conn,
        case.customer_id,
        case.conversation_id,
        f"complaint.{change}",
        actor,
        {"case_id": case_id, "before": before, "after": after},
        now,
    )
    status = values.get("status", case.status)
    out = Outcome([ComplaintCaseChanged(case_id, case.conversation_id, case.customer_id, status, change)])
    out.data = {"case_id": case_id, "changed": True, "notify": values.get("outcome_state") == "pending"}
    return out


def outcome_target_tx(conn: Connection, case_id: int) -> Any:
    """Where and how to tell the customer: their latest conversation on the case's channel, and the wording."""
    case = _case_row(conn, case_id)
    conversation_id = conn.execute(
        select(conversations.c.id)
        .where(conversations.c.customer_id == case.customer_id, conversations.c.channel == case.channel)
        .order_by(conversations.c.id.desc())
        .limit(1)
    ).scalar()
    language = conn.execute(select(customers.c.language).where(customers.c.id == case.customer_id)).scalar()
    first_text = conn.execute(select(messages.c.text).where(messages.c.id == case.first_message_id)).scalar() or ""
    return {
        "conversation_id": conversation_id or case.conversation_id,
        "text": outcome_text(case_id, case.resolution_note or "", prefers_chinese(language, first_text)),
        "state": case.outcome_state,
    }


def claim_outcome_tx(conn: Connection, case_id: int) -> bool:
    """Take the job of telling the customer; exactly one process wins it."""
    result = conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.outcome_state == "pending", cases.c.status == "resolved")
        .values(outcome_state="sending")
    )
    return bool(result.rowcount == 1)


def mark_outcome_tx(
    conn: Connection, case_id: int, message_id: int | None, error: str | None, now: datetime
) -> Outcome:
    """Finish a claimed outcome message: sent with its message id, or failed with the reason."""
    case = _case_row(conn, case_id)
    state = "sent" if message_id is not None else "failed"
    conn.execute(
        update(cases)
        .where(cases.c.id == case_id, cases.c.outcome_state == "sending")
        .values(outcome_state=state, outcome_message_id=message_id)
    )
    data: dict[str, Any] = {"case_id": case_id, "message_id": message_id}
    if error:
        data["error"] = error
    log_event(conn, case.customer_id, case.conversation_id, f"complaint.outcome_{state}", "system", data, now)
    return Outcome(data={"state": state})


# ---------------------------------------------------------------- corrections


@dataclass(frozen=True, slots=True)
class Label:
    """A corrected label: complaint or not, and for complaints a category and optionally a severity."""

    is_complaint: bool
    category: str | None = None
    severity: str | None = None


def check_correction(data: dict[str, Any]) -> tuple[dict[str, Any], Label]:
    """What a correction is about (message_id, case_id or text+channel) and the label, checked."""
    unknown = set(data) - {"message_id", "case_id", "text", "channel", "is_complaint", "category", "severity"}
    if unknown:
        raise DomainError(f"unknown fields: {', '.join(sorted(unknown))}", code="unknown_fields")
    targets = [k for k in ("message_id", "case_id", "text") if data.get(k) is not None]
    if len(targets) != 1:
        raise DomainError("say what you correct: one of message_id, case_id or text", code="missing_field")
    target: dict[str, Any] = {}
    key = targets[0]
    value = data[key]
    if key == "text":
        if not isinstance(value, str) or not value.strip():
            raise DomainError("text must be a non-empty string", code="invalid_field")
        if len(value) > 10_000:
            raise DomainError("text is longer than 10000 characters", code="too_long")
        channel = data.get("channel", "")
        if not isinstance(channel, str) or len(channel) > 32:
            raise DomainError("channel must be a channel name", code="invalid_field")
        target = {"text": value.strip(), "channel": channel}
    else:
        if not isinstance(value, int) or isinstance(value, bool):
            raise DomainError(f"{key} must be a number", code="invalid_field")
        target = {key: value}
    is_complaint = data.get("is_complaint")
    if not isinstance(is_complaint, bool):
        raise DomainError("is_complaint must be true or false", code="invalid_field")
    category = data.get("category")
    severity = data.get("severity")
    if category is not None and category not in CATEGORIES:
        raise DomainError(f"category must be one of {', '.join(CATEGORIES)}", code="invalid_field")
    if severity is not None and severity not in SEVERITIES:
        raise DomainError("severity must be low, medium or high", code="invalid_field")
    if not is_complaint and (category is not None or severity is not None):
        raise DomainError("a message that is not a complaint has no category or severity", code="invalid_field")
    return target, Label(is_complaint, category, severity)


def _detach(conn: Connection, case: Any, message_id: int, actor: str, now: datetime) -> tuple[str, str]:
    """Take a message out of its case; a case left with no complaint message is dismissed."""
    remaining = (
        conn.execute(
            select(scores.c.message_id)
            .where(scores.c.case_id == case.id, scores.c.message_id != message_id)
            .order_by(scores.c.message_id)
        )
        .scalars()
        .all()
    )
    values: dict[str, Any] = {"message_count": len(remaining), "updated_at": now}
    if not remaining:
        values.update(status="dismissed", outcome_state=None)
        log_event(conn, case.customer_id, case.conversation_id, "complaint.dismissed", actor, {"case_id": case.id}, now)
    elif case.first_message_id == message_id:
        values["first_message_id"] = remaining[0]
    conn.execute(update(cases).where(cases.c.id == case.id).values(**values))
    return ("dismissed", "dismissed") if not remaining else (case.status, "corrected")


def correct_tx(conn: Connection, target: dict[str, Any], label: Label, actor: str, now: datetime) -> Outcome:
    """Store a correction; for a stored message also relabel its score and open, join or leave a case."""
    out = Outcome()
    if "case_id" in target:
        target = {"message_id": _case_row(conn, target["case_id"]).first_message_id}
    if "text" in target:
        correction_id = conn.execute(
            insert(corrections).returning(corrections.c.id),
            {
                "message_id": None,
                "customer_id": None,
                "text": target["text"],
                "channel": target["channel"],
                "is_complaint": label.is_complaint,
                "category": label.category,
                "severity": label.severity,
                "previous": {},
                "actor": actor,
                "at": now,
            },
        ).scalar_one()
        out.events.append(ComplaintCorrected(int(correction_id), None))
        out.data = {"correction_id": int(correction_id), "case_id": None}
        return out

    message_id = int(target["message_id"])
    msg = inbound_for_scoring(conn, message_id)
    if msg is None:
        raise NotFound(f"message {message_id} is not a customer message")
    score = conn.execute(select(scores).where(scores.c.message_id == message_id)).first()
    category = label.category or (score.category if score is not None else None)
    if label.is_complaint and category is None:
        raise DomainError("a complaint needs a category", code="missing_field")
    severity = label.severity or (score.severity if score is not None and score.severity else None)
    if label.is_complaint and severity is None:
        severity = "low"
    previous = (
        {"is_complaint": score.is_complaint, "category": score.category, "severity": score.severity}
        if score is not None
        else {}
    )
    correction_id = int(
        conn.execute(
            insert(corrections).returning(corrections.c.id),
            {
                "message_id": message_id,
                "customer_id": msg.customer_id,
                "text": msg.text,
                "channel": msg.channel,
                "is_complaint": label.is_complaint,
                "category": category if label.is_complaint else None,
                "severity": severity if label.is_complaint else None,
                "previous": previous,
                "actor": actor,
                "at": now,
            },
        ).scalar_one()
    )
    out.events.append(ComplaintCorrected(correction_id, message_id))
    case_id: int | None = score.case_id if score is not None else None
    if score is not None:
        values: dict[str, Any] = {
            "is_complaint": label.is_complaint,
            "category": category if label.is_complaint else None,
            "severity": severity if label.is_complaint else None,
            "correction_id": correction_id,
        }
        if label.is_complaint and score.case_id is not None:
            case = _case_row(conn, score.case_id)
            case_values: dict[str, Any] = {"category": category, "updated_at": now}
            if label.severity is not None:
                case_values["severity"] = label.severity
            conn.execute(update(cases).where(cases.c.id == case.id).values(**case_values))
            out.events.append(
                ComplaintCaseChanged(case.id, case.conversation_id, case.customer_id, case.status, "corrected")
            )
        elif label.is_complaint:
            case = _case_in_hand(conn, msg.conversation_id)
            if case is None:
                case_id = _open_case(
                    conn,
                    conversation_id=msg.conversation_id,
                    customer_id=msg.customer_id,
                    channel=msg.channel,
                    message_id=message_id,
                    received_at=msg.created_at,
                    category=category or "other",
                    severity=severity or "low",
                    threatened=any(str(c).startswith("threat_leave:") for c in score.cues or []),
                    actor=actor,
                    now=now,
                )
                out.events.append(ComplaintCaseChanged(case_id, msg.conversation_id, msg.customer_id, "open", "opened"))
            else:
                _join_case(conn, case, received_at=msg.created_at, severity=severity, threatened=False, now=now)
                case_id = case.id
                out.events.append(
                    ComplaintCaseChanged(case.id, msg.conversation_id, msg.customer_id, case.status, "joined")
                )
            values["case_id"] = case_id
        elif score.case_id is not None:
            case = _case_row(conn, score.case_id)
            status, change = _detach(conn, case, message_id, actor, now)
            values["case_id"] = None
            out.events.append(ComplaintCaseChanged(case.id, case.conversation_id, case.customer_id, status, change))
            case_id = None
        conn.execute(update(scores).where(scores.c.message_id == message_id).values(**values))
    log_event(
        conn,
        msg.customer_id,
        msg.conversation_id,
        "complaint.corrected",
        actor,
        {
            "correction_id": correction_id,
            "message_id": message_id,
            "before": previous,
            "after": {"is_complaint": label.is_complaint, "category": category, "severity": severity}
            if label.is_complaint
            else {"is_complaint": False},
        },
        now,
    )
    out.data = {"correction_id": correction_id, "case_id": case_id}
    return out


# ---------------------------------------------------------------- merges


def follow_merges_tx(conn: Connection, customer_ids: Sequence[int]) -> int:
    """After a merge or unmerge, cases and scores follow their conversations to the customer who has them."""
    moved = 0
    for table in (cases, scores):
        owner = (
            select(conversations.c.customer_id).where(conversations.c.id == table.c.conversation_id).scalar_subquery()
        )
        result = conn.execute(
            update(table).where(table.c.customer_id.in_(list(customer_ids))).values(customer_id=owner)
        )
        moved += int(result.rowcount or 0)
    return moved


# ---------------------------------------------------------------- running writes


class ComplaintWrites:
    """Runs complaint writes with retries for races between processes, then publishes their events."""

    def __init__(self, db: Database, bus: Bus, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.bus = bus
        self.clock = clock

    async def run(self, fn: Callable[[Connection, datetime], T], *, light: bool = False) -> T:
        """Run a write; a twin's insert into the one-case-in-hand index (or a lock timeout) is retried."""
        for attempt in range(4):
            now = self.clock()
            try:
                return await self.db.run_write(lambda conn, now=now: fn(conn, now), light=light)  # type: ignore[misc]
            except (IntegrityError, OperationalError):
                if attempt == 3:
                    raise
                await asyncio.sleep(0.01 * 2**attempt)
        raise AssertionError("unreachable")

    async def apply(self, fn: Callable[[Connection, datetime], Outcome], *, light: bool = False) -> Outcome:
        """Run a write that reports an Outcome, then publish its events (`light`: see Database.run_write)."""
        outcome = await self.run(fn, light=light)
        for event in outcome.events:
            await self.bus.publish(event)
        return outcome

    async def tell_customer(self, case_id: int, post: Callable[[int, str, int], Awaitable[int]]) -> str:
        """Send the resolution to the customer through `post(conversation_id, text, case_id)`; returns the state."""
        if not await self.run(lambda conn, now: claim_outcome_tx(conn, case_id)):
            return "skipped"
        target = await self.run(lambda conn, now: outcome_target_tx(conn, case_id))
        message_id: int | None = None
        error: str | None = None
        try:
            message_id = await post(target["conversation_id"], target["text"], case_id)
        except Exception as exc:  # the case stays resolved; the failure is on the record for a person to see
            log.exception("could not tell the customer about complaint case %s", case_id)
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        outcome = await self.run(lambda conn, now: mark_outcome_tx(conn, case_id, message_id, error, now))
        return str(outcome.data["state"])
