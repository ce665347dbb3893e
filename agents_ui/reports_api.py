"""Complaints and churn API: cases, corrections, the detector, reports (JSON and CSV), churn risk; the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from agents_ui.security import current_agent, public, requires
from hub.analysis import report_output, reports
from hub.analysis.cases import STATUSES
from hub.analysis.examples import CATEGORIES
from hub.analysis.service import ANALYSIS, ComplaintService
from hub.domain import DomainError, Role
from hub.http import path_int, read_json
from hub.keys import DATABASE

routes = web.RouteTableDef()

STATIC = Path(__file__).parent / "static"
SUPERVISORS = (Role.SUPERVISOR,)  # admins are always allowed
HANDLERS = (Role.AGENT, Role.SUPERVISOR)
LABELLERS = (Role.AGENT, Role.DESIGNER, Role.SUPERVISOR)
DEFAULT_DAYS = 84
MAX_DAYS = 3 * 366


def _service(request: web.Request) -> ComplaintService:
    return request.app[ANALYSIS]


def _actor(request: web.Request) -> str:
    return f"agent:{current_agent(request).id}"


def _int_query(request: web.Request, name: str, default: int | None, low: int = 1, high: int = 10**12) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DomainError(f"{name} must be a whole number", code="invalid_query") from None
    if not low <= value <= high:
        raise DomainError(f"{name} must be between {low} and {high}", code="invalid_query")
    return value


def _when(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"{name} must be an ISO date like 2026-03-01", code="invalid_query") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _now(request: web.Request) -> datetime:
    return request.app[ANALYSIS].clock()


def report_range(request: web.Request) -> tuple[datetime, datetime]:
    """[since, until) from the query; by default the last 12 weeks."""
    until = _when(request, "until") or _now(request)
    since = _when(request, "since") or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise DomainError("since must be before until", code="invalid_query")
    if until - since > timedelta(days=MAX_DAYS):
        raise DomainError("a report covers at most three years", code="invalid_query")
    return since, until


def _csv(text: str, name: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "Cache-Control": "no-store"},
    )


# ---------------------------------------------------------------- cases


@routes.get("/api/complaints/cases")
@requires()
async def list_cases(request: web.Request) -> web.Response:
    """Complaint cases, newest first: ?status=open|in_progress|resolved|dismissed|in_hand, customer_id, ..."""
    status = request.query.get("status") or None
    if status is not None and status not in (*STATUSES, "in_hand"):
        raise DomainError(f"status must be one of {', '.join((*STATUSES, 'in_hand'))}", code="invalid_query")
    category = request.query.get("category") or None
    if category is not None and category not in CATEGORIES:
        raise DomainError(f"category must be one of {', '.join(CATEGORIES)}", code="invalid_query")
    items = await reports.list_cases(
        request.app[DATABASE],
        status=status,
        customer_id=_int_query(request, "customer_id", None),
        conversation_id=_int_query(request, "conversation_id", None),
        owner_id=_int_query(request, "owner_id", None),
        category=category,
        limit=_int_query(request, "limit", 50, 1, 500) or 50,
        before_id=_int_query(request, "before", None),
    )
    return web.json_response({"cases": items})


@routes.get("/api/complaints/cases/{id}")
@requires()
async def get_case(request: web.Request) -> web.Response:
    """One case with its complaint messages and corrections."""
    return web.json_response({"case": await reports.get_case(request.app[DATABASE], path_int(request, "id"))})


@routes.patch("/api/complaints/cases/{id}")
@requires(*HANDLERS)
async def update_case(request: web.Request) -> web.Response:
    """Set status (open, in_progress, resolved), owner_id and the resolution note; notify=false stays quiet."""
    case_id = path_int(request, "id")
    data = await read_json(request)
    outcome = await _service(request).update_case(case_id, _actor(request), data)
    case = await reports.get_case(request.app[DATABASE], case_id)
    return web.json_response({"case": case, "customer_told": outcome})


@routes.get("/api/messages/{id}/complaint")
@requires()
async def message_complaint(request: web.Request) -> web.Response:
    """A message's complaint score: probability, category, severity, cues, case."""
    return web.json_response({"score": await reports.message_score(request.app[DATABASE], path_int(request, "id"))})


# ---------------------------------------------------------------- corrections and the detector


@routes.post("/api/complaints/corrections")
@requires(*LABELLERS)
async def add_correction(request: web.Request) -> web.Response:
    """Correct a label: {message_id | case_id | text (+channel), is_complaint, category?, severity?}."""
    data = await read_json(request)
    result = await _service(request).correct(data, _actor(request))
    return web.json_response(result, status=201)


