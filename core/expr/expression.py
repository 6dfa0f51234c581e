"""compile_expression() and the compiled :class:`Expression`."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from .errors import ExprError
from .functions import DEFAULT_FUNCTIONS, FunctionSet
from .js import to_js
from .nodes import Call, Node, Var, walk
from .parser import parse
from .pyeval import as_test, compile_tree, make_clock


@dataclass(frozen=True, eq=False)
class Expression:
    """A compiled expression: parse once, evaluate many times."""
    source: str
    tree: Node = field(repr=False)
    variables: frozenset[str]
    #: names of the functions called (e.g. to see whether a result depends on today()).
    functions_used: frozenset[str]
    _functions: FunctionSet = field(repr=False)
    _value: Callable[..., Any] = field(repr=False)
    _test: Callable[..., bool] = field(repr=False)

    def evaluate(self, env: Mapping[str, Any], *, today: date | None = None, now: datetime | None = None) -> Any:
        """The value for the variables in ``env``; today()/now() use ``today``/``now`` or the system clock."""
        return self._value(env, make_clock(today, now) if today is not None or now is not None else None)

    def test(self, env: Mapping[str, Any], *, today: date | None = None, now: datetime | None = None) -> bool:
        """Whether the value is true (null, false, 0, '', [] and {} are false)."""
        return self._test(env, make_clock(today, now) if today is not None or now is not None else None)

    @cached_property
    def _js(self) -> str:
        return to_js(self.tree, self._functions, self.source)

    def to_js(self) -> str:
        """A JavaScript expression valid as ``function (v, W) { return <it>; }``; see js.py."""
        return self._js


def compile_expression(source: str, functions: FunctionSet | None = None) -> Expression:
    """Parse and check ``source``; raises :class:`ExprError` (with a column) for any mistake."""
    if not isinstance(source, str):
        raise TypeError("expression source must be a str")
    fset = DEFAULT_FUNCTIONS if functions is None else DEFAULT_FUNCTIONS.extended(functions)
    try:
        return _compiled(parse(source, fset.arities()), source, fset)
    except ExprError as exc:
        raise exc if exc.source == source else exc.with_source(source) from None


def subexpression(expression: Expression, node: Node) -> Expression:
    """A part of a compiled expression (e.g. one clause of an ``and``) as an expression of its own, without
    parsing again; its source is the part printed back."""
    from .printer import unparse  # noqa: PLC0415  (printer imports this module's siblings only)

    return _compiled(node, unparse(node), expression._functions)


def _compiled(tree: Node, source: str, fset: FunctionSet) -> Expression:
    variables, called = set(), set()
    for node in walk(tree):
        if isinstance(node, Var):
            variables.add(node.name)
        elif isinstance(node, Call):
            called.add(node.name)
            check = fset[node.name].check
            if check is not None:
                check(node.args, source)
    value, is_bool = compile_tree(tree, fset)
    return Expression(source, tree, frozenset(variables), frozenset(called), fset, value, as_test(value, is_bool))
