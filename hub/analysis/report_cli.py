"""`kefu report complaints`: the complaint report on the command line, as tables, CSV or JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.analysis import report_output

DEFAULT_DAYS = 84
TITLES = {
    "categories": "Complaints by category",
    "channels": "Complaints by channel",
    "weeks": "Complaints by week (weeks start on Monday, UTC)",
    "resolution": "Time to resolve (hours)",
    "repeat": "Repeat complainers (2+ cases)",
}


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (try 2026-03-01)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_report_command(sub: Any) -> None:
    """Add `report complaints` to the `kefu` argument parser."""
    report = sub.add_parser("report", help="print reports")
    kinds = report.add_subparsers(dest="report_command", required=True)
    complaints = kinds.add_parser(
        "complaints", help="complaint volume by category, channel and week; time to resolve; repeat complainers"
    )
    complaints.add_argument("--since", type=_date, help=f"first day (ISO date; default {DEFAULT_DAYS} days ago)")
    complaints.add_argument("--until", type=_date, help="end, exclusive (ISO date; default now)")
    complaints.add_argument("--format", choices=("table", "csv", "json"), default="table")
    complaints.add_argument(
        "--section",
        choices=report_output.COMPLAINT_SECTIONS,
        help="only this part (CSV prints one part; default weeks)",
    )
    complaints.add_argument("--database", help="database URL (KEFU_DATABASE_URL, default SQLite in the data dir)")
    complaints.set_defaults(func=run_complaints)


async def _load(database_url: str, since: datetime, until: datetime) -> dict[str, Any]:
    from hub.analysis.reports import complaint_report
    from hub.storage import migrate
    from hub.storage.database import Database

    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        return await complaint_report(db, since, until)
    finally:
        await db.dispose()


def render(report: dict[str, Any], fmt: str, section: str | None) -> str:
    """The report in the chosen format."""
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        return report_output.to_csv(report_output.complaint_table(report, section or "weeks"))
    sections = [section] if section else list(report_output.COMPLAINT_SECTIONS)
    head = f"Complaints {report['since'][:10]} to {report['until'][:10]}: {report['total']} cases\n\n"
    parts = [report_output.to_text(report_output.complaint_table(report, s), TITLES[s]) for s in sections]
    return head + "\n".join(parts)


def run_complaints(args: argparse.Namespace) -> int:
    """Print the complaint report."""
    from hub.config import Settings

    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        print("error: --since must be before --until", file=sys.stderr)
        return 2
    settings = Settings.from_env(database_url=args.database)
    report = asyncio.run(_load(settings.effective_database_url, since, until))
    sys.stdout.write(render(report, args.format, args.section))
    return 0
