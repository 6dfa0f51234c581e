"""Compile a syntax tree once into a tree of Python closures ``f(env, clock) -> value``.

No source text is ever evaluated: each node becomes a small closure over its children. Common shapes
(a variable compared with a constant, ``in`` a constant list, two or three ``and``-ed tests) get
fused closures because they make up most pack conditions and function calls dominate the cost.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from . import values as V
from .functions import DEFAULT_FUNCTIONS, Clock, FunctionSet
from .nodes import Binary, Call, ListNode, Literal, Logical, Node, Unary, Var
from .regex import translate

Compiled = Callable[[Mapping[str, Any], "Clock | None"], Any]

_PLAIN = V.PLAIN_TYPES
_NUMS = V.NUMBER_TYPES
_normalise = V.normalise
_truthy = V.truthy


def make_clock(today: date | None, now: datetime | None) -> Clock | None:
    """None means "ask the system clock when needed"; a fixed day without a time means its midnight."""
    if today is None and now is None:
        return None
    if now is None:
        now = datetime.combine(today, time())  # type: ignore[arg-type]
    return Clock(today if today is not None else now.date(), now)


def system_clock(clock: Clock | None) -> Clock:
    return clock if clock is not None else make_clock(None, datetime.now())  # type: ignore[return-value]


def compile_tree(node: Node, functions: FunctionSet) -> tuple[Compiled, bool]:
    """→ (closure, whether it always returns a bool)."""
    return _Compiler(functions).compile(node)


def as_test(fn: Compiled, is_bool: bool) -> Callable[[Mapping[str, Any], Clock | None], bool]:
    if is_bool:
        return fn
    return lambda env, clk: _truthy(fn(env, clk))


def _constant(node: Node) -> tuple[bool, Any]:
    if isinstance(node, Literal):
        return True, node.value
    if isinstance(node, ListNode) and all(isinstance(i, Literal) for i in node.items):
        return True, tuple(i.value for i in node.items)  # type: ignore[attr-defined]
    return False, None


def _reader(name: str) -> Compiled:
    if "." in name and name != ".":
        head, *rest = name.split(".")

        def read_path(env, clk):
            x = env.get(head)
            for key in rest:
                if not isinstance(x, Mapping):
                    return None
                x = x.get(key)
            return x if x.__class__ in _PLAIN else _normalise(x)
        return read_path

    def read(env, clk):
        x = env.get(name)
        return x if x.__class__ in _PLAIN else _normalise(x)
    return read


_GENERIC = {"==": V.eq, "!=": lambda a, b: not V.eq(a, b), "<": V.lt, "<=": V.le, ">": V.gt, ">=": V.ge,
            "in": V.member, "not in": lambda a, b: not V.member(a, b),
            "+": V.add, "-": V.sub, "*": V.mul, "/": V.div, "%": V.mod}
_BOOL_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}



def conjunction(tests: Sequence[Compiled]) -> Compiled:
    """All of ``tests`` (short-circuit, in order). Unrolled for two and three because this is the hot path
    of every multi-clause condition; also used by the router's compiled rules."""
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda env, clk: a(env, clk) and b(env, clk)
    if len(tests) == 3:
        a, b, c = tests
        return lambda env, clk: a(env, clk) and b(env, clk) and c(env, clk)
    all_tests = tuple(tests)
    return lambda env, clk: all(t(env, clk) for t in all_tests)

