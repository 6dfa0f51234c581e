"""The dashboard (indicators and charts per unit) and the comparison of models."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from wangge.core.compare import compare_packs, generate
from wangge.core.compare.charts import all_charts
from wangge.core.scoring import PeriodError

from .. import indicators as ind
from ..auth import in_scope
from ..diagrams import Bar, bar_chart
from .common import forbid, render, signed_in


async def dashboard(request: Request) -> Response:
    p, actor = signed_in(request)
    if actor.is_resident:
        raise forbid("居民账号没有指标看板 (no dashboard for residents)")
    pack = p.pack
    code = request.query_params.get("unit") or actor.unit
    if code is not None and code not in pack.grid.units:
        raise forbid("没有这个网格单元 (no such unit)")
    if not in_scope(pack, actor, code):
        raise forbid("只能查看本人负责的单元及其下级 (unit outside your scope)")
    if code is None and len(pack.grid.roots) == 1:
        code = pack.grid.roots[0]   # one top unit is the county: show it and the level below it
    try:
        period = ind.period_of(request.query_params.get("period"))
    except PeriodError as exc:
        raise HTTPException(400, str(exc)) from exc
    # SQL aggregation, but not free on a large county: off the event loop so other requests keep flowing.
    data = await run_in_threadpool(ind.unit_indicators, p.db, p.slug, pack, code, period)
    charts = []
    for value in data.values:
        kids = data.children.get(value.indicator, [])
        if not kids:
            continue
        is_count = value.denominator is None
        bars = [Bar(v.subject_name, float(v.numerator) if is_count else v.value) for v in kids]
        charts.append(bar_chart(f"{value.name} · 按下级单元", bars, percent=not is_count))
    unit = pack.grid.units.get(code) if code else None
    path = list(reversed(list(pack.grid.ancestors(code)))) if code else []
    return render(request, "dashboard.html", p=p, unit=unit, path=path, values=data.values, charts=charts,
                  more_children=data.more_children, chart_limit=ind.MAX_CHILDREN, period=period, choices=ind.period_choices(),
                  children=[pack.grid.units[c] for c in pack.grid.children.get(code or "", ())])


async def compare(request: Request) -> Response:
    p, actor = signed_in(request)
    if actor.is_resident:
        raise forbid("居民账号没有模式对比 (not for residents)")
    deployment = p.deployment
    others = [(c.slug, deployment.pack(c.slug)) for c in deployment.counties.values()]
    rows = [{"slug": slug, "name": pk.manifest.name, "levels": "/".join(lv.name for lv in pk.grid.levels),
             "units": len(pk.grid.units), "roles": len(pk.grid.roles), "departments": len(pk.departments),
             "duties": len(pk.duties.items), "classes": len(pk.events.subclasses()),
             "workflow": pk.workflow.name if pk.workflow else "—",
             "steps": len(pk.workflow.transitions) if pk.workflow else 0,
             "indicators": "、".join(i.name for i in pk.indicators.values())} for slug, pk in others]
    # CPU-bound for a fraction of a second: off the event loop so other requests keep flowing.
    result = await run_in_threadpool(run_comparison, p.slug, dict(others), request.query_params.getlist("m"))
    return render(request, "compare.html", p=p, rows=rows, result=result)


COMPARE_EVENTS = 2000  # a seeded synthetic stream: small enough to replay per request (~0.3 s for 3 models)


def run_comparison(own: str, packs: dict, chosen: list[str]) -> dict | None:
    """The same comparison as ``wangge compare``, on COMPARE_EVENTS synthetic events drawn from this county's
    pack, for this county and the chosen others (default: the next two). Charts are the report's SVGs."""
    from markupsafe import Markup  # noqa: PLC0415

    slugs = [own] + [s for s in chosen if s in packs and s != own][:5]
    if len(slugs) == 1:
        slugs += [s for s in packs if s != own][:2]
    try:
        scenario = generate(packs[own], COMPARE_EVENTS, seed=1)
        report = compare_packs([packs[s] for s in slugs], scenario.events, workers=1,
                               labels=[packs[s].manifest.name for s in slugs], diff_limit=20)
    except ValueError as exc:  # packs that cannot be compared, a year the calendar lacks …: say why
        return {"error": str(exc), "slugs": slugs}

    data = report.to_json()
    return {"slugs": slugs, "models": data["models"], "diff": data["diff"], "meta": data["meta"],
            "charts": {k: Markup(v) for k, v in all_charts(data["models"]).items()}, "n": COMPARE_EVENTS}
