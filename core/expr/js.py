"""Compile a syntax tree to one JavaScript expression over the runtime ``W`` and a getter ``v``.

The result is valid as ``function (v, W) { return <expr>; }``: ``v(name)`` returns the top-level value
of a variable (``undefined`` when missing), ``W`` is :data:`JS_RUNTIME`'s object (or ``W.at(day, time)``
for a fixed clock). Every operator goes through a ``W`` helper so JavaScript's coercions never apply.
"""
from __future__ import annotations

import json
import re
from importlib.resources import files

from .errors import ExprError
from .functions import DEFAULT_FUNCTIONS, FunctionSet
from .nodes import Binary, Call, ListNode, Literal, Logical, Node, Unary, Var
from .regex import translate


def _load_runtime() -> str:
    # The file stays readable; what ships to browsers drops indentation and comments (< 6 KB).
    text = files(__package__).joinpath("runtime.js").read_text(encoding="utf-8")
    lines = (re.sub(r"\s+// .*$", "", line.strip()) for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


#: The JavaScript source defining ``var W`` — the helpers compiled expressions call.
JS_RUNTIME: str = _load_runtime()

_OPS = {"==": "W.eq", "!=": "W.ne", "<": "W.lt", "<=": "W.le", ">": "W.gt", ">=": "W.ge", "in": "W.in",
        "+": "W.add", "-": "W.sub", "*": "W.mul", "/": "W.div", "%": "W.mod"}


def js_string(s: str) -> str:
    # ASCII-only output: safe in any page encoding, and U+2028/2029 cannot end an ES2017 string early.
    return json.dumps(s, ensure_ascii=True)


def js_number(x: int | float) -> str:
    text = str(x) if type(x) is int else repr(x)
    return f"({text})" if text.startswith("-") else text


def to_js(node: Node, functions: FunctionSet, source: str) -> str:
    return _JsCompiler(functions, source).emit(node)[0]


class _JsCompiler:
    def __init__(self, functions: FunctionSet, source: str) -> None:
        self.functions = functions
        self.source = source

    def test(self, node: Node) -> str:
        code, is_bool = self.emit(node)
        return code if is_bool else f"W.t({code})"

    def emit(self, node: Node) -> tuple[str, bool]:
        """→ (JavaScript expression, whether it is always a boolean)."""
        if isinstance(node, Literal):
            v = node.value
            if v is None:
                return "null", False
            if v is True or v is False:
                return ("true" if v else "false"), True
            if isinstance(v, str):
                return js_string(v), False
            return js_number(v), False
        if isinstance(node, Var):
            head, *rest = [node.name] if node.name == "." else node.name.split(".")
            if rest:
                return f"W.path(v({js_string(head)}), [{', '.join(map(js_string, rest))}])", False
            return f"W.n(v({js_string(head)}))", False
        if isinstance(node, ListNode):
            return "[" + ", ".join(self.emit(i)[0] for i in node.items) + "]", False
        if isinstance(node, Unary):
            if node.op == "not":
                return f"!{self.test(node.operand)}", True
            return f"W.neg({self.emit(node.operand)[0]})", False
        if isinstance(node, Logical):
            joiner = " && " if node.op == "and" else " || "
            return "(" + joiner.join(self.test(o) for o in node.operands) + ")", True
        if isinstance(node, Binary):
            left, right = self.emit(node.left)[0], self.emit(node.right)[0]
            if node.op == "not in":
                return f"!W.in({left}, {right})", True
            return f"{_OPS[node.op]}({left}, {right})", node.op not in ("+", "-", "*", "/", "%")
        if isinstance(node, Call):
            return self.call(node)
        raise TypeError(f"unknown node {node!r}")  # pragma: no cover

    def call(self, node: Call) -> tuple[str, bool]:
        fn = self.functions[node.name]
        builtin = DEFAULT_FUNCTIONS.get(node.name) is fn
        if builtin and node.name == "if":
            cond = self.test(node.args[0])
            (then, then_bool), (other, other_bool) = self.emit(node.args[1]), self.emit(node.args[2])
            return f"({cond} ? {then} : {other})", then_bool and other_bool
        args = [self.emit(a)[0] for a in node.args]
        if builtin and node.name == "regex":
            pattern = translate(node.args[1].value).js  # type: ignore[attr-defined]
            return f"W.regex({args[0]}, {js_string(pattern)})", True
        callee = fn.js_callee
        if callee is None:
            raise ExprError(f"函数 {node.name} 没有 JavaScript 实现,不能在浏览器中计算",
                            f"function {node.name} has no JavaScript implementation", node.column, self.source)
        if fn.clock:
            args.insert(0, "W")
        return f"{callee}({', '.join(args)})", builtin and fn.returns_bool