class _Compiler:
    def __init__(self, functions: FunctionSet) -> None:
        self.functions = functions

    def compile(self, node: Node) -> tuple[Compiled, bool]:
        if isinstance(node, Literal):
            value = node.value
            return (lambda env, clk: value), value.__class__ is bool
        if isinstance(node, Var):
            return _reader(node.name), False
        if isinstance(node, ListNode):
            is_const, const = _constant(node)
            if is_const:
                return (lambda env, clk: list(const)), False
            items = tuple(self.compile(i)[0] for i in node.items)
            return (lambda env, clk: [f(env, clk) for f in items]), False
        if isinstance(node, Unary):
            operand, is_bool = self.compile(node.operand)
            if node.op == "not":
                if is_bool:
                    return (lambda env, clk: not operand(env, clk)), True
                return (lambda env, clk: not _truthy(operand(env, clk))), True
            return (lambda env, clk: V.neg(operand(env, clk))), False
        if isinstance(node, Logical):
            return self.logical(node), True
        if isinstance(node, Binary):
            return self.binary(node), node.op in _BOOL_OPS
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def logical(self, node: Logical) -> Compiled:
        tests = [as_test(*self.compile(o)) for o in node.operands]
        if node.op == "and":
            return conjunction(tests)
        if len(tests) == 2:
            a, b = tests
            return lambda env, clk: a(env, clk) or b(env, clk)
        any_tests = tuple(tests)
        return lambda env, clk: any(t(env, clk) for t in any_tests)

    def binary(self, node: Binary) -> Compiled:
        op = node.op
        left_const, lvalue = _constant(node.left)
        right_const, rvalue = _constant(node.right)
        if right_const and not left_const:
            fused = self.against_constant(op, self.compile(node.left)[0], rvalue)
            if fused is not None:
                return fused
        if left_const and not right_const and op in _FLIP:
            fused = self.against_constant(_FLIP[op], self.compile(node.right)[0], lvalue)
            if fused is not None:
                return fused
        left, right = self.compile(node.left)[0], self.compile(node.right)[0]
        fn = _GENERIC[op]
        return lambda env, clk: fn(left(env, clk), right(env, clk))

    @staticmethod
    def against_constant(op: str, get: Compiled, c: Any) -> Compiled | None:
        """``x op c`` for a constant c, with the type rules decided once instead of per evaluation."""
        cls = c.__class__
        if op in ("==", "!="):
            want = op == "=="
            if cls is str:
                return lambda env, clk: (get(env, clk) == c) is want
            if c is None or cls is bool:
                return lambda env, clk: (get(env, clk) is c) is want
            if cls in _NUMS:
                def eq_number(env, clk):
                    x = get(env, clk)
                    return (x.__class__ in _NUMS and x == c) is want
                return eq_number
            return None
        if op in _ORDER:
            compare = _ORDER[op]
            if cls in _NUMS:
                def order_number(env, clk):
                    x = get(env, clk)
                    return x.__class__ in _NUMS and compare(x, c)
                return order_number
            if cls is str:
                def order_text(env, clk):
                    x = get(env, clk)
                    return x.__class__ is str and compare(x, c)
                return order_text
            return (lambda env, clk: False) if c is None or cls is bool or cls is tuple else None
        if op in ("in", "not in") and cls is tuple:
            want = op == "in"
            if all(i.__class__ is str for i in c):
                texts = frozenset(c)
                return lambda env, clk: ((x := get(env, clk)).__class__ is str and x in texts) is want
            if all(i.__class__ in _NUMS for i in c):
                numbers = frozenset(c)
                return lambda env, clk: ((x := get(env, clk)).__class__ in _NUMS and x in numbers) is want
        return None

    def call(self, node: Call) -> tuple[Compiled, bool]:
        fn = self.functions[node.name]
        builtin = DEFAULT_FUNCTIONS.get(node.name) is fn
        if builtin and node.name == "if":
            cond = as_test(*self.compile(node.args[0]))
            (then, then_bool), (other, other_bool) = self.compile(node.args[1]), self.compile(node.args[2])
            return (lambda env, clk: then(env, clk) if cond(env, clk) else other(env, clk)), then_bool and other_bool
        if builtin and node.name == "regex":
            text = self.compile(node.args[0])[0]
            matcher = translate(node.args[1].value).python.fullmatch  # type: ignore[attr-defined]
            return (lambda env, clk: (s := text(env, clk)).__class__ is str and matcher(s) is not None), True
        impl, returns_bool = fn.impl, builtin and fn.returns_bool  # a caller's function is not trusted to return bools
        args = tuple(self.compile(a)[0] for a in node.args)
        if fn.clock:
            return (lambda env, clk: impl(system_clock(clk), *[a(env, clk) for a in args])), returns_bool
        if len(args) == 1:
            (a,) = args
            return (lambda env, clk: impl(a(env, clk))), returns_bool
        if len(args) == 2:
            a, b = args
            return (lambda env, clk: impl(a(env, clk), b(env, clk))), returns_bool
        return (lambda env, clk: impl(*[a(env, clk) for a in args])), returns_bool
