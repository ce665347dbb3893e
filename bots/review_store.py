"""The review inbox: customer messages the bot could not answer well, and how the designer resolved them.

Items are recorded when the bot decides (BotService._apply); resolving one edits the draft in the
same transaction, so the next version trained from the draft learns from it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, String, Table, delete, func, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite

from bots import policy
from bots.draft_store import Edit, draft_dict, edit_draft
from bots.lint import normalize
from bots.policy import Decision
from channels.base import utcnow
from hub.domain import Conflict, DomainError, NotFound
from hub.storage.bot_tables import BotReviewItem
from hub.storage.database import Database
from hub.storage.kb_tables import KbArticle
from hub.storage.tables import Conversation, Message

items = cast(Table, BotReviewItem.__table__)
messages = cast(Table, Message.__table__)
conversations = cast(Table, Conversation.__table__)
articles = cast(Table, KbArticle.__table__)

REASONS = ("unsure", "kb_fallback", "handed_off", "did_not_help")
STATUSES = ("pending", "assigned", "dismissed")


def review_key(text: str) -> str:
    """The same question however it was typed (case, width, spaces, end punctuation): the inbox's group."""
    return hashlib.sha1(normalize(text).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ReviewCause:
    """Why a turn goes to the inbox, and whether the question is the previous customer message."""

    reason: str
    previous_message: bool
    intent: str | None
    confidence: float | None


def review_cause(decision: Decision) -> ReviewCause | None:
    """The inbox reason for a decision, or None when the bot answered by intent or stepped aside by rule."""
    details = decision.details
    intent, confidence = details.get("intent"), details.get("confidence")
    if decision.action == "reply":
        answered_by = details.get("answered_by")
        if answered_by == "rephrase":
            return ReviewCause("unsure", False, intent, confidence)
        if answered_by == "article":
            return ReviewCause("kb_fallback", False, intent, confidence)
        return None
    if decision.reason == policy.UNSURE:
        return ReviewCause("unsure", False, intent, confidence)
    if decision.reason == policy.NOT_HELPFUL:
        # "that didn't help" teaches nothing; the question it answered does
        return ReviewCause("did_not_help", True, details.get("last_intent"), None)
    if decision.reason == policy.ASKED_FOR_HUMAN:
        return ReviewCause("handed_off", True, None, None)
    if decision.reason == policy.COMPLAINT:
        return ReviewCause("handed_off", False, intent, confidence)
    return None  # key accounts, engine failures, no model: not something content can fix


def item_dict(row: Any) -> dict[str, Any]:
    """A review item as the API shows it."""
    return {
        "id": row.id, "message_id": row.message_id, "conversation_id": row.conversation_id, "text": row.text,
        "language": row.language, "channel": row.channel, "reason": row.reason, "intent": row.intent,
        "confidence": row.confidence, "version_id": row.version_id, "created_at": row.created_at.isoformat(),
        "status": row.status, "resolution": row.resolution, "target": row.target, "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at is not None else None,
    }


class ReviewStore:
    """Reads and writes of the review inbox over one Database."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock

    async def record(self, *, conversation_id: int, message_id: int, channel: str, cause: ReviewCause,
                     version_id: int | None, fallback_language: policy.Language | None) -> int | None:
        """Put a turn's question in the inbox (once per message); returns the message recorded, if any."""
        now = self.clock()

        def tx(conn: Connection) -> int | None:
            target_id, text = message_id, None
            if cause.previous_message:
                row = conn.execute(
                    select(messages.c.id, messages.c.text)
                    .where(messages.c.conversation_id == conversation_id, messages.c.direction == "in",
                           messages.c.id < message_id, func.length(func.trim(messages.c.text)) > 0)
                    .order_by(messages.c.id.desc()).limit(1)
                ).first()
                if row is None:
                    return None
                target_id, text = row.id, row.text
            else:
                text = conn.execute(select(messages.c.text).where(messages.c.id == message_id)).scalar()
            if not text or not text.strip():
                return None
            values = {
                "message_id": target_id, "conversation_id": conversation_id, "text": text,
                "language": policy.detect_language(text, fallback_language), "channel": channel[:32],
                "reason": cause.reason, "intent": cause.intent, "confidence": cause.confidence,
                "version_id": version_id, "created_at": now, "status": "pending", "text_key": review_key(text),
            }
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(items).values(**values)
            if cause.reason == "did_not_help":
                # the question was already in the inbox (say as kb_fallback): the customer's verdict is stronger
                conn.execute(statement.on_conflict_do_update(
                    index_elements=["message_id"], set_={"reason": statement.excluded.reason},
                    where=items.c.status == "pending"))
            else:
                conn.execute(statement.on_conflict_do_nothing(index_elements=["message_id"]))
            return target_id

        return await self.db.run_write(tx)

    async def listing(self, *, status: str, reason: str | None, limit: int,
                      cursor: int | None, grouped: bool = False) -> dict[str, Any]:
        """Items newest first (before `cursor`), with counts per reason for the status.

        Grouped, each entry is the newest item of one question however it was typed, with `count` items
        in all, and the cursor runs over the groups' newest ids.
        """
        counting = select(items.c.reason, func.count()).where(items.c.status == status).group_by(items.c.reason)
        async with self.db.read() as conn:
            if grouped:
                rows, counts_by_id = await self._groups(conn, status, reason, limit, cursor)
            else:
                query = select(items).where(items.c.status == status)
                if reason is not None:
                    query = query.where(items.c.reason == reason)
                if cursor is not None:
                    query = query.where(items.c.id < cursor)
                rows = (await conn.execute(query.order_by(items.c.id.desc()).limit(limit + 1))).all()
                counts_by_id = {}
            counts = {r[0]: int(r[1]) for r in (await conn.execute(counting)).all()}
        page = rows[:limit]
        entries = [item_dict(r) for r in page]
        if grouped:
            for entry in entries:
                entry["count"] = counts_by_id[entry["id"]]
        return {
            "items": entries,
            "counts": {name: counts.get(name, 0) for name in REASONS},
            "total": sum(counts.values()),
            "next_cursor": page[-1].id if len(rows) > limit else None,
        }

    @staticmethod
    async def _groups(conn: Any, status: str, reason: str | None, limit: int,
                      cursor: int | None) -> tuple[list[Any], dict[int, int]]:
        """The newest item of each question (limit + 1 of them, before `cursor`) and each group's size."""
        # Rows from before text keys existed group alone, by their id.
        key = func.coalesce(items.c.text_key, sql_cast(items.c.id, String))
        newest = func.max(items.c.id)
        query = select(newest.label("newest"), func.count().label("n")).where(items.c.status == status)
        if reason is not None:
            query = query.where(items.c.reason == reason)
        query = query.group_by(key)
        if cursor is not None:
            query = query.having(newest < cursor)
        groups = (await conn.execute(query.order_by(newest.desc()).limit(limit + 1))).all()
        sizes = {int(g.newest): int(g.n) for g in groups}
        rows = (await conn.execute(select(items).where(items.c.id.in_(list(sizes))))).all()
        return sorted(rows, key=lambda r: r.id, reverse=True), sizes

    async def resolve(self, item_id: int, *, status: str, resolution: str | None, target: str | None,
                      actor: str, edit: Edit | None = None,
                      article_id: int | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Close a pending item, editing the draft in the same transaction; returns the item and the draft."""
        now = self.clock()

        def tx(conn: Connection) -> tuple[Any, Any]:
            row = conn.execute(select(items).where(items.c.id == item_id).with_for_update()).first()
            if row is None:
                raise NotFound(f"review item {item_id} does not exist")
            if row.status != "pending":
                raise Conflict(f"review item {item_id} is already {row.status} ({row.resolution or 'no resolution'}"
                               f" by {row.resolved_by})", code="already_resolved")
            if article_id is not None and conn.execute(
                    select(articles.c.id).where(articles.c.id == article_id)).first() is None:
                raise DomainError(f"knowledge-base article {article_id} does not exist", code="unknown_article",
                                  status=422)
            draft = edit_draft(conn, edit, revision=None, actor=actor, now=now) if edit is not None else None
            closed = {"status": status, "resolution": resolution, "target": target, "resolved_by": actor[:64],
                      "resolved_at": now}
            conn.execute(update(items).where(items.c.id == item_id).values(**closed))
            also = 0
            if row.text_key is not None:
                # The same question from other customers is settled by the same decision.
                also = conn.execute(update(items).where(
                    items.c.status == "pending", items.c.text_key == row.text_key, items.c.id != item_id,
                ).values(**closed)).rowcount
            return conn.execute(select(items).where(items.c.id == item_id)).one(), draft, also

        row, draft, also = await self.db.run_write(tx)
        return item_dict(row), draft_dict(draft) if draft is not None else None, int(also or 0)

    async def item(self, item_id: int) -> dict[str, Any]:
        """One item, or NotFound."""
        async with self.db.read() as conn:
            row = (await conn.execute(select(items).where(items.c.id == item_id))).first()
        if row is None:
            raise NotFound(f"review item {item_id} does not exist")
        return item_dict(row)

    async def linked_article_id(self, text: str) -> int | None:
        """The article a designer said answers this question (however it is typed), newest link first."""
        query = (select(items.c.target)
                 .where(items.c.status == "assigned", items.c.text_key == review_key(text),
                        items.c.resolution == "article")
                 .order_by(items.c.resolved_at.desc(), items.c.id.desc()).limit(1))
        async with self.db.read() as conn:
            target = (await conn.execute(query)).scalar()
        return int(target) if target is not None else None

    async def article_links(self) -> list[dict[str, Any]]:
        """Questions the designer said a knowledge-base article answers, oldest first."""
        query = (select(items.c.id, items.c.text, items.c.language, items.c.target, items.c.resolved_at,
                        items.c.text_key)
                 .where(items.c.resolution == "article").order_by(items.c.id))
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        links, seen = [], set()
        for r in rows:
            # One question asked by many customers is one link (their items were settled together).
            if r.text_key is not None and (r.text_key, r.target) in seen:
                continue
            seen.add((r.text_key, r.target))
            links.append({"review_item_id": r.id, "text": r.text, "language": r.language,
                          "article_id": int(r.target),
                          "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None})
        return links


def _customer_items(customer_id: int) -> Any:
    mine = select(conversations.c.id).where(conversations.c.customer_id == customer_id)
    return items.c.conversation_id.in_(mine)


def export_review_items(conn: Connection, customer_id: int) -> list[dict[str, Any]]:
    """Privacy export: the person's messages kept in the bot's review inbox."""
    rows = conn.execute(select(items).where(_customer_items(customer_id)).order_by(items.c.id))
    return [{"text": r.text, "reason": r.reason, "status": r.status, "created_at": r.created_at.isoformat()}
            for r in rows]


def erase_review_items(conn: Connection, customer_id: int) -> None:
    """Privacy erasure: the inbox copies the customer's words, so the items go (examples already in the
    draft or in versions are the designer's content and stay)."""
    conn.execute(delete(items).where(_customer_items(customer_id)))


def register_privacy() -> None:
    """Make customer export and erasure cover the review inbox (hub.customers is optional)."""
    try:
        from hub.customers.privacy import register_section
    except ImportError:
        return
    register_section("bot_review_inbox", export_review_items, erase_review_items)
