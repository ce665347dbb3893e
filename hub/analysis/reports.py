"""Complaint and churn reads in SQL, on SQLite and PostgreSQL: cases, volumes, resolution, churn, risk."""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, and_, func, literal_column, or_, select, true, union
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.analysis.cases import IN_HAND, cases, corrections, scores
from hub.analysis.churn import DEFAULT_WEIGHTS, ChurnRisk, churn_risk
from hub.analysis.churn_sql import churn_figures
from hub.analysis.config import AnalysisSettings
from hub.analysis.profiles import (
    ProfileParts,
    became_former_at,
    complaint_record,
    csat_rating,
    is_former,
)
from hub.domain import NotFound
from hub.storage.database import Database
from hub.storage.tables import Conversation, Customer, CustomerEvent, Message

conversations: Table = Conversation.__table__  # type: ignore[assignment]
customers: Table = Customer.__table__  # type: ignore[assignment]
messages: Table = Message.__table__  # type: ignore[assignment]
events_log: Table = CustomerEvent.__table__  # type: ignore[assignment]

REPEAT_AT = 2
REPEAT_LIMIT = 50


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _name() -> Any:
    return func.coalesce(customers.c.display_name, customers.c.email, customers.c.phone).label("customer_name")


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _hours(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


# ---------------------------------------------------------------- cases


def case_dict(row: Any) -> dict[str, Any]:
    """A complaint case as the API shows it."""
    m = row._mapping
    return {
        "id": m["id"],
        "conversation_id": m["conversation_id"],
        "customer_id": m["customer_id"],
        "customer_name": m.get("customer_name"),
        "channel": m["channel"],
        "status": m["status"],
        "category": m["category"],
        "severity": m["severity"],
        "threatened_to_leave": m["threatened_to_leave"],
        "owner_id": m["owner_id"],
        "resolution_note": m["resolution_note"],
        "first_message_id": m["first_message_id"],
        "message_count": m["message_count"],
        "opened_at": _iso(m["opened_at"]),
        "last_message_at": _iso(m["last_message_at"]),
        "updated_at": _iso(m["updated_at"]),
        "resolved_at": _iso(m["resolved_at"]),
        "resolved_by": m["resolved_by"],
        "outcome_state": m["outcome_state"],
        "outcome_message_id": m["outcome_message_id"],
    }


def _cases_query() -> Select[Any]:
    return select(cases, _name()).join(customers, customers.c.id == cases.c.customer_id)


async def list_cases(
    db: Database,
    *,
    status: str | None = None,
    customer_id: int | None = None,
    conversation_id: int | None = None,
    owner_id: int | None = None,
    category: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[dict[str, Any]]:
    """Cases, newest first; `status` may be a status or "in_hand" (open or in progress)."""
    query = _cases_query()
    if status == "in_hand":
        query = query.where(cases.c.status.in_(IN_HAND))
    elif status is not None:
        query = query.where(cases.c.status == status)
    for column, value in (
        (cases.c.customer_id, customer_id),
        (cases.c.conversation_id, conversation_id),
        (cases.c.owner_id, owner_id),
        (cases.c.category, category),
    ):
        if value is not None:
            query = query.where(column == value)
    if before_id is not None:
        query = query.where(cases.c.id < before_id)
    async with db.read() as conn:
        rows = (await conn.execute(query.order_by(cases.c.id.desc()).limit(limit))).all()
    return [case_dict(r) for r in rows]


def score_dict(row: Any) -> dict[str, Any]:
    """A message's complaint score as the API shows it."""
    m = row._mapping
    return {
        "message_id": m["message_id"],
        "conversation_id": m["conversation_id"],
        "text": m.get("text"),
        "channel": m["channel"],
        "probability": round(float(m["probability"]), 4),
        "detected": m["detected"],
        "is_complaint": m["is_complaint"],
        "category": m["category"],
        "severity": m["severity"],
        "cues": m["cues"] or [],
        "corrected": m["correction_id"] is not None,
        "case_id": m["case_id"],
        "model_version": m["model_version"],
        "received_at": _iso(m["received_at"]),
    }


async def get_case(db: Database, case_id: int) -> dict[str, Any]:
    """One case with its complaint messages and the corrections made to them."""
    async with db.read() as conn:
        row = (await conn.execute(_cases_query().where(cases.c.id == case_id))).first()
        if row is None:
            raise NotFound(f"complaint case {case_id} does not exist")
        joined = (
            await conn.execute(
                select(scores, messages.c.text)
                .join(messages, messages.c.id == scores.c.message_id)
                .where(or_(scores.c.case_id == case_id, scores.c.message_id == row.first_message_id))
                .order_by(scores.c.message_id)
            )
        ).all()
        fixes = (
            await conn.execute(
                select(corrections)
                .where(corrections.c.message_id.in_([r.message_id for r in joined] or [-1]))
                .order_by(corrections.c.id)
            )
        ).all()
    data = case_dict(row)
    data["messages"] = [score_dict(r) for r in joined]
    data["corrections"] = [correction_dict(r) for r in fixes]
    return data


async def message_score(db: Database, message_id: int) -> dict[str, Any]:
    """The complaint score of one message, or NotFound if it was not scored."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(scores, messages.c.text)
                .join(messages, messages.c.id == scores.c.message_id)
                .where(scores.c.message_id == message_id)
            )
        ).first()
    if row is None:
        raise NotFound(f"message {message_id} has no complaint score")
    return score_dict(row)


def correction_dict(row: Any) -> dict[str, Any]:
    """A correction as the API shows it."""
    return {
        "id": row.id,
        "message_id": row.message_id,
        "text": row.text,
        "channel": row.channel,
        "is_complaint": row.is_complaint,
        "category": row.category,
        "severity": row.severity,
        "previous": row.previous or {},
        "actor": row.actor,
        "at": _iso(row.at),
    }


async def list_corrections(db: Database, *, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
    """Corrections, newest first."""
    query = select(corrections)
    if before_id is not None:
        query = query.where(corrections.c.id < before_id)
    async with db.read() as conn:
        rows = (await conn.execute(query.order_by(corrections.c.id.desc()).limit(limit))).all()
    return [correction_dict(r) for r in rows]


async def training_corrections(db: Database) -> list[Any]:
    """Every correction in order (text, channel, label): what detectors retrain on."""
    async with db.read() as conn:
        return list(
            (
                await conn.execute(
                    select(
                        corrections.c.id,
                        corrections.c.text,
                        corrections.c.channel,
                        corrections.c.is_complaint,
                        corrections.c.category,
                    ).order_by(corrections.c.id)
                )
            ).all()
        )


async def corrections_state(db: Database) -> tuple[int, int]:
    """(newest correction id, how many there are): when either changes, detectors retrain."""
    async with db.read() as conn:
        row = (
            await conn.execute(select(func.coalesce(func.max(corrections.c.id), 0), func.count(corrections.c.id)))
        ).one()
    return int(row[0]), int(row[1])


# ---------------------------------------------------------------- complaint report


def _week(dialect: str, column: str) -> Any:
    """SQL for the Monday (UTC) starting the week of a timestamp, as YYYY-MM-DD."""
    if dialect == "postgresql":
        return literal_column(f"to_char(date_trunc('week', {column}), 'YYYY-MM-DD')")
    return literal_column(f"date({column}, 'weekday 0', '-6 days')")


def _seconds(dialect: str, later: str, earlier: str) -> Any:
    if dialect == "postgresql":
        return literal_column(f"EXTRACT(EPOCH FROM {later} - {earlier})")
    return literal_column(f"(julianday({later}) - julianday({earlier})) * 86400.0")


async def complaint_report(db: Database, since: datetime, until: datetime) -> dict[str, Any]:
    """Complaint cases opened in [since, until): volume by category, channel and week; resolution; repeaters."""
    dialect = db.engine.dialect.name
    in_range = and_(cases.c.opened_at >= since, cases.c.opened_at < until, cases.c.status != "dismissed")
    week = _week(dialect, "complaint_cases.opened_at").label("week")
    seconds = _seconds(dialect, "complaint_cases.resolved_at", "complaint_cases.opened_at").label("seconds")
    async with db.read() as conn:
        volume = (
            await conn.execute(
                select(week, cases.c.category, cases.c.channel, func.count().label("n"))
                .where(in_range)
                .group_by(week, cases.c.category, cases.c.channel)
                .order_by(week)
            )
        ).all()
        resolution = (await conn.execute(select(cases.c.category, cases.c.status, seconds).where(in_range))).all()
        repeaters = (
            await conn.execute(
                select(
                    cases.c.customer_id,
                    func.count().label("cases"),
                    func.min(cases.c.opened_at).label("first_at"),
                    func.max(cases.c.opened_at).label("last_at"),
                )
                .where(in_range)
                .group_by(cases.c.customer_id)
                .having(func.count() >= REPEAT_AT)
                .order_by(func.count().desc(), func.max(cases.c.opened_at).desc())
                .limit(REPEAT_LIMIT)
            )
        ).all()
        repeater_total = (
            await conn.execute(
                select(func.count()).select_from(
                    select(cases.c.customer_id)
                    .where(in_range)
                    .group_by(cases.c.customer_id)
                    .having(func.count() >= REPEAT_AT)
                    .subquery()
                )
            )
        ).scalar_one()
        ids = [r.customer_id for r in repeaters]
        details = (
            await conn.execute(select(customers.c.id, _name(), customers.c.tier).where(customers.c.id.in_(ids or [-1])))
        ).all()
        mix = (
            await conn.execute(
                select(cases.c.customer_id, cases.c.category, func.count().label("n"))
                .where(in_range, cases.c.customer_id.in_(ids or [-1]))
                .group_by(cases.c.customer_id, cases.c.category)
            )
        ).all()
    by_category: dict[str, int] = defaultdict(int)
    by_channel: dict[str, int] = defaultdict(int)
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in volume:
        by_category[r.category] += r.n
        by_channel[r.channel] += r.n
        weeks[str(r.week)][r.category] += r.n
    hours: dict[str, list[float]] = defaultdict(list)
    still_open: dict[str, int] = defaultdict(int)
    for r in resolution:
        if r.status == "resolved" and r.seconds is not None:
            hours[r.category].append(float(r.seconds) / 3600)
        elif r.status in IN_HAND:
            still_open[r.category] += 1
    every = [h for hs in hours.values() for h in hs]
    names = {r.id: (r.customer_name, r.tier) for r in details}
    categories_of: dict[int, dict[str, int]] = defaultdict(dict)
    for r in mix:
        categories_of[r.customer_id][r.category] = r.n
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "total": sum(by_category.values()),
        "by_category": dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_channel": dict(sorted(by_channel.items(), key=lambda kv: (-kv[1], kv[0]))),
        "by_week": [{"week": w, "total": sum(c.values()), "by_category": dict(c)} for w, c in sorted(weeks.items())],
        "time_to_resolve": {
            "overall": _resolution(every, sum(still_open.values())),
            "by_category": {
                cat: _resolution(hours.get(cat, []), still_open.get(cat, 0))
                for cat in sorted(set(hours) | set(still_open))
            },
        },
        "repeat_complainers": {
            "customers": int(repeater_total),
            "top": [
                {
                    "customer_id": r.customer_id,
                    "customer_name": names.get(r.customer_id, (None, None))[0],
                    "tier": names.get(r.customer_id, (None, None))[1],
                    "cases": r.cases,
                    "first_at": _iso(r.first_at),
                    "last_at": _iso(r.last_at),
                    "categories": categories_of.get(r.customer_id, {}),
                }
                for r in repeaters
            ],
        },
    }


def _resolution(hours: list[float], still_open: int) -> dict[str, Any]:
    return {
        "resolved": len(hours),
        "open": still_open,
        "median_hours": _hours(statistics.median(hours)) if hours else None,
        "p90_hours": _hours(percentile(hours, 0.9)),
        "mean_hours": _hours(statistics.fmean(hours)) if hours else None,
    }


# ---------------------------------------------------------------- churn inputs


def _activity(who: Any) -> Any:
    """Per selected customer: when they last wrote to support."""
    return (
        select(
            conversations.c.customer_id,
            func.max(conversations.c.last_customer_message_at).label("last_at"),
        )
        .where(conversations.c.customer_id.in_(who))
        .group_by(conversations.c.customer_id)
        .subquery("activity")
    )


def _live_customers() -> Any:
    return and_(customers.c.merged_into_id.is_(None), customers.c.erased_at.is_(None))


async def profile_parts(
    conn: AsyncConnection,
    who: Any,
    settings: AnalysisSettings,
    *,
    contacts_since: datetime | None = None,
    history_since: datetime | None = None,
) -> dict[int, ProfileParts]:
    """Everything the churn model needs about the customers selected by the subquery `who` (ids).

    With `history_since`, only cases still in hand or opened since then, and ratings since then, are read:
    all that churn_risk looks at, and far fewer rows for a long-lived hub.
    """
    act = _activity(who)
    rows = (
        await conn.execute(
            select(
                customers.c.id,
                customers.c.tier,
                customers.c.lifecycle_stage,
                customers.c.updated_at,
                act.c.last_at,
            )
            .select_from(customers.outerjoin(act, act.c.customer_id == customers.c.id))
            .where(customers.c.id.in_(who), _live_customers())
        )
    ).all()
    parts = {
        r.id: ProfileParts(r.id, r.tier, r.lifecycle_stage, last_active_at=r.last_at, complaints=[], csat=[])
        for r in rows
    }
    former = [r.id for r in rows if is_former(r.lifecycle_stage, settings.former_stages)]
    updated_at = {r.id: r.updated_at for r in rows}
    case_rows = (
        await conn.execute(
            select(
                cases.c.customer_id,
                cases.c.opened_at,
                cases.c.category,
                cases.c.severity,
                cases.c.resolved_at,
                cases.c.threatened_to_leave,
                cases.c.status,
            ).where(
                cases.c.customer_id.in_(who),
                cases.c.status != "dismissed",
                true()
                if history_since is None
                else or_(cases.c.status.in_(IN_HAND), cases.c.opened_at >= history_since),
            )
        )
    ).all()
    for r in case_rows:
        p = parts.get(r.customer_id)
        if p is not None and p.complaints is not None:
            resolved = r.resolved_at if r.status == "resolved" else None
            p.complaints.append(complaint_record(r.opened_at, r.category, r.severity, resolved, r.threatened_to_leave))
    rated_at = func.coalesce(conversations.c.resolved_at, conversations.c.last_message_at, conversations.c.created_at)
    csat_rows = (
        await conn.execute(
            select(conversations.c.customer_id, rated_at.label("at"), conversations.c.csat_score).where(
                conversations.c.customer_id.in_(who),
                conversations.c.csat_score.is_not(None),
                true() if history_since is None else rated_at >= history_since,
            )
        )
    ).all()
    for rr in csat_rows:
        p = parts.get(rr.customer_id)
        rating = csat_rating(rr.at, rr.csat_score)
        if p is not None and p.csat is not None and rating is not None:
            p.csat.append(rating)
    if contacts_since is not None:
        contact_rows = (
            await conn.execute(
                select(conversations.c.customer_id, conversations.c.created_at).where(
                    conversations.c.customer_id.in_(who), conversations.c.created_at >= contacts_since
                )
            )
        ).all()
        for cr in contact_rows:
            p = parts.get(cr.customer_id)
            if p is not None:
                p.contacts = [*(p.contacts or []), cr.created_at]
    if former:
        updates: dict[int, list[tuple[datetime, Any]]] = defaultdict(list)
        for chunk in _chunks(former, 5000):
            for ev in (
                await conn.execute(
                    select(events_log.c.customer_id, events_log.c.at, events_log.c.data).where(
                        events_log.c.customer_id.in_(chunk), events_log.c.kind == "customer.updated"
                    )
                )
            ).all():
                updates[ev.customer_id].append((ev.at, ev.data))
        for customer_id in former:
            when = became_former_at(updates.get(customer_id, []), settings.former_stages)
            parts[customer_id].churned_at = when or updated_at[customer_id]
    return parts


def _chunks(items: Sequence[int], size: int) -> list[Sequence[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---------------------------------------------------------------- churn report


async def churn_report(db: Database, now: datetime, settings: AnalysisSettings) -> dict[str, Any]:
    """Who left after complaints, which categories came before leaving, and leavers' vs stayers' handling."""
    async with db.read() as conn:
        return await churn_figures(conn, now, settings.inactive_days, settings.window_days, settings.former_stages)


# ---------------------------------------------------------------- churn risk


KEY_ACCOUNT_TEXT = ("Key account", "重点客户")


def risk_dict(risk: ChurnRisk, hub_tier: str | None = None) -> dict[str, Any]:
    """A churn-risk score with its reasons, biggest first; a key account's tier reason says so."""
    reasons = []
    for r in risk.reasons:
        text, text_zh = r.text_en, r.text_zh
        if r.code == "tier" and (hub_tier or "").lower() == "key":
            text, text_zh = KEY_ACCOUNT_TEXT
        reasons.append({"code": r.code, "text": text, "text_zh": text_zh, "weight": round(r.weight, 3)})
    return {
        "score": round(risk.score, 4),
        "level": risk.level,
        "baseline": DEFAULT_WEIGHTS.baseline,
        "reasons": reasons,
    }


async def customer_risk(db: Database, customer_id: int, now: datetime, settings: AnalysisSettings) -> dict[str, Any]:
    """One customer's churn risk and reasons; former customers have left and get no score."""
    contacts_since = now - timedelta(days=DEFAULT_WEIGHTS.contact_days)
    async with db.read() as conn:
        row = (
            await conn.execute(select(customers.c.id, _name(), customers.c.tier).where(customers.c.id == customer_id))
        ).first()
        if row is None:
            raise NotFound(f"customer {customer_id} does not exist")
        parts = await profile_parts(
            conn,
            select(customers.c.id).where(customers.c.id == customer_id),
            settings,
            contacts_since=contacts_since,
            history_since=now - timedelta(days=DEFAULT_WEIGHTS.history_days),
        )
        in_hand = (
            await conn.execute(
                select(func.count()).where(cases.c.customer_id == customer_id, cases.c.status.in_(IN_HAND))
            )
        ).scalar_one()
    part = parts.get(customer_id)
    base = {"customer_id": customer_id, "customer_name": row.customer_name, "tier": row.tier, "open_cases": in_hand}
    if part is None:
        raise NotFound(f"customer {customer_id} was merged or erased")
    if is_former(part.stage, settings.former_stages):
        return {**base, "former": True, "churned_at": _iso(part.churned_at), "risk": None}
    return {**base, "former": False, "risk": risk_dict(churn_risk(part.profile(), now), part.tier)}


_LEVELS = {"low": 0, "medium": 1, "high": 2}


async def risk_list(
    db: Database,
    now: datetime,
    settings: AnalysisSettings,
    *,
    key_accounts: bool = False,
    min_level: str = "low",
    limit: int = 100,
) -> dict[str, Any]:
    """Customers at risk, highest first: those with cases in hand or recent ones, and every key account.

    With `key_accounts`, only key accounts that have a case in hand or a high risk.
    """
    recent = now - timedelta(days=DEFAULT_WEIGHTS.recent_days)
    key = func.lower(customers.c.tier) == "key"
    who: Any
    if key_accounts:
        who = select(customers.c.id).where(key, _live_customers())
    else:
        candidates = union(
            select(cases.c.customer_id).where(
                or_(cases.c.status.in_(IN_HAND), cases.c.opened_at >= recent), cases.c.status != "dismissed"
            ),
            select(customers.c.id).where(key, _live_customers()),
        ).subquery()
        who = select(candidates.c.customer_id)
    contacts_since = now - timedelta(days=DEFAULT_WEIGHTS.contact_days)
    history_since = now - timedelta(days=DEFAULT_WEIGHTS.history_days)
    async with db.read() as conn:
        parts = await profile_parts(conn, who, settings, contacts_since=contacts_since, history_since=history_since)
    floor = _LEVELS.get(min_level, 0)

    def score_all() -> list[tuple[ChurnRisk, ProfileParts, int]]:
        out = []
        for part in parts.values():
            if is_former(part.stage, settings.former_stages):
                continue
            risk = churn_risk(part.profile(), now)
            # Cases in hand are the complaints with no resolution (history_since keeps them all).
            open_cases = sum(1 for c in part.complaints or () if c.resolved_at is None)
            if key_accounts and not (open_cases or risk.level == "high"):
                continue
            if _LEVELS[risk.level] >= floor:
                out.append((risk, part, open_cases))
        out.sort(key=lambda item: (-item[0].score, item[1].customer_id))
        return out

    scored = await asyncio.get_running_loop().run_in_executor(None, score_all)
    top = scored[:limit]
    async with db.read() as conn:
        ids = [part.customer_id for _, part, _ in top]
        found = await conn.execute(select(customers.c.id, _name()).where(customers.c.id.in_(ids or [-1])))
        named: dict[int, str | None] = {row[0]: row[1] for row in found.all()}
    items = [
        {
            "customer_id": part.customer_id,
            "customer_name": named.get(part.customer_id),
            "tier": part.tier,
            "key_account": (part.tier or "").lower() == "key",
            "open_cases": open_cases,
            "risk": risk_dict(risk, part.tier),
        }
        for risk, part, open_cases in top
    ]
    return {"now": now.isoformat(), "customers": len(scored), "items": items}
