"""wangge's one safe expression language (see docs/expressions.md).

    >>> e = compile_expression("${people} >= 5 and ${category} in ['矛盾纠纷', '群体性事件']")
    >>> e.test({"people": 6, "category": "矛盾纠纷"})
    True

Conditions in packs (form relevant/constraint/calculation/required, routing, scoring filters,
indicator ``where:``) are compiled once to Python closures and, for browsers, to JavaScript over
:data:`JS_RUNTIME` with the same results.
"""
from .errors import ExprError
from .expression import Expression, compile_expression
from .functions import DEFAULT_FUNCTIONS, Clock, Function, FunctionSet
from .js import JS_RUNTIME
from .printer import unparse

__all__ = ["DEFAULT_FUNCTIONS", "JS_RUNTIME", "Clock", "ExprError", "Expression", "Function", "FunctionSet",
           "compile_expression", "unparse"]
