"""``indicators:`` — declarations of numerator/denominator over case facts (computed by scoring)."""
from __future__ import annotations

from typing import Any

from ...expr import ExprError, compile_expression
from ..context import Context, entries
from ..model import FactCount, Indicator

FACTS = ("reported", "accepted", "registered", "dispatched", "handled", "closed", "due", "closed_on_time",
         "reworked", "overdue", "escalated", "visited", "satisfied")


def compile_indicators(raw: Any, ctx: Context) -> dict[str, Indicator]:
    indicators: dict[str, Indicator] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("indicators", i)
        if not ctx.unique(seen, entry["id"], path, "指标"):
            continue
        what = f'指标 "{entry["id"]}"'
        name = ctx.require(entry, "name", path, what)
        numerator = ctx.require(entry, "numerator", path, what)
        denominator = ctx.require(entry, "denominator", path, what)
        if numerator is None or denominator is None:
            continue
        indicators[entry["id"]] = Indicator(
            entry["id"], name or entry["id"], _fact(numerator, (*path, "numerator"), ctx),
            _fact(denominator, (*path, "denominator"), ctx), entry.get("unit", "percent"), entry.get("name_en", ""))
    return indicators


def _fact(raw: dict, path: tuple, ctx: Context) -> FactCount:
    where = raw.get("where")
    if not where:
        return FactCount(raw["fact"])
    try:
        return FactCount(raw["fact"], compile_expression(where), where)
    except ExprError as exc:
        ctx.problem("BAD_EXPRESSION", (*path, "where"), f"过滤表达式错误: {exc}", f"表达式: {where}")
        return FactCount(raw["fact"], None, where)
