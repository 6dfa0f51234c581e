"""The syntax tree. Positions are kept for error messages but ignored by equality."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

Scalar = Union[None, bool, int, float, str]

#: Binary operators by precedence level (higher binds tighter); `and`/`or`/`not` are levels 1–3.
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "not in"})
ADDITIVE = frozenset({"+", "-"})
MULTIPLICATIVE = frozenset({"*", "/", "%"})


@dataclass(frozen=True)
class Node:
    column: int = field(default=0, compare=False, repr=False, kw_only=True)
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def _set_depth(self, *children: "Node") -> None:
        # Stored once so the parser can bound nesting without walking the tree recursively.
        object.__setattr__(self, "depth", 1 + max((c.depth for c in children), default=0))


@dataclass(frozen=True)
class Literal(Node):
    value: Scalar


@dataclass(frozen=True)
class ListNode(Node):
    items: tuple[Node, ...]

    def __post_init__(self) -> None:
        self._set_depth(*self.items)


@dataclass(frozen=True)
class Var(Node):
    """``${name}`` (possibly dotted for nested mappings) or ``.`` for the current field."""
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "not" or "-"
    operand: Node

    def __post_init__(self) -> None:
        self._set_depth(self.operand)


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node

    def __post_init__(self) -> None:
        self._set_depth(self.left, self.right)


@dataclass(frozen=True)
class Logical(Node):
    """``and`` / ``or`` over two or more operands; always yields a boolean."""
    op: str
    operands: tuple[Node, ...]

    def __post_init__(self) -> None:
        self._set_depth(*self.operands)


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def __post_init__(self) -> None:
        self._set_depth(*self.args)


def walk(node: Node):
    """All nodes of a tree, parents first (iterative: trees are depth-bounded but this stays cheap)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, ListNode):
            stack.extend(reversed(n.items))
        elif isinstance(n, Unary):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack.extend((n.right, n.left))
        elif isinstance(n, Logical):
            stack.extend(reversed(n.operands))
        elif isinstance(n, Call):
            stack.extend(reversed(n.args))
