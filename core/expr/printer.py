"""Syntax tree → source text that parses back to the same tree, with only the parentheses needed."""
from __future__ import annotations

from decimal import Decimal

from .nodes import ADDITIVE, COMPARISONS, Binary, Call, ListNode, Literal, Logical, Node, Unary, Var

_LEVEL = {"or": 1, "and": 2, "not": 3, **{op: 4 for op in COMPARISONS}, **{op: 5 for op in ADDITIVE},
          "*": 6, "/": 6, "%": 6, "-u": 7}
_ATOM = 8
_ESCAPED_AFTER_BACKSLASH = set("\\'\"ntr")


def quote(text: str) -> str:
    """A single-quoted literal; a backslash is doubled only where it would otherwise start an escape."""
    out = ["'"]
    for i, ch in enumerate(text):
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            out.append("\\\\" if nxt == "" or nxt in _ESCAPED_AFTER_BACKSLASH else "\\")
        elif ch == "'":
            out.append("\\'")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


def number(x: int | float) -> str:
    if type(x) is int:
        return str(x)
    text = format(Decimal(repr(x)), "f")  # the grammar has no exponent notation
    return text if "." in text else text + ".0"


def unparse(node: Node) -> str:
    return _print(node)[0]


def _print(node: Node) -> tuple[str, int]:
    """→ (text, precedence level of the text)."""
    if isinstance(node, Literal):
        v = node.value
        if v is None:
            return "null", _ATOM
        if v is True or v is False:
            return ("true" if v else "false"), _ATOM
        if isinstance(v, str):
            return quote(v), _ATOM
        text = number(v)
        return text, (_LEVEL["-u"] if text.startswith("-") else _ATOM)
    if isinstance(node, Var):
        return ("." if node.name == "." else "${" + node.name + "}"), _ATOM
    if isinstance(node, ListNode):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]", _ATOM
    if isinstance(node, Call):
        return f"{node.name}(" + ", ".join(unparse(a) for a in node.args) + ")", _ATOM
    if isinstance(node, Unary):
        if node.op == "not":
            # "not (a > 3)" reads better than "not a > 3", so anything but an atom gets parentheses
            return "not " + _at_least(node.operand, _ATOM), _LEVEL["not"]
        operand = node.operand
        if isinstance(operand, Literal) and not isinstance(operand.value, (str, bool)) and operand.value is not None:
            return f"-({unparse(operand)})", _LEVEL["-u"]  # "-5" would parse as the literal -5
        text = _at_least(operand, _LEVEL["-u"])
        return "-" + (" " + text if text.startswith("-") else text), _LEVEL["-u"]
    if isinstance(node, Logical):
        level = _LEVEL[node.op]
        return f" {node.op} ".join(_at_least(o, level + 1) for o in node.operands), level
    if isinstance(node, Binary):
        level = _LEVEL[node.op]
        # comparisons do not chain and + - * / % are left-associative, so the right side binds tighter
        left = _at_least(node.left, level + 1 if level == 4 else level)
        right = _at_least(node.right, level + 1)
        return f"{left} {node.op} {right}", level
    raise TypeError(f"unknown node {node!r}")  # pragma: no cover


def _at_least(node: Node, level: int) -> str:
    text, own = _print(node)
    return text if own >= level else f"({text})"
