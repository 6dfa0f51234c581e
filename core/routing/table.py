"""One decision table compiled for speed: a small decision tree over closed fields, then residual tests.

Most routing rules test closed fields with equality (``class == x``, ``urgency in [...]``, ``channel == y``).
At load we split the rule list on the field most rules test that way: for every value of the field we keep
only the rules that can match it, in order, with that conjunct removed (it is known true). Buckets that are
still long are split again on the next field. A decision then costs a few dict lookups plus the residual
tests of the few candidate rules. For FIRST a bucket stops at its first rule without residual tests: no
later rule can be reached. Bucket membership is computed by evaluating each conjunct's own compiled closure
on the value, so the index can never disagree with the expression language.

A value outside the field's known domain (an event from another pack, a bench dict) falls back to the
node's rules with all their tests, so the result is always exact.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..expr.expression import Expression
from ..expr.nodes import Binary, ListNode, Literal, Var
from ..expr.pyeval import conjunction
from ..pack.sections.routing import RoutingTable, Vocabulary

Test = Callable[[Mapping[str, Any], Any], bool]
#: Fields with a closed, known domain; only these are indexed.
INDEXABLE = ("class", "major", "ref_class", "ref_major", "channel", "ref_channel", "level", "zone", "urgency")
LEAF_SIZE = 1  # a bucket this short is scanned, not split again
MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Candidate:
    index: int  # the rule's position in its table
    test: Test | None  # residual conjuncts (None: always true here)


class Split:
    """An inner node: the bucket for ``env[field]``, or ``fallback`` for values outside the domain."""

    __slots__ = ("field", "children", "fallback")

    def __init__(self, field: str, children: dict[Any, Any], fallback: tuple[Candidate, ...]) -> None:
        self.field = field
        self.children = children
        self.fallback = fallback


#: Fields whose type Router.fields guarantees (str or None / int): their comparisons with constants can skip
#: the expression language's general type checks and still give the same answer.
STR_FIELDS = frozenset({"class", "major", "ref_class", "ref_major", "channel", "ref_channel", "level", "zone",
                        "urgency", "unit", "id", "reporter_role"})
INT_FIELDS = frozenset({"people", "hour", "weekday"})
_INT_OPS = {">=": int.__ge__, ">": int.__gt__, "<=": int.__le__, "<": int.__lt__}


def _fast(expr: Expression) -> Test | None:
    """A fused closure for ``${f} op const`` on a typed field (same result as the expression; no layers)."""
    tree = expr.tree
    if not (isinstance(tree, Binary) and isinstance(tree.left, Var)):
        return None
    f, op, right = tree.left.name, tree.op, tree.right
    if f in STR_FIELDS:
        if isinstance(right, Literal) and isinstance(right.value, str):
            c = right.value
            if op == "==":
                return lambda env, clk: env.get(f) == c
            if op == "!=":
                return lambda env, clk: env.get(f) != c
        if isinstance(right, ListNode) and all(isinstance(i, Literal) and isinstance(i.value, str) for i in right.items):
            values = frozenset(i.value for i in right.items)  # type: ignore[attr-defined]
            if op == "in":
                return lambda env, clk: env.get(f) in values
            if op == "not in":
                return lambda env, clk: env.get(f) not in values
    if f in INT_FIELDS and op in _INT_OPS and isinstance(right, Literal) and right.value.__class__ is int:
        c, cmp = right.value, _INT_OPS[op]
        return lambda env, clk: (x := env.get(f)).__class__ is int and cmp(x, c)
    return None


def _test_of(expr: Expression) -> Test:
    fast = _fast(expr)
    if fast is not None:
        return fast
    # The compiled closure itself (env, clock) -> bool: calling Expression.test adds a layer per rule.
    return getattr(expr, "_test", None) or (lambda env, clk: expr.test(env))


def _combine(tests: list[Test]) -> Test | None:
    return conjunction(tests) if tests else None


def _indexed_field(expr: Expression) -> str | None:
    """The field of ``${f} == 'text'`` / ``${f} in ['text', …]`` on an indexable field, else None."""
    tree = expr.tree
    if (isinstance(tree, Binary) and tree.op in ("==", "in") and isinstance(tree.left, Var)
            and tree.left.name in INDEXABLE
            and ((isinstance(tree.right, Literal) and isinstance(tree.right.value, str))
                 or (isinstance(tree.right, ListNode)
                     and all(isinstance(i, Literal) and isinstance(i.value, str) for i in tree.right.items)))):
        return tree.left.name
    return None


def _constants(expr: Expression) -> frozenset[str]:
    right = expr.tree.right  # type: ignore[attr-defined]
    return frozenset([right.value] if isinstance(right, Literal) else [i.value for i in right.items])


def _direct(node: Any) -> Any:
    if isinstance(node, Split):
        return Split(node.field, {k: _direct(v) for k, v in node.children.items()}, _direct(node.fallback))
    if not node:
        return -1
    return node[0].index if node[0].test is None else node


@dataclass
class _Pending:
    """A rule while the tree is built: the conjuncts not yet known true."""

    index: int
    conjuncts: tuple[Expression, ...]


class CompiledTable:
    def __init__(self, table: RoutingTable, vocab: Vocabulary) -> None:
        self.table = table
        self.hit = table.hit
        self.first = table.hit == "first"
        self._vocab = vocab
        pending = [_Pending(i, rule.condition.conjuncts) for i, rule in enumerate(table.rules)]
        # computed once per conjunct: the tree build asks for every conjunct at every split
        self._field_of = {id(c): _indexed_field(c) for p in pending for c in p.conjuncts}
        self._values = {id(c): _constants(c) for p in pending for c in p.conjuncts if self._field_of[id(c)]}
        self._tests: dict[tuple[int, ...], Test | None] = {}
        self.root = self._build(pending, 0)
        # FIRST: a leaf whose first candidate is unconditional (or that is empty) is its answer — store the int
        self.first_root = _direct(self.root) if self.first else self.root

    # -- building ----------------------------------------------------------------------------------
    def _leaf(self, pending: list[_Pending]) -> tuple[Candidate, ...]:
        out = []
        for p in pending:
            key = tuple(id(c) for c in p.conjuncts)
            test = self._tests.get(key)
            if key not in self._tests:
                test = self._tests[key] = _combine([_test_of(c) for c in p.conjuncts])
            out.append(Candidate(p.index, test))
            if test is None and self.first:
                break  # nothing after an unconditional rule is reachable under FIRST
        return tuple(out)

    def _build(self, pending: list[_Pending], depth: int) -> Split | tuple[Candidate, ...]:
        if len(pending) <= LEAF_SIZE or depth >= MAX_DEPTH:
            return self._leaf(pending)
        counts: dict[str, int] = {}
        for p in pending:
            for f in {self._field_of[id(c)] for c in p.conjuncts} - {None}:
                counts[f] = counts.get(f, 0) + 1  # type: ignore[index]
        if not counts:
            return self._leaf(pending)
        field = max(counts, key=lambda f: (counts[f], -INDEXABLE.index(f)))
        if counts[field] < 2:
            return self._leaf(pending)
        # Only ==/in with text constants are indexed, so a value no rule names behaves exactly like any
        # other unnamed value (inside the field's domain or not): they all share the ``fallback`` node.
        named: dict[str, list[_Pending]] = {}
        others: list[_Pending] = []
        for p in pending:
            on_field = [c for c in p.conjuncts if self._field_of[id(c)] == field]
            if not on_field:
                others.append(p)
                for bucket in named.values():
                    bucket.append(p)
                continue
            accepted = frozenset.intersection(*(self._values[id(c)] for c in on_field))
            rest = _Pending(p.index, tuple(c for c in p.conjuncts if self._field_of[id(c)] != field))
            for value in accepted:
                if value not in named:
                    named[value] = list(others)  # rules seen so far without a test on this field, in order
                named[value].append(rest)
        children = {v: self._build(bucket, depth + 1) for v, bucket in named.items()}
        return Split(field, children, self._build(others, depth + 1) if len(others) < len(pending) else self._leaf(others))

    # -- evaluating --------------------------------------------------------------------------------
    def candidates(self, env: Mapping[str, Any]) -> tuple[Candidate, ...]:
        node = self.root
        while node.__class__ is Split:
            node = node.children.get(env.get(node.field), node.fallback)
        return node  # type: ignore[return-value]

    def first_match(self, env: Mapping[str, Any]) -> int:
        """The index of the first matching rule, or -1 (the FIRST policy's whole job)."""
        node = self.first_root
        while node.__class__ is Split:
            node = node.children.get(env.get(node.field), node.fallback)
        if node.__class__ is int:
            return node  # type: ignore[return-value]
        for cand in node:  # type: ignore[union-attr]
            test = cand.test
            if test is None or test(env, None):
                return cand.index
        return -1

    def all_matches(self, env: Mapping[str, Any]) -> list[int]:
        return [c.index for c in self.candidates(env) if c.test is None or c.test(env, None)]

    def matches(self, env: Mapping[str, Any]) -> list[int]:
        """Matched rule indexes in table order; for FIRST at most one."""
        if self.first:
            i = self.first_match(env)
            return [i] if i >= 0 else []
        return self.all_matches(env)

    def stats(self) -> dict[str, int]:
        """Leaves and the longest candidate list (for the bench and for tuning)."""
        leaves, longest, stack = 0, 0, [self.root]
        while stack:
            node = stack.pop()
            if isinstance(node, Split):
                stack.extend(node.children.values())
                stack.append(node.fallback)
            else:
                leaves += 1
                longest = max(longest, len(node))
        return {"leaves": leaves, "longest": longest}
