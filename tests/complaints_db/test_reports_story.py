"""Seven weeks of complaints on five channels, then the supervisor reads the complaint and churn reports."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from datetime import timedelta
from typing import Any

from hub.config import Settings
from tests.complaints_db.conftest import MONDAY, Desk

DAY = timedelta(days=1)


async def test_complaint_volume_resolution_and_repeat_complainers(desk: Desk, seven_weeks: dict[str, Any]) -> None:
    boss = seven_weeks["boss"]

    status, report = await boss.get("/api/reports/complaints")

    assert status == 200, report
    assert report["total"] == 5
    assert report["by_category"] == {
        "billing": 1,
        "delivery": 1,
        "product_quality": 1,
        "refund": 1,
        "technical": 1,
    }
    assert report["by_channel"] == {"telegram": 2, "email": 1, "sms": 1, "webchat": 1}
    assert [(w["week"], w["total"]) for w in report["by_week"]] == [
        ("2026-01-05", 3),
        ("2026-01-12", 1),
        ("2026-02-16", 1),
    ]
    ttr = report["time_to_resolve"]
    assert ttr["overall"] == {"resolved": 3, "open": 2, "median_hours": 24.0, "p90_hours": 80.0, "mean_hours": 36.67}
    assert ttr["by_category"]["refund"]["median_hours"] == 80.0
    assert ttr["by_category"]["delivery"] == {
        "resolved": 0,
        "open": 1,
        "median_hours": None,
        "p90_hours": None,
        "mean_hours": None,
    }
    repeat = report["repeat_complainers"]
    assert repeat["customers"] == 1
    assert repeat["top"][0]["customer_id"] == seven_weeks["d"].customer_id
    assert repeat["top"][0]["categories"] == {"product_quality": 1, "refund": 1}

    status, week_two = await boss.get("/api/reports/complaints?since=2026-01-12&until=2026-01-19")
    assert week_two["by_category"] == {"refund": 1}


async def test_the_report_exports_as_csv(desk: Desk, seven_weeks: dict[str, Any]) -> None:
    boss = seven_weeks["boss"]

    status, kind, body = await boss.text("/api/reports/complaints.csv?section=weeks")

    assert status == 200
    assert kind.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["week", "total", "delivery", "billing", "product_quality", "refund", "technical"]
    assert rows[1] == ["2026-01-05", "3", "1", "1", "1", "0", "0"]
    status, _, body = await boss.text("/api/reports/complaints.csv?section=resolution")
    assert list(csv.reader(io.StringIO(body)))[-1] == ["(all)", "3", "2", "24.0", "80.0", "36.67"]
    status, _, body = await boss.text("/api/reports/churn.csv?section=handling")
    handling = {row["group"]: row for row in csv.DictReader(io.StringIO(body))}
    assert handling["leavers"]["resolved_share"] == "0.5"
    status, _, body = await boss.text("/api/churn/risk.csv")
    assert "Threatened to leave or cancel (+1)" in body


async def test_churn_after_complaints_and_how_leavers_were_handled(desk: Desk, seven_weeks: dict[str, Any]) -> None:
    boss = seven_weeks["boss"]
    a, b = seven_weeks["a"], seven_weeks["b"]

    status, churn = await boss.get("/api/reports/churn")

    assert status == 200, churn
    assert (churn["customers"], churn["leavers"], churn["stayers"]) == (5, 2, 3)
    left = churn["left_after_complaints"]
    assert left["by_reason"] == {"former": 1, "inactive": 1}
    by_customer = {row["customer_id"]: row for row in left["recent"]}
    assert by_customer[a.customer_id]["churned_at"] == (MONDAY + 10 * DAY).isoformat()
    assert by_customer[b.customer_id]["churned_at"].startswith("2026-02-04")
    assert by_customer[b.customer_id]["unresolved_at_churn"] == 1
    lifts = {row["category"]: row for row in churn["categories_before_churn"]}
    assert [row["category"] for row in churn["categories_before_churn"][:2]] == ["billing", "delivery"]
    assert lifts["billing"]["lift"] == 4.0
    assert lifts["product_quality"]["lift"] < 1
    leavers, stayers = churn["handling"]["leavers"], churn["handling"]["stayers"]
    assert (leavers["complaints"], leavers["resolved_share"], leavers["median_resolution_hours"]) == (2, 0.5, 24.0)
    assert (stayers["complaints"], stayers["median_resolution_hours"], stayers["mean_csat"]) == (3, 43.0, 5.0)
    assert (leavers["mean_csat"], leavers["low_csat_share"]) == (1.0, 1.0)


async def test_risk_scores_explain_themselves_and_key_accounts_are_listed(
    desk: Desk, seven_weeks: dict[str, Any]
) -> None:
    boss = seven_weeks["boss"]
    agent = await desk.staff("li@example.com")
    b, e = seven_weeks["b"], seven_weeks["e"]

    status, risk = await agent.get(f"/api/customers/{b.customer_id}/churn-risk")

    assert status == 200
    assert risk["risk"]["level"] == "high"
    codes = [r["code"] for r in risk["risk"]["reasons"]]
    assert codes == ["threatened_to_leave", "open_complaints", "high_severity", "recent_complaints"]
    assert risk["risk"]["reasons"][0]["text_zh"] == "曾表示要离开或取消"
    status, former = await agent.get(f"/api/customers/{seven_weeks['a'].customer_id}/churn-risk")
    assert (former["former"], former["risk"]) == (True, None)
    status, listed = await boss.get("/api/churn/risk?level=high")
    assert [i["customer_id"] for i in listed["items"]] == [b.customer_id]
    status, keys = await boss.get("/api/churn/risk?key_accounts=1")
    (key,) = keys["items"]
    assert (key["customer_id"], key["open_cases"], key["key_account"]) == (e.customer_id, 1, True)
    assert key["risk"]["reasons"][-1]["text"] == "Key account"


async def test_reports_are_for_supervisors_and_check_their_input(desk: Desk, seven_weeks: dict[str, Any]) -> None:
    boss = seven_weeks["boss"]
    agent = await desk.staff("zhou@example.com")

    assert (await agent.get("/api/reports/complaints"))[0] == 403
    assert (await agent.get("/api/reports/churn"))[0] == 403
    assert (await agent.get("/api/churn/risk"))[0] == 403
    bad = await boss.get("/api/reports/complaints?since=last-tuesday")
    assert bad == (400, {"error": "invalid_query", "message": "since must be an ISO date like 2026-03-01"})
    assert (await boss.get("/api/reports/complaints?since=2026-02-01&until=2026-01-01"))[0] == 400
    assert (await boss.get("/api/reports/complaints?since=2016-02-01"))[0] == 400
    assert (await boss.get("/api/reports/complaints.csv?section=everything"))[1]["error"] == "invalid_query"
    assert (await boss.get("/api/reports/churn.csv?section=everything"))[0] == 400
    assert (await boss.get("/api/churn/risk?level=extreme"))[0] == 400
    assert (await boss.get("/api/churn/risk?limit=-3"))[0] == 400
    assert (await agent.get("/api/customers/999999/churn-risk"))[0] == 404


async def kefu(*args: str) -> tuple[int, str, str]:
    """Run the `kefu` command in its own process."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub.cli", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return int(proc.returncode or 0), out.decode(), err.decode()


async def test_the_command_line_prints_the_same_report(
    desk: Desk, seven_weeks: dict[str, Any], settings: Settings
) -> None:
    window = ("--since", "2026-01-01", "--until", "2026-03-01", "--database", settings.database_url)

    code, out, err = await kefu("report", "complaints", *window)

    assert code == 0, err
    assert out.startswith("Complaints 2026-01-01 to 2026-03-01: 5 cases")
    assert "2026-01-05  3      1         1        1                0       0" in out
    assert "(all)            3         2     24.0          80.0       36.67" in out
    code, out, err = await kefu("report", "complaints", *window, "--format", "csv", "--section", "channels")
    assert (code, out.splitlines()) == (0, ["channel,complaints", "telegram,2", "email,1", "sms,1", "webchat,1"])
    code, out, err = await kefu("report", "complaints", "--since", "yesterday-ish", "--database", settings.database_url)
    assert code == 2
    assert "not an ISO date" in err
