"""Report dictionaries as tables: rows for CSV export and the command line (pure, no I/O)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from hub.analysis.examples import CATEGORIES

Table = tuple[list[str], list[list[Any]]]

COMPLAINT_SECTIONS = ("weeks", "categories", "channels", "resolution", "repeat")
CHURN_SECTIONS = ("categories", "handling", "leavers")
RISK_COLUMNS = ["customer_id", "customer_name", "tier", "open_cases", "score", "level", "reasons"]


def complaint_table(report: dict[str, Any], section: str) -> Table:
    """One section of the complaint report as a header and rows."""
    if section == "weeks":
        present = {c for w in report["by_week"] for c in w["by_category"]}
        cats = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
        return (
            ["week", "total", *cats],
            [[w["week"], w["total"], *(w["by_category"].get(c, 0) for c in cats)] for w in report["by_week"]],
        )
    if section == "categories":
        return ["category", "complaints"], [[k, v] for k, v in report["by_category"].items()]
    if section == "channels":
        return ["channel", "complaints"], [[k, v] for k, v in report["by_channel"].items()]
    if section == "resolution":
        header = ["category", "resolved", "open", "median_hours", "p90_hours", "mean_hours"]
        ttr = report["time_to_resolve"]
        rows = [[cat, *_resolution_cells(v)] for cat, v in ttr["by_category"].items()]
        rows.append(["(all)", *_resolution_cells(ttr["overall"])])
        return header, rows
    if section == "repeat":
        return (
            ["customer_id", "customer_name", "tier", "cases", "first_at", "last_at", "categories"],
            [
                [
                    r["customer_id"],
                    r["customer_name"] or "",
                    r["tier"] or "",
                    r["cases"],
                    r["first_at"],
                    r["last_at"],
                    " ".join(f"{k}:{v}" for k, v in sorted(r["categories"].items())),
                ]
                for r in report["repeat_complainers"]["top"]
            ],
        )
    raise ValueError(f"section must be one of {', '.join(COMPLAINT_SECTIONS)}")


def _resolution_cells(v: dict[str, Any]) -> list[Any]:
    return [v["resolved"], v["open"], _blank(v["median_hours"]), _blank(v["p90_hours"]), _blank(v["mean_hours"])]


def _blank(value: Any) -> Any:
    return "" if value is None else value


def churn_table(report: dict[str, Any], section: str) -> Table:
    """One section of the churn report as a header and rows."""
    if section == "categories":
        header = ["category", "leavers_with", "stayers_with", "leaver_share", "stayer_share", "lift", "churn_rate_with"]
        return header, [[_blank(row[h]) for h in header] for row in report["categories_before_churn"]]
    if section == "handling":
        keys = [
            "customers",
            "complaints",
            "complaints_per_customer",
            "resolved_share",
            "median_resolution_hours",
            "p90_resolution_hours",
            "mean_csat",
            "low_csat_share",
        ]
        rows = []
        for group in ("stayers", "leavers"):
            stats = report["handling"][group]
            rows.append([group, *(_blank(_round(stats[k])) for k in keys)])
        return ["group", *keys], rows
    if section == "leavers":
        header = ["customer_id", "tier", "churned_at", "reason", "complaints", "categories", "unresolved_at_churn"]
        return header, [
            [
                r["customer_id"],
                r["tier"] or "",
                r["churned_at"],
                r["reason"],
                r["complaints"],
                " ".join(r["categories"]),
                r["unresolved_at_churn"],
            ]
            for r in report["left_after_complaints"]["recent"]
        ]
    raise ValueError(f"section must be one of {', '.join(CHURN_SECTIONS)}")


def risk_table(items: Sequence[dict[str, Any]]) -> Table:
    """A risk list as rows, reasons joined with their weights."""
    return RISK_COLUMNS, [
        [
            i["customer_id"],
            i["customer_name"] or "",
            i["tier"] or "",
            i["open_cases"],
            i["risk"]["score"],
            i["risk"]["level"],
            "; ".join(f"{r['text']} ({r['weight']:+g})" for r in i["risk"]["reasons"]),
        ]
        for i in items
    ]


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def to_csv(table: Table) -> str:
    """A table as CSV text (RFC 4180 quoting, CRLF line ends as spreadsheets expect)."""
    out = io.StringIO()
    writer = csv.writer(out)
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _width(value: str) -> int:
    # Chinese characters take two columns in a terminal.
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in value)


def to_text(table: Table, title: str = "") -> str:
    """A table as aligned plain text for the terminal."""
    header, rows = table
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = [title] if title else []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (widths[i] - _width(c)) for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    if not rows:
        lines.append("(none)")
    return "\n".join(lines) + "\n"
