"""The small public rating page an email's CSAT link opens: pick 1-5, add a comment, send."""
from __future__ import annotations

import html
from typing import Any, cast

from aiohttp import web
from sqlalchemy import Table, select

from hub.customers.csat import LABELS, MAX_COMMENT, SCORES, Rating
from hub.customers.keys import CUSTOMERS
from hub.domain import DomainError
from hub.http import read_json
from hub.storage.customer_tables import CsatRequest

csat = cast(Table, CsatRequest.__table__)
routes = web.RouteTableDef()

_TEXT = {
    "en": {"title": "Rate our help", "comment": "Anything you would like to add? (optional)", "send": "Send",
           "thanks": "Thank you for your feedback!", "you_rated": "Your rating: {score} of 5.",
           "missing": "This rating link is not known.", "expired": "This rating link has expired.",
           "choose": "Please choose a score from 1 to 5.", "too_long": "The comment is too long."},
    "zh": {"title": "服务评价", "comment": "还有什么想告诉我们的吗？（选填）", "send": "提交",
           "thanks": "感谢您的反馈！", "you_rated": "您的评分：{score} / 5。",
           "missing": "无法识别此评价链接。", "expired": "此评价链接已过期。",
           "choose": "请选择 1 到 5 分。", "too_long": "意见内容过长。"},
}
_STYLE = (
    "body{font:16px/1.5 system-ui,-apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;max-width:32rem;"
    "margin:2rem auto;padding:0 1rem;color:#1f2328}fieldset{border:0;padding:0;margin:1rem 0}"
    "label.score{display:block;padding:.4rem .6rem;border:1px solid #d0d7de;border-radius:8px;margin:.3rem 0}"
    "textarea{width:100%;min-height:6rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.4rem;"
    "background:#1f6feb;color:#fff;border:0;border-radius:8px;font:inherit}.error{color:#cf222e}"
)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _page(language: str, body: str, status: int = 200) -> web.Response:
    title = html.escape(_TEXT[language]["title"])
    document = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
    return web.Response(text=document, content_type="text/html", status=status, headers=HEADERS)


def form_html(language: str, question: str, *, chosen: int | None, comment: str | None, error: str | None) -> str:
    """The rating form; `chosen` preselects a score (from ?score= or an earlier rating)."""
    text = _TEXT[language]
    options = "".join(
        f'<label class="score"><input type="radio" name="score" value="{score}"'
        f'{" checked" if score == chosen else ""} required> {score} · {html.escape(label)}</label>'
        for score, label in zip(SCORES, LABELS[language], strict=True)
    )
    problem = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return (
        f"<p>{html.escape(question)}</p>{problem}<form method=\"post\"><fieldset>{options}</fieldset>"
        f"<label>{html.escape(text['comment'])}<br><textarea name=\"comment\" maxlength=\"{MAX_COMMENT}\">"
        f"{html.escape(comment or '')}</textarea></label><br><button type=\"submit\">{html.escape(text['send'])}"
        "</button></form>"
    )


def _wants_json(request: web.Request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


async def _request_row(request: web.Request) -> Any:
    token = request.match_info["token"][:64]
    async with request.app[CUSTOMERS].db.read() as conn:
        return (await conn.execute(select(csat).where(csat.c.token == token))).first()


def _problem(request: web.Request, language: str, status: int, code: str, key: str) -> web.Response:
    if _wants_json(request):
        return web.json_response({"error": code, "message": _TEXT["en"][key]}, status=status)
    return _page(language, f'<p class="error">{html.escape(_TEXT[language][key])}</p>', status)


def _score(raw: Any) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if raw in SCORES else None
    if isinstance(raw, str) and raw.strip() in {str(s) for s in SCORES}:
        return int(raw.strip())
    return None


@routes.get("/csat/{token}")
async def rating_page(request: web.Request) -> web.StreamResponse:
    """Show the rating form for a question that was asked (preselecting ?score=N from the email's links)."""
    row = await _request_row(request)
    service = request.app[CUSTOMERS]
    if row is None or row.state not in ("asked", "answered"):
        return _problem(request, "en", 404, "not_found", "missing")
    language = row.language or "en"
    if row.expires_at is None or row.expires_at <= service.clock():
        return _problem(request, language, 410, "rating_expired", "expired")
    chosen = _score(request.query.get("score")) or row.score
    question = service.settings.csat_questions[language]
    return _page(language, form_html(language, question, chosen=chosen, comment=row.comment, error=None))


@routes.post("/csat/{token}")
async def rate(request: web.Request) -> web.StreamResponse:
    """Record a rating from the form (or JSON {"score", "comment"})."""
    row = await _request_row(request)
    service = request.app[CUSTOMERS]
    if row is None or row.state not in ("asked", "answered"):
        return _problem(request, "en", 404, "not_found", "missing")
    language = row.language or "en"
    if request.content_type == "application/json":
        data: Any = await read_json(request, max_bytes=16_384)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        data = await request.post()
    else:
        raise DomainError("send the rating as a form or as application/json", code="unsupported_media_type",
                          status=415)
    score = _score(data.get("score"))
    comment_raw = data.get("comment")
    comment = comment_raw.strip() if isinstance(comment_raw, str) else None
    question = service.settings.csat_questions[language]
    for bad, code, key in ((score is None, "invalid_score", "choose"),
                           (comment is not None and len(comment) > MAX_COMMENT, "too_long", "too_long")):
        if bad:
            if _wants_json(request):
                return web.json_response({"error": code, "message": _TEXT["en"][key]}, status=400)
            body = form_html(language, question, chosen=score, comment=comment, error=_TEXT[language][key])
            return _page(language, body, 400)
    assert score is not None
    try:
        await service.csat.rate_by_page(row.token, Rating(score, comment or None))
    except DomainError as error:
        if error.status == 410:
            return _problem(request, language, 410, "rating_expired", "expired")
        raise
    if _wants_json(request):
        return web.json_response({"rating": {"score": score, "comment": comment or None}})
    text = _TEXT[language]
    return _page(
        language, f"<p>{html.escape(text['thanks'])}</p><p>{html.escape(text['you_rated'].format(score=score))}</p>"
    )
