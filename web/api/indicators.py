"""GET /indicators?unit=&period= — the pack's declared indicators for a unit and a period.

Computed by the portal's indicator module (``wangge.web.indicators``: facts from the case history, the
same figures the dashboard shows) because no scoring engine is installed yet; the answer says which
(``engine``). The period limits cases by when they were reported (上报时间).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from wangge.core.store.tables import cases
from wangge.web import indicators as portal_indicators

from . import schemas
from .auth import denied_unit
from .context import ApiContext
from .errors import invalid
from .handlers import UnicodeJSON, api, subtree
from .intake import in_subtree
from .ports import optional_module
from .spec import ERROR_SCHEMA, Endpoint, Param
from .timefmt import CHINA

SCOPE = "indicators:read"
PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")


def period_bounds(text: str) -> tuple[datetime, datetime]:
    """``2026`` / ``2026-03`` / ``2026-Q1`` → [start, end) in China time."""
    m = PERIOD.match(text)
    if not m:
        raise invalid({"period": f'期间 "{text}" 应写作 2026、2026-03 或 2026-Q1 (year, month or quarter)'})
    year, month, quarter = int(m.group(1)), m.group(2), m.group(3)
    if month:
        mo = int(month)
        if not 1 <= mo <= 12:
            raise invalid({"period": f"月份 {mo} 无效"})
        start, end = date(year, mo, 1), date(year + (mo == 12), mo % 12 + 1, 1)
    elif quarter:
        q = int(quarter)
        start = date(year, 3 * q - 2, 1)
        end = date(year + (q == 4), (3 * q) % 12 + 1, 1)
    else:
        start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return (datetime(start.year, start.month, 1, tzinfo=CHINA), datetime(end.year, end.month, 1, tzinfo=CHINA))


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
        period = request.query_params.get("period") or datetime.now(CHINA).strftime("%Y-%m")
        start, end = period_bounds(period)
        units = subtree(pack, unit) if unit not in pack.grid.roots or len(pack.grid.roots) > 1 else None

        def compute() -> list[Any]:
            facts = portal_indicators.case_facts(db, county.slug, units)
            with db.engine.connect() as conn:
                in_period = set(conn.execute(select(cases.c.id).where(
                    cases.c.tenant == county.slug, cases.c.reported_at >= start, cases.c.reported_at < end)).scalars())
            return portal_indicators.compute(pack.indicators, [f for cid, (_, f) in facts.items() if cid in in_period])

        values = await run_in_threadpool(compute)
        scoring = optional_module("wangge.core.scoring")
        return UnicodeJSON({
            "unit": unit, "unit_name": pack.grid.units[unit].name, "period": period,
            "from": start.isoformat(), "to": end.isoformat(),
            "engine": "web.indicators" + (" (scoring engine present but not used)" if scoring else ""),
            "where_ignored": portal_indicators.has_filters(pack.indicators),  # where: filters not applied yet
            "indicators": [{"id": v.indicator.id, "name": v.indicator.name, "numerator": v.numerator,
                            "denominator": v.denominator, "value": v.ratio, "unit": v.indicator.unit,
                            "explain": portal_indicators.describe(v)} for v in values],
        })

    return [Endpoint(
        "GET", "/indicators", get_indicators, "getIndicators", "指标:按单元和期间 (indicators per unit and period)",
        "indicators", scope=SCOPE,
        params=(Param("unit", "query", {"type": "string"}, "网格单元编码(含下级);默认令牌所限单元或全县"),
                Param("period", "query", {"type": "string", "pattern": PERIOD.pattern}, "期间:2026、2026-03、2026-Q1;默认本月")),
        responses={200: ("指标值", schemas.INDICATORS), 422: ("参数错误", ERROR_SCHEMA)},
    )]
