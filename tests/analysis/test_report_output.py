"""Report sections as CSV and terminal tables (pure)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from hub.analysis.report_output import churn_table, complaint_table, risk_table, to_csv, to_text

REPORT: dict[str, Any] = {
    "by_category": {"delivery": 3, "billing": 1},
    "by_channel": {"sms": 4},
    "by_week": [
        {"week": "2026-01-05", "total": 3, "by_category": {"billing": 1, "delivery": 2}},
        {"week": "2026-01-12", "total": 1, "by_category": {"delivery": 1}},
    ],
    "time_to_resolve": {
        "overall": {"resolved": 2, "open": 2, "median_hours": 5.5, "p90_hours": 10.0, "mean_hours": 5.5},
        "by_category": {
            "billing": {"resolved": 0, "open": 1, "median_hours": None, "p90_hours": None, "mean_hours": None},
            "delivery": {"resolved": 2, "open": 1, "median_hours": 5.5, "p90_hours": 10.0, "mean_hours": 5.5},
        },
    },
    "repeat_complainers": {
        "customers": 1,
        "top": [
            {
                "customer_id": 9,
                "customer_name": '王, "Lily"',
                "tier": "key",
                "cases": 2,
                "first_at": "2026-01-05T09:00:00+00:00",
                "last_at": "2026-01-12T09:00:00+00:00",
                "categories": {"delivery": 2},
            }
        ],
    },
}


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_weeks_put_categories_in_their_usual_order_and_fill_gaps_with_zero() -> None:
    assert rows(to_csv(complaint_table(REPORT, "weeks"))) == [
        ["week", "total", "delivery", "billing"],
        ["2026-01-05", "3", "2", "1"],
        ["2026-01-12", "1", "1", "0"],
    ]


def test_names_with_commas_and_quotes_survive_csv() -> None:
    parsed = rows(to_csv(complaint_table(REPORT, "repeat")))
    assert parsed[1][1] == '王, "Lily"'
    assert parsed[1][-1] == "delivery:2"


def test_resolution_leaves_unknown_figures_blank_and_ends_with_the_total() -> None:
    assert rows(to_csv(complaint_table(REPORT, "resolution")))[1:] == [
        ["billing", "0", "1", "", "", ""],
        ["delivery", "2", "1", "5.5", "10.0", "5.5"],
        ["(all)", "2", "2", "5.5", "10.0", "5.5"],
    ]


def test_terminal_tables_align_chinese_text_by_display_width() -> None:
    text = to_text((["name", "n"], [["王小明", 2], ["Li", 10]]), "Who")
    assert text.splitlines() == ["Who", "name    n", "------  --", "王小明  2", "Li      10"]
    assert to_text((["a"], []), "").splitlines() == ["a", "-", "(none)"]


def test_churn_and_risk_sections() -> None:
    churn = {
        "categories_before_churn": [
            {
                "category": "billing",
                "leavers_with": 1,
                "stayers_with": 0,
                "leaver_share": 0.5,
                "stayer_share": 0.0,
                "lift": 4.0,
                "churn_rate_with": 1.0,
            }
        ],
        "handling": {
            g: {
                "customers": 2,
                "complaints": 1,
                "complaints_per_customer": 0.5,
                "resolved_share": None,
                "median_resolution_hours": None,
                "p90_resolution_hours": None,
                "mean_csat": 4.333333,
                "low_csat_share": 0.0,
            }
            for g in ("stayers", "leavers")
        },
        "left_after_complaints": {"recent": []},
    }
    assert rows(to_csv(churn_table(churn, "categories")))[1] == ["billing", "1", "0", "0.5", "0.0", "4.0", "1.0"]
    assert rows(to_csv(churn_table(churn, "handling")))[2] == ["leavers", "2", "1", "0.5", "", "", "", "4.3333", "0.0"]
    item = {
        "customer_id": 3,
        "customer_name": None,
        "tier": "key",
        "open_cases": 1,
        "risk": {"score": 0.59, "level": "high", "reasons": [{"text": "Threatened to leave or cancel", "weight": 1.0}]},
    }
    assert rows(to_csv(risk_table([item])))[1] == [
        "3",
        "",
        "key",
        "1",
        "0.59",
        "high",
        "Threatened to leave or cancel (+1)",
    ]
    with pytest.raises(ValueError, match="section"):
        complaint_table(REPORT, "everything")
