"""CSAT write transactions (synchronous, run inside Database.run_write); hub.actions uses `record_reply_tx`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, exists, insert, select, update

from channels.base import InboundMessage
from hub.customers import store
from hub.customers.csat import Rating, parse_rating, pick_language
from hub.domain import Conflict, NotFound
from hub.storage.customer_tables import CsatRequest
from hub.storage.tables import Conversation, Customer, Identity, Message

csat = cast(Table, CsatRequest.__table__)
conversations = cast(Table, Conversation.__table__)
customers = cast(Table, Customer.__table__)
identities = cast(Table, Identity.__table__)
messages = cast(Table, Message.__table__)

WAITING, ASKED, ANSWERED, CANCELLED = "waiting", "asked", "answered", "cancelled"
# Resolutions that earn a question: an agent or the bot resolved it, or routing closed it after the
# last reply went unanswered. Abandoned conversations (nobody served the customer) are not asked.
ASK_AFTER = frozenset({"resolved", "closed_inactive"})


@dataclass(frozen=True, slots=True)
class Claimed:
    """A question this process now has to send."""

    request_id: int
    conversation_id: int
    channel: str
    token: str
    language: str


@dataclass(frozen=True, slots=True)
class Rated:
    """A rating just recorded, with what the ConversationChanged event needs."""

    conversation_id: int
    customer_id: int
    status: str
    assignee_id: int | None
    score: int


def _record(
    conn: Connection, request: Any, rating: Rating, via: str, now: datetime, *, thanked: bool
) -> Rated:
    conv = conn.execute(
        select(conversations.c.customer_id, conversations.c.status, conversations.c.assignee_id).where(
            conversations.c.id == request.conversation_id
        )
    ).one()
    # Re-rating without a comment keeps the comment given earlier.
    comment = rating.comment if rating.comment is not None else request.comment
    values: dict[str, Any] = {
        "state": ANSWERED,
        "score": rating.score,
        "comment": comment,
        "answered_at": now,
        "answered_via": via,
        "updated_at": now,
    }
    if thanked:
        values["thanked_at"] = now
    conn.execute(update(csat).where(csat.c.id == request.id).values(**values))
    conn.execute(
        update(conversations)
        .where(conversations.c.id == request.conversation_id)
        .values(csat_score=rating.score, csat_comment=comment)
    )
    data: dict[str, Any] = {"request_id": request.id, "score": rating.score, "via": via, "channel": request.channel}
    if comment:
        data["comment"] = comment
    store.log(conn, conv.customer_id, request.conversation_id, "csat.rated", "customer", data, now)
    return Rated(request.conversation_id, conv.customer_id, conv.status, conv.assignee_id, rating.score)


def record_reply_tx(conn: Connection, conversation_id: int, msg: InboundMessage, now: datetime) -> bool:
    """If `msg` answers this conversation's open CSAT question, record the rating and return True."""
    request = conn.execute(
        select(csat).where(
            csat.c.conversation_id == conversation_id,
            csat.c.state.in_((ASKED, ANSWERED)),
            csat.c.expires_at > now,
        )
    ).first()
    if request is None:
        return False
    rating = parse_rating(msg.text, msg.metadata)
    if rating is None:
        return False
    _record(conn, request, rating, "reply", now, thanked=False)
    return True


def arm_tx(conn: Connection, conversation_id: int, token: str, due_at: datetime, now: datetime) -> bool:
    """Plan the question for a just-resolved conversation; False when it does not qualify or was asked."""
    conv = conn.execute(
        select(conversations.c.status, conversations.c.channel, customers.c.erased_at, identities.c.opted_out)
        .join(customers, customers.c.id == conversations.c.customer_id)
        .join(identities, identities.c.id == conversations.c.identity_id)
        .where(conversations.c.id == conversation_id)
    ).first()
    if conv is None or conv.status != "resolved" or conv.erased_at is not None or conv.opted_out:
        return False
    served = conn.execute(
        select(
            exists().where(
                messages.c.conversation_id == conversation_id,
                messages.c.direction == "out",
                messages.c.author.in_(("agent", "bot")),
            )
        )
    ).scalar()
    if not served:
        return False
    existing = conn.execute(select(csat.c.id, csat.c.state).where(csat.c.conversation_id == conversation_id)).first()
    if existing is None:
        conn.execute(
            insert(csat),
            {
                "conversation_id": conversation_id,
                "channel": conv.channel,
                "state": WAITING,
                "token": token,
                "due_at": due_at,
                "created_at": now,
                "updated_at": now,
            },
        )
        return True
    if existing.state in (WAITING, CANCELLED):
        conn.execute(
            update(csat).where(csat.c.id == existing.id).values(state=WAITING, due_at=due_at, updated_at=now)
        )
        return True
    return False


