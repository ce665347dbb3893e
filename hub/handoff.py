"""The bot's hand-off, as agents see it at the top of a conversation: why, the intent, what the customer
asked and what the bot last answered.

Read from structured data the hand-off already stores: the `conversation.handoff` entry of the customer
event log (written by Actions.handoff with the bot's decision details: code, explanation, intent and
confidence, articles tried, the customer message that triggered it) and the messages themselves. The
bot's private note stays for people reading the thread; nothing here parses it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select

from hub.storage.database import Database
from hub.storage.tables import CustomerEvent, Message

events_log = cast(Table, CustomerEvent.__table__)
messages = cast(Table, Message.__table__)

QUOTE_CHARS = 500


async def handoff_card(db: Database, conversation_id: int, customer_id: int) -> dict[str, Any] | None:
    """The latest hand-off of a conversation, or None when the bot never handed it over."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(events_log.c.at, events_log.c.data)
                .where(
                    events_log.c.customer_id == customer_id,
                    events_log.c.conversation_id == conversation_id,
                    events_log.c.kind == "conversation.handoff",
                )
                .order_by(events_log.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        data: dict[str, Any] = dict(row.data or {})
        asked = None
        if isinstance(data.get("message_id"), int):
            asked = (
                await conn.execute(
                    select(messages.c.seq, messages.c.text).where(
                        messages.c.id == data["message_id"], messages.c.conversation_id == conversation_id
                    )
                )
            ).first()
        answer = select(messages.c.text).where(
            messages.c.conversation_id == conversation_id,
            messages.c.author == "bot",
            messages.c.direction == "out",
        )
        if asked is not None:
            answer = answer.where(messages.c.seq < asked.seq)
        bot_answer = (await conn.execute(answer.order_by(messages.c.seq.desc()).limit(1))).scalar()
    articles = [
        {"title": a.get("title"), "slug": a.get("slug")} for a in data.get("articles") or [] if isinstance(a, dict)
    ]
    return {
        "at": row.at.isoformat(),
        "code": data.get("code"),
        "reason": data.get("reason"),
        "explanation": data.get("explanation"),
        "intent": data.get("intent"),
        "confidence": data.get("confidence"),
        "customer_asked": asked.text[:QUOTE_CHARS] if asked is not None else None,
        "bot_answer": bot_answer[:QUOTE_CHARS] if bot_answer else None,
        "articles": articles,
    }
