"""GET /indicators?unit=&period= — the pack's declared indicators for a unit and a period.

Computed by the scoring engine (``wangge.core.scoring.compute_indicators``): in SQL over ``case_facts``, with
the pack's ``where:`` filters and the granted appeals applied. Facts fall in a period by their own time (a
step when it happened, 应结案 / 按期结案 by the handle deadline), and each value states the definition it used.
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from wangge.core.scoring import (
    PeriodError,
    compute_indicators,
    current_period,
    parse_period,
)

from . import schemas
from .auth import denied_unit
from .context import ApiContext
from .errors import invalid
from .handlers import UnicodeJSON, api
from .intake import in_subtree
from .spec import ERROR_SCHEMA, Endpoint, Param

SCOPE = "indicators:read"
ENGINE = "wangge.core.scoring"
# The engine's grammar (parse_period): month, quarter, year, or a custom range of days.
PERIOD_PATTERN = r"^\d{4}(-(\d{2}|Q[1-4]))?$|^\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}$"


def endpoints(ctx: ApiContext) -> list[Endpoint]:
    db = ctx.database

    @api
    async def get_indicators(request: Request) -> Response:
        county = ctx.county(request)
        principal = await ctx.principal(request, county, SCOPE)
        pack = ctx.pack(county.slug)
        unit = request.query_params.get("unit") or principal.unit or pack.grid.roots[0]
        if unit not in pack.grid.units:
            raise invalid({"unit": f'网格单元 "{unit}" 不存在 (unknown unit)'})
        if principal.unit and not in_subtree(pack, unit, principal.unit):
            raise denied_unit(principal, unit)
        text = request.query_params.get("period")
        try:
            period = parse_period(text) if text else current_period("month")
        except PeriodError as exc:
            raise invalid({"period": str(exc)}) from exc
        values = await run_in_threadpool(compute_indicators, db, county.slug, pack, period, [unit])
        return UnicodeJSON({
            "unit": unit, "unit_name": pack.grid.units[unit].name, "period": period.label,
            "from": period.start.isoformat(), "to": period.end.isoformat(), "engine": ENGINE,
            "indicators": [{"id": v.indicator, "name": v.name, "numerator": v.numerator,
                            "denominator": v.denominator, "value": v.value, "unit": v.unit,
                            "display": v.display(), "definition": v.definition} for v in values],
        })

    return [Endpoint(
        "GET", "/indicators", get_indicators, "getIndicators", "指标:按单元和期间 (indicators per unit and period)",
        "indicators", scope=SCOPE,
        params=(Param("unit", "query", {"type": "string"}, "网格单元编码(含下级);默认令牌所限单元或全县"),
                Param("period", "query", {"type": "string", "pattern": PERIOD_PATTERN},
                      "期间:2026-03(月)、2026-Q1(季)、2026(年)、2026-03-01..2026-03-15;默认本月")),
        responses={200: ("指标值", schemas.INDICATORS), 422: ("参数错误", ERROR_SCHEMA)},
    )]
