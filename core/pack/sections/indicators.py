"""``indicators:`` — declarations of numerator/denominator over case facts (computed by ``core/scoring``).

Indicators are computed in SQL over stored facts, so a ``where:`` filter may use only what SQL can see:
fields of the case (:data:`WHERE_FIELDS`), literals, comparisons, ``in`` lists, ``and``/``or``/``not``.
Anything else is refused at load with BAD_EXPRESSION and the column, never evaluated differently later.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...expr import ExprError, Expression
from ...expr.nodes import (
    COMPARISONS,
    Binary,
    ListNode,
    Literal,
    Logical,
    Node,
    Unary,
    Var,
)
from ..context import Context, entries
from ..model import FactCount, Indicator

# Facts recorded by workflow steps, plus the ones derived from the 应结案 row (due, due_closed,
# closed_on_time, overdue — see core/scoring/facts.py).
FACTS = ("reported", "accepted", "registered", "dispatched", "handled", "closed", "due", "due_closed",
         "closed_on_time", "reworked", "overdue", "escalated", "visited", "satisfied", "returned", "extended",
         "handed_off", "summoned", "disputed")
DERIVED = ("due", "due_closed", "closed_on_time", "overdue")
# Facts that can happen more than once to a case and are counted per occurrence by default.
EVENT_FACTS = frozenset({"reworked", "returned", "extended", "handed_off", "summoned", "escalated", "handled"})

# Case fields a ``where:`` may use: the first group is copied onto every fact row, the second is read from
# the case row as it is now (a join, so filtering on them costs more).
FACT_FIELDS = ("unit_code", "handler_unit", "lead", "actor", "reporter", "event_class", "ref_class", "channel",
               "zone")
CASE_FIELDS = ("state", "level", "priority", "supervised", "external_id")
WHERE_FIELDS = FACT_FIELDS + CASE_FIELDS


def sql_problem(node: Node) -> tuple[int, str] | None:
    """(column, message) of the first part of an expression tree that cannot be translated to SQL."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Literal):
            continue
        if isinstance(n, Var):
            if n.name not in WHERE_FIELDS:
                return n.column, f'字段 "{n.name}" 不能用于指标过滤(可用: {", ".join(WHERE_FIELDS)})'
        elif isinstance(n, ListNode):
            if not all(isinstance(i, Literal) for i in n.items):
                return n.column, "列表中只能写常量"
        elif isinstance(n, Unary) and n.op == "not":
            stack.append(n.operand)
        elif isinstance(n, Logical):
            stack.extend(n.operands)
        elif isinstance(n, Binary) and n.op in COMPARISONS:
            if n.op in ("in", "not in") and not isinstance(n.right, ListNode):
                return n.column, f'"{n.op}" 右边须是常量列表'
            odd = next((side for side in (n.left, n.right) if not isinstance(side, (Var, Literal, ListNode))), None)
            if odd is not None:
                stack.append(odd)  # report the part that is not a field or a constant, at its own column
                continue
            if not (isinstance(n.left, Var) and isinstance(n.right, (Literal, ListNode))) and \
                    not (isinstance(n.right, Var) and isinstance(n.left, Literal)):
                return n.column, "比较须是 字段 与 常量 之间"
            stack.extend((n.left, n.right))
        else:
            return n.column, "过滤表达式只支持 字段比较、in 列表、and/or/not(需在数据库中计算)"
    return None


def compile_where(source: Any, path: tuple, ctx: Context) -> Expression | None:
    """Compile a ``where:`` and check it translates to SQL; BAD_EXPRESSION with the column otherwise."""
    try:
        expr = ctx.expression(str(source))
    except ExprError as exc:
        ctx.problem("BAD_EXPRESSION", path, f"过滤表达式错误: {exc}", f"表达式: {source}{ctx.plugin_hint(exc)}")
        return None
    problem = sql_problem(expr.tree)
    if problem is not None:
        column, message = problem
        ctx.problem("BAD_EXPRESSION", path, f"过滤表达式第 {column} 列: {message}", f"表达式: {source}")
        return None
    return expr


def fact_count(raw: dict, path: tuple, ctx: Context) -> FactCount:
    fact = str(raw.get("fact", ""))
    count = raw.get("count") or ("events" if fact in EVENT_FACTS else "cases")
    where = raw.get("where")
    if not where:
        return FactCount(fact, None, "", count)
    return FactCount(fact, compile_where(where, (*path, "where"), ctx), str(where), count)


def compile_indicators(raw: Any, ctx: Context, extra: Mapping[str, Any] | None = None) -> dict[str, Indicator]:
    """The pack's ``indicators:``, then those contributed by the plugins it enables (``extra``:
    ``wangge.core.hooks.ExtraIndicator`` by id) — compiled by the same rules, so computed the same way.
    A declared indicator with the same id as a plugin's wins: the county overrides."""
    indicators: dict[str, Indicator] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("indicators", i)
        if not ctx.unique(seen, entry["id"], path, "指标"):
            continue
        _indicator(entry, path, ctx, indicators)
    for ind_id, extra_indicator in (extra or {}).items():
        if ind_id in indicators:
            continue
        try:
            entry = extra_indicator.as_entry()
        except Exception as exc:  # noqa: BLE001 — a plugin's broken declaration is a pack problem, not a crash
            ctx.problem("SCHEMA", ("plugins",), f'插件提供的指标 "{ind_id}" 无效: {exc}', "")
            continue
        _indicator(entry, ("plugins",), ctx, indicators, f'插件提供的指标 "{ind_id}"')
    return indicators


def _indicator(entry: dict, path: tuple, ctx: Context, indicators: dict[str, Indicator], what: str = "") -> None:
    what = what or f'指标 "{entry["id"]}"'
    name = ctx.require(entry, "name", path, what)
    unit = entry.get("unit", "percent")
    numerator = ctx.require(entry, "numerator", path, what)
    # A count (上报数, 回访数) has no denominator; a rate must have one.
    denominator = entry.get("denominator") if unit == "count" else ctx.require(entry, "denominator", path, what)
    if numerator is None or (denominator is None and unit != "count"):
        return
    if path[0] == "plugins":
        for part in (numerator, denominator):
            fact = part.get("fact") if isinstance(part, Mapping) else None
            if part is not None and fact not in FACTS:
                ctx.problem("SCHEMA", path, f'{what} 引用了未知的事实 "{fact}"', "可用: " + ", ".join(FACTS))
                return
    indicators[entry["id"]] = Indicator(
        entry["id"], name or entry["id"], fact_count(numerator, (*path, "numerator"), ctx),
        fact_count(denominator, (*path, "denominator"), ctx) if denominator else None, unit,
        entry.get("name_en", ""), str(entry.get("description", "")))
