"""考核: the scores page (every point explained, rankings only when the pack enables them, appeals and
anti-gaming flags) and filing / withdrawing an appeal from a case page."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wangge.core.scoring import AppealError, PeriodError, current_period, parse_period

from .. import appeals, indicators, scores
from ..auth import in_scope
from .cases import load_case
from .common import forbid, render, signed_in


async def scores_page(request: Request) -> Response:
    p, actor = signed_in(request)
    how = scores.access(actor)
    if how is None:
        raise forbid("考核得分只对管理员、网格长、指挥中心和网格员(本网格)开放 (not for your role)")
    pack = p.pack
    unit = request.query_params.get("unit") or None
    if unit is not None and (unit not in pack.grid.units or not in_scope(pack, actor, unit)
                             or (how == "own" and unit != actor.unit)):
        raise forbid("只能查看本人负责的单元及其下级 (unit outside your scope)")
    text = (request.query_params.get("period") or "").strip()
    try:
        # the pack's own assessment period (scoring.period) is the default, e.g. a quarter
        period = parse_period(text) if text else current_period(pack.scoring.period if pack.scoring else "month")
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from exc
    try:
        page = max(1, int(request.query_params.get("page") or 1))
    except ValueError:
        page = 1
    data = await run_in_threadpool(scores.scores_page, p.db, p.slug, pack, actor, period, unit, page)
    children = [pack.grid.units[c] for c in pack.grid.children.get(unit or actor.unit or "", ())] if how == "scope" else []
    return render(request, "scores.html", p=p, data=data, period=period, unit=pack.grid.units.get(unit or ""),
                  children=children, scoring=pack.scoring, max_links=scores.MAX_CASE_LINKS,
                  max_flags=scores.MAX_FLAGS,
                  choices=indicators.period_choices(), page=page,
                  page_size=scores.PAGE_SIZE)


def _admin_case(request: Request):  # type: ignore[no-untyped-def]
    p, actor = signed_in(request)
    if not actor.is_admin:
        raise forbid("只有管理员(政法委)可以处理申诉 (admins only)")
    return p, actor, load_case(p, actor, request.path_params["case_id"])


async def file_appeal(request: Request) -> Response:
    p, actor, case = _admin_case(request)
    form = appeals.read_form(await request.form())
    try:
        await run_in_threadpool(appeals.file, p.db, p.slug, case.id, actor, form)
    except AppealError as exc:
        return render(request, "error.html", p=p, status=400, status_code=400, message=str(exc),
                      back=p.url(f"cases/{case.id}#appeals"))
    return RedirectResponse(p.url(f"cases/{case.id}?appeal=filed#appeals"), status_code=303)


async def withdraw_appeal(request: Request) -> Response:
    p, actor, case = _admin_case(request)
    form = await request.form()
    try:
        await run_in_threadpool(appeals.withdraw, p.db, p.slug, case.id, request.path_params["appeal_id"], actor,
                                str(form.get("reason", "")))
    except AppealError as exc:
        return render(request, "error.html", p=p, status=400, status_code=400, message=str(exc),
                      back=p.url(f"cases/{case.id}#appeals"))
    return RedirectResponse(p.url(f"cases/{case.id}?appeal=withdrawn#appeals"), status_code=303)