def claim_due_tx(
    conn: Connection, now: datetime, limit: int, answer_window: timedelta, skip_locked: bool
) -> list[Claimed]:
    """Take the questions whose time has come (exactly one process gets each); reopened ones are cancelled."""
    query = (
        select(csat.c.id)
        .where(csat.c.state == WAITING, csat.c.due_at <= now)
        .order_by(csat.c.due_at)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    claimed = []
    for request_id in list(conn.execute(query).scalars()):
        taken = _claim(conn, request_id, now, answer_window)
        if taken is not None:
            claimed.append(taken)
    return claimed


def _claim(conn: Connection, request_id: int, now: datetime, answer_window: timedelta) -> Claimed | None:
    request = conn.execute(select(csat).where(csat.c.id == request_id, csat.c.state == WAITING)).first()
    if request is None:
        return None
    conv = conn.execute(
        select(conversations.c.status, conversations.c.customer_id, conversations.c.language,
               customers.c.language.label("customer_language"))
        .join(customers, customers.c.id == conversations.c.customer_id)
        .where(conversations.c.id == request.conversation_id)
    ).one()
    if conv.status != "resolved":
        conn.execute(update(csat).where(csat.c.id == request_id).values(state=CANCELLED, due_at=None, updated_at=now))
        return None
    sample = conn.execute(
        select(messages.c.text)
        .where(messages.c.conversation_id == request.conversation_id, messages.c.direction == "in")
        .order_by(messages.c.seq.desc())
        .limit(1)
    ).scalar()
    language = pick_language(conv.customer_language, conv.language, sample=sample)
    taken = conn.execute(
        update(csat)
        .where(csat.c.id == request_id, csat.c.state == WAITING)
        .values(state=ASKED, asked_at=now, expires_at=now + answer_window, language=language, updated_at=now)
    )
    if taken.rowcount != 1:
        return None
    store.log(
        conn, conv.customer_id, request.conversation_id, "csat.requested", "system",
        {"request_id": request_id, "channel": request.channel, "language": language}, now,
    )
    return Claimed(request_id, request.conversation_id, request.channel, request.token, language)


def asked_tx(conn: Connection, request_id: int, message_id: int) -> None:
    """Remember which stored message carried the question."""
    conn.execute(update(csat).where(csat.c.id == request_id).values(question_message_id=message_id))


def rate_page_tx(conn: Connection, token: str, rating: Rating, now: datetime) -> Rated:
    """A rating from the rating page; NotFound for an unknown or unasked link, 410 once it expired."""
    request = conn.execute(select(csat).where(csat.c.token == token)).first()
    if request is None or request.state not in (ASKED, ANSWERED):
        raise NotFound("this rating link is not known")
    if request.expires_at is None or request.expires_at <= now:
        raise Conflict("this rating link has expired", code="rating_expired", status=410)
    return _record(conn, request, rating, "page", now, thanked=True)


def claim_thanks_tx(conn: Connection, conversation_id: int, now: datetime) -> Any:
    """The answered request to thank for (once, and only for ratings sent as a reply), or None."""
    done = conn.execute(
        update(csat)
        .where(
            and_(
                csat.c.conversation_id == conversation_id,
                csat.c.answered_via == "reply",
                csat.c.thanked_at.is_(None),
            )
        )
        .values(thanked_at=now)
    )
    if done.rowcount != 1:
        return None
    return conn.execute(
        select(csat.c.id, csat.c.token, csat.c.language, csat.c.comment, csat.c.channel).where(
            csat.c.conversation_id == conversation_id
        )
    ).one()
