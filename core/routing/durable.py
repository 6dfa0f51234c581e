"""durable-rules, used safely: a Host without its own threads, rule translation, and its limits.

durable-rules 2.0.28 is not thread-safe and its Host starts two timer threads (dispatch and timers) that
run without locks. :class:`OwnedHost` never starts them: every call is made synchronously by the one
thread that owns the host (see patterns.py), and we use no durable timers. Its limits are checked before a
ruleset is registered, because crossing them hangs or crashes the process instead of raising:
512 distinct values tested on one field (513 hangs ``set_rulesets``), more than 64 rules matching one
message (error 303), 1,024 sessions per ruleset. ``$ex`` (field exists) also hangs ``post`` in 2.0.28
(measured), so translations never emit it.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from durable import engine

from ..expr.nodes import Binary, ListNode, Literal, Logical, Node, Var
from ..pack.sections.routing import DURABLE_MAX_MATCHING, DURABLE_MAX_VALUES, RoutingTable

MAX_SESSIONS = 1024
_OPS = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "!=": "$neq"}


class DurableLimitError(ValueError):
    pass


class Unsupported(ValueError):
    """A rule shape durable-rules cannot express (function calls, arithmetic, ``route.*`` …)."""


class OwnedHost(engine.Host):
    """A Host whose background dispatch/timer threads are never started (we post synchronously)."""

    def _run(self) -> None:  # noqa: D401 - overriding durable's thread starter on purpose
        return None


def check_limits(rules: Mapping[str, Mapping[str, Any]], matching_at_once: int) -> None:
    """Raise DurableLimitError before durable would hang: values per field, rules matching at once."""
    values: dict[str, set[str]] = {}

    def visit(cond: Any) -> None:
        if isinstance(cond, dict):
            for key, val in cond.items():
                if key in ("$and", "$or"):
                    for c in val:
                        visit(c)
                elif key.startswith("$"):
                    visit(val)
                else:
                    values.setdefault(key, set()).add(repr(val))
    for rule in rules.values():
        for part in rule.get("all", ()):
            visit(part.get("m"))
    for field, seen in values.items():
        if len(seen) > DURABLE_MAX_VALUES:
            raise DurableLimitError(f"字段 {field} 上有 {len(seen)} 个不同取值,durable-rules 最多 {DURABLE_MAX_VALUES} 个")
    if matching_at_once > DURABLE_MAX_MATCHING:
        raise DurableLimitError(f"同一条消息可能同时命中 {matching_at_once} 条规则,durable-rules 最多 {DURABLE_MAX_MATCHING} 条")


def condition_of(node: Node) -> dict[str, Any]:
    """One expression tree → a durable ``m`` condition (only comparisons of a field with constants)."""
    if isinstance(node, Literal) and node.value is True:
        return {}
    if isinstance(node, Logical):
        parts = [condition_of(o) for o in node.operands]
        parts = [p for p in parts if p]
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"$and" if node.op == "and" else "$or": parts}
    if isinstance(node, Binary) and isinstance(node.left, Var) and "." not in node.left.name:
        name = node.left.name
        if node.op == "==" and isinstance(node.right, Literal) and node.right.value is not None:
            return {name: node.right.value}
        if node.op in _OPS and isinstance(node.right, Literal) and node.right.value is not None:
            return {_OPS[node.op]: {name: node.right.value}}
        if node.op in ("in", "not in") and isinstance(node.right, ListNode) \
                and all(isinstance(i, Literal) for i in node.right.items):
            items = [i.value for i in node.right.items]  # type: ignore[attr-defined]
            if node.op == "in":
                alts = [{name: v} for v in items]
                return alts[0] if len(alts) == 1 else {"$or": alts}
            return {"$and": [{"$neq": {name: v}} for v in items]}
    raise Unsupported(f"durable-rules cannot express {node!r}")


@dataclass
class FirstMatchOracle:
    """A FIRST table as a durable ruleset: ``pri`` = rule order, so durable's first-match is FIRST."""

    table: RoutingTable
    name: str = "oracle"
    matching_at_once: int | None = None  # a measured bound; default: every rule (safe, strict)

    def __post_init__(self) -> None:
        self._hit: list[int] = []
        rules: dict[str, dict[str, Any]] = {}
        for i, rule in enumerate(self.table.rules):
            conds = [condition_of(c.tree) for c in rule.condition.conjuncts]
            conds = [c for c in conds if c]
            # durable needs some test; people >= -inf stands for "always" (``$ex`` hangs, see above)
            m = (conds[0] if len(conds) == 1 else {"$and": conds}) if conds else {"$gte": {"id_seq": 0}}
            rules[f"r{i}"] = {"pri": i + 1, "all": [{"m": m}], "run": self._recorder(i)}
        check_limits(rules, self.matching_at_once if self.matching_at_once is not None else len(rules))
        self.host = OwnedHost()
        self.host.set_rulesets({self.name: rules})
        self._seq = 0

    def _recorder(self, index: int) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            self._hit.append(index)
        return run

    def first_match(self, env: Mapping[str, Any]) -> int:
        self._seq += 1
        message = {k: v for k, v in env.items() if v is not None and not isinstance(v, (dict, list))}
        message["id"] = f"m{self._seq}"  # unique: identical pending messages would raise MessageObserved
        message["id_seq"] = self._seq
        self._hit.clear()
        try:
            self.host.post(self.name, message)
        except engine.MessageNotHandledException:
            return -1
        return self._hit[0] if self._hit else -1
