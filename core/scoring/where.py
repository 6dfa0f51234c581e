"""A pack ``where:`` filter as a SQL condition. Load time already refused what cannot be translated
(``core/pack/sections/indicators.py:sql_problem``); here each comparison is made null-safe so SQL gives the
same answer as the expression language (``${lead} != 'x'`` is true when lead is null, as in Python)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement

from ..expr.nodes import Binary, ListNode, Literal, Logical, Node, Unary, Var
from ..pack.sections.indicators import CASE_FIELDS

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def uses_case_row(node: Node) -> bool:
    """Whether the filter reads a field kept only on the case row (so the query joins ``cases``)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Var) and n.name in CASE_FIELDS:
            return True
        stack.extend(getattr(n, "operands", ()) or ())
        for attr in ("operand", "left", "right"):
            if hasattr(n, attr):
                stack.append(getattr(n, attr))
    return False


def to_sql(node: Node, column: Callable[[str], Any]) -> ColumnElement:
    if isinstance(node, Logical):
        parts = [to_sql(o, column) for o in node.operands]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Unary):
        return not_(to_sql(node.operand, column))
    if isinstance(node, Literal):
        return true() if node.value else false()
    if isinstance(node, Var):
        return column(node.name).isnot(None)   # a bare field tests "has a value"
    assert isinstance(node, Binary)
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Literal):
        left, right, op = right, left, _FLIP[op]
    col = column(left.name)  # type: ignore[union-attr]
    if isinstance(right, ListNode):
        values = [i.value for i in right.items]  # type: ignore[union-attr]
        inside = and_(col.isnot(None), col.in_([v for v in values if v is not None]))
        if None in values:
            inside = or_(inside, col.is_(None))
        return inside if op == "in" else not_(inside)
    value = right.value  # type: ignore[union-attr]
    if value is None:
        return col.is_(None) if op == "==" else col.isnot(None) if op == "!=" else false()
    if op == "==":
        return and_(col.isnot(None), col == value)
    if op == "!=":
        return or_(col.is_(None), col != value)
    compare = {"<": col < value, "<=": col <= value, ">": col > value, ">=": col >= value}[op]
    return and_(col.isnot(None), compare)
