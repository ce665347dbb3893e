"""The complaints part of a customer's data export and erasure (a section of hub/customers/privacy.py).

Erasure keeps each case's category, severity, channel and dates, so complaint volumes and churn
figures stay right, but removes what a person said or what was written about them: corrections that
quote their messages (the detector forgets them at its next retrain), resolution notes, and the
matched words in cues (the cue kinds stay).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, delete, select, update

from hub.analysis.cases import cases, corrections, scores

log = logging.getLogger(__name__)

SECTION = "complaints"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export_section(conn: Connection, customer_id: int) -> dict[str, Any]:
    """Every complaint case, message score and correction about one customer record."""
    return {
        "cases": [
            {
                "id": r.id,
                "conversation_id": r.conversation_id,
                "channel": r.channel,
                "status": r.status,
                "category": r.category,
                "severity": r.severity,
                "threatened_to_leave": r.threatened_to_leave,
                "resolution_note": r.resolution_note,
                "opened_at": _iso(r.opened_at),
                "resolved_at": _iso(r.resolved_at),
            }
            for r in conn.execute(select(cases).where(cases.c.customer_id == customer_id).order_by(cases.c.id))
        ],
        "message_scores": [
            {
                "message_id": r.message_id,
                "is_complaint": r.is_complaint,
                "probability": r.probability,
                "category": r.category,
                "severity": r.severity,
                "cues": r.cues or [],
                "case_id": r.case_id,
            }
            for r in conn.execute(
                select(scores).where(scores.c.customer_id == customer_id).order_by(scores.c.message_id)
            )
        ],
        "corrections": [
            {
                "message_id": r.message_id,
                "text": r.text,
                "is_complaint": r.is_complaint,
                "category": r.category,
                "severity": r.severity,
                "at": _iso(r.at),
            }
            for r in conn.execute(
                select(corrections).where(corrections.c.customer_id == customer_id).order_by(corrections.c.id)
            )
        ],
    }


def erase_section(conn: Connection, customer_id: int) -> None:
    """Remove a customer's words from complaint data; the labels and dates stay for the reports."""
    mine = scores.c.message_id.in_(select(corrections.c.message_id).where(corrections.c.customer_id == customer_id))
    conn.execute(update(scores).where(mine).values(correction_id=None))
    conn.execute(delete(corrections).where(corrections.c.customer_id == customer_id))
    conn.execute(update(cases).where(cases.c.customer_id == customer_id).values(resolution_note=None))
    for row in conn.execute(select(scores.c.message_id, scores.c.cues).where(scores.c.customer_id == customer_id)):
        kinds = [str(c).split(":", 1)[0] for c in row.cues or []]
        if kinds != list(row.cues or []):
            conn.execute(update(scores).where(scores.c.message_id == row.message_id).values(cues=kinds))


def register() -> bool:
    """Join customer export and erasure when the customer-privacy module is present."""
    try:
        from hub.customers.privacy import register_section
    except ImportError:
        log.info("hub.customers.privacy is not installed; complaint data is not part of customer exports")
        return False
    register_section(SECTION, export_section, erase_section)
    return True