@routes.get("/api/complaints/corrections")
@requires(*LABELLERS)
async def list_corrections(request: web.Request) -> web.Response:
    """Corrections, newest first."""
    items = await reports.list_corrections(
        request.app[DATABASE],
        limit=_int_query(request, "limit", 100, 1, 1000) or 100,
        before_id=_int_query(request, "before", None),
    )
    return web.json_response({"corrections": items})


@routes.get("/api/complaints/model")
@requires()
async def model(request: web.Request) -> web.Response:
    """The active detector: version (the last correction it learned from), corrections, trained_at."""
    return web.json_response({"model": _service(request).model_info()})


# ---------------------------------------------------------------- reports


@routes.get("/api/reports/complaints")
@requires(*SUPERVISORS)
async def complaints_report(request: web.Request) -> web.Response:
    """Volume by category, channel and week; time to resolve; repeat complainers (?since=&until=)."""
    since, until = report_range(request)
    return web.json_response(await reports.complaint_report(request.app[DATABASE], since, until))


@routes.get("/api/reports/complaints.csv")
@requires(*SUPERVISORS)
async def complaints_csv(request: web.Request) -> web.Response:
    """One section of the complaint report as CSV: ?section=weeks|categories|channels|resolution|repeat."""
    section = request.query.get("section", "weeks")
    if section not in report_output.COMPLAINT_SECTIONS:
        raise DomainError(f"section must be one of {', '.join(report_output.COMPLAINT_SECTIONS)}", code="invalid_query")
    since, until = report_range(request)
    report = await reports.complaint_report(request.app[DATABASE], since, until)
    return _csv(report_output.to_csv(report_output.complaint_table(report, section)), f"complaints-{section}")


@routes.get("/api/reports/churn")
@requires(*SUPERVISORS)
async def churn_report(request: web.Request) -> web.Response:
    """Who left after complaints, categories before churn (lift), stayers' vs leavers' handling."""
    service = _service(request)
    return web.json_response(await reports.churn_report(request.app[DATABASE], _now(request), service.settings))


@routes.get("/api/reports/churn.csv")
@requires(*SUPERVISORS)
async def churn_csv(request: web.Request) -> web.Response:
    """One section of the churn report as CSV: ?section=categories|handling|leavers."""
    section = request.query.get("section", "categories")
    if section not in report_output.CHURN_SECTIONS:
        raise DomainError(f"section must be one of {', '.join(report_output.CHURN_SECTIONS)}", code="invalid_query")
    report = await reports.churn_report(request.app[DATABASE], _now(request), _service(request).settings)
    return _csv(report_output.to_csv(report_output.churn_table(report, section)), f"churn-{section}")


def _risk_args(request: web.Request) -> tuple[bool, str, int]:
    key = request.query.get("key_accounts", "0").lower() in ("1", "true", "yes")
    level = request.query.get("level", "low")
    if level not in ("low", "medium", "high"):
        raise DomainError("level must be low, medium or high", code="invalid_query")
    return key, level, _int_query(request, "limit", 100, 1, 5000) or 100


@routes.get("/api/churn/risk")
@requires(*SUPERVISORS)
async def risk_list(request: web.Request) -> web.Response:
    """Customers at risk, highest first (?level=high, ?key_accounts=1 for key accounts with open cases or high risk)."""
    key, level, limit = _risk_args(request)
    data = await reports.risk_list(
        request.app[DATABASE], _now(request), _service(request).settings, key_accounts=key, min_level=level, limit=limit
    )
    return web.json_response(data)


@routes.get("/api/churn/risk.csv")
@requires(*SUPERVISORS)
async def risk_csv(request: web.Request) -> web.Response:
    """The risk list as CSV, reasons included."""
    key, level, limit = _risk_args(request)
    data = await reports.risk_list(
        request.app[DATABASE], _now(request), _service(request).settings, key_accounts=key, min_level=level, limit=limit
    )
    return _csv(report_output.to_csv(report_output.risk_table(data["items"])), "churn-risk")


@routes.get("/api/customers/{id}/churn-risk")
@requires()
async def customer_risk(request: web.Request) -> web.Response:
    """One customer's churn-risk score with its reasons."""
    customer_id = path_int(request, "id")
    data = await reports.customer_risk(request.app[DATABASE], customer_id, _now(request), _service(request).settings)
    return web.json_response(data)


# ---------------------------------------------------------------- the page


@routes.get("/reports")
@public
async def reports_page(request: web.Request) -> web.StreamResponse:
    """The supervisors' reports page (it logs in through the API)."""
    return web.FileResponse(STATIC / "reports.html", headers={"Cache-Control": "no-cache"})
