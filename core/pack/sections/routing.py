"""``routing:`` — decision tables (DMN hit policies), targets on the grid ladder, cross-event patterns.

This module only validates and compiles the section into immutable objects; the fast path that evaluates
them is :mod:`wangge.core.routing`. Every reference (level, department, role, class, channel, unit) is
checked here so a pack that loads can always be routed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ...expr.errors import ExprError
from ...expr.expression import Expression, compile_expression, subexpression
from ...expr.nodes import Binary, ListNode, Literal, Logical, Node, Var, walk
from ...expr.printer import number, quote
from ...timelimit import TimeLimit, TimeLimitError, TimeUnit, parse_time_limit
from ..context import Context, did_you_mean, entries
from ..model import Grid

HIT_POLICIES = ("first", "unique", "priority", "any", "collect")
AGGREGATES = ("max", "min", "sum")
URGENCIES = ("normal", "urgent", "emergency")
ROLE_KINDS = ("worker", "leader", "guide", "auxiliary", "secretary", "police", "command_center", "official",
              "volunteer", "other")
#: What a rule's ``route.*`` variables may read: the decision as built by the tables before it.
ROUTE_FIELDS = ("level", "unit", "lead", "priority", "state")
#: Single-valued outputs; a COLLECT table may not set them (several rules would disagree).
SCALAR_OUTPUTS = ("level", "unit", "lead", "time_limit", "state")
#: durable-rules limits (docs: /work/shared/notes/dependencies.md). 512 distinct values tested on one field
#: already makes every post fail, 513 hangs set_rulesets; more than 64 rules matching one event fails.
DURABLE_MAX_VALUES = 511
DURABLE_MAX_MATCHING = 64
MAX_PATTERNS = 256
MAX_RULES_PER_TABLE = 5000  # keeps load and index build bounded; far above any county's needs
_COMPARISON = re.compile(r"^\s*(>=|<=|!=|==|>|<)\s*(.+?)\s*$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class LevelRef:
    """A place on the grid ladder, relative to the event's unit.

    kind: ``level`` (the ancestor at a level), ``up`` (n levels above the reporting unit), ``reporting``
    (the reporting unit itself), ``handling`` (the handling unit decided so far), ``code`` (a fixed unit).
    """

    kind: str
    value: str | int | None = None

    def __str__(self) -> str:
        return {"level": f"{self.value}", "up": f"上{self.value}级", "reporting": "上报单元",
                "handling": "处置单元", "code": f"{self.value}"}[self.kind]


@dataclass(frozen=True)
class Target:
    """Who receives: a department (by id), a role at a unit, roles of a kind at a unit, or a unit itself."""

    kind: str  # department | role | role_kind | unit
    id: str = ""
    at: LevelRef | None = None


@dataclass(frozen=True)
class Outcome:
    """The ``then:`` of a rule (or the defaults). None / () means "not set by this rule"."""

    level: LevelRef | None = None
    unit: LevelRef | None = None
    lead: Target | None = None
    assist: tuple[Target, ...] = ()
    notify: tuple[Target, ...] = ()
    time_limit: TimeLimit | None = None
    priority: int | None = None
    state: str | None = None


@dataclass(frozen=True)
class Condition:
    """A rule's condition as ``and``-ed conjuncts (each a compiled expression); no conjuncts = always."""

    source: str
    conjuncts: tuple[Expression, ...] = ()

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(v for c in self.conjuncts for v in c.variables)


@dataclass(frozen=True)
class RoutingRule:
    id: str
    name: str
    condition: Condition
    then: Outcome


@dataclass(frozen=True)
class RoutingTable:
    id: str
    name: str
    hit: str
    rules: tuple[RoutingRule, ...]
    inputs: tuple[str, ...] = ()
    priority_output: str = "priority"  # PRIORITY: the output that ranks matches
    priority_order: tuple[str, ...] = ()  # its values, highest first (empty: numeric, higher wins)
    aggregate: str = "max"  # COLLECT: how matched priorities combine


@dataclass(frozen=True)
class GroupKey:
    """A pattern's grouping: an event field, or the ancestor of the event's unit at a level."""

    field: str = ""
    ancestor: str = ""

    def __str__(self) -> str:
        return f"{self.ancestor} 单元" if self.ancestor else self.field


@dataclass(frozen=True)
class PatternAction:
    raise_to: LevelRef | None = None
    merge: bool = False
    notify: tuple[Target, ...] = ()
    priority: int | None = None
    lead: Target | None = None


@dataclass(frozen=True)
class Pattern:
    """N events matching ``condition`` with the same ``group_by`` values within ``window`` → ``then``."""

    id: str
    name: str
    condition: Condition
    group_by: tuple[GroupKey, ...]
    window: TimeLimit
    threshold: int
    then: PatternAction
    distinct: str = ""  # count distinct values of this field (e.g. unit: 群体性 signal across grids)


@dataclass(frozen=True)
class Routing:
    defaults: Outcome = Outcome()
    tables: tuple[RoutingTable, ...] = ()
    patterns: tuple[Pattern, ...] = ()

    @property
    def rule_count(self) -> int:
        return sum(len(t.rules) for t in self.tables)


@dataclass(frozen=True)
class Vocabulary:
    """What a routing section may refer to, taken from the sections compiled before it."""

    grid: Grid
    departments: frozenset[str]
    classes: frozenset[str]
    majors: frozenset[str]
    ref_classes: frozenset[str]
    ref_majors: frozenset[str]
    channels: frozenset[str]
    ref_channels: frozenset[str]

    @property
    def levels(self) -> list[str]:
        return [lv.id for lv in self.grid.levels]

    @cached_property
    def _domains(self) -> dict[str, frozenset[str]]:
        # Built once: checking 1,000 rules must not rescan the grid for zones per literal.
        return {
            "class": self.classes, "major": self.majors, "ref_class": self.ref_classes, "ref_major": self.ref_majors,
            "channel": self.channels, "ref_channel": self.ref_channels, "level": frozenset(self.levels),
            "urgency": frozenset(URGENCIES),
            "zone": frozenset({u.zone for u in self.grid.units.values() if u.zone}) or frozenset("ABC"),
        }

    def domain(self, field: str) -> frozenset[str] | None:
        """The closed set of values a field can take (None for open fields such as people or form data)."""
        return self._domains.get(field)


def make_vocabulary(grid: Grid, departments: Any, events: Any, channels: Any, reference: Any) -> Vocabulary:
    """The vocabulary from compiled sections (``events`` a Classification, ``reference`` a Reference)."""
    ref = reference.classification.classes
    return Vocabulary(
        grid, frozenset(departments), frozenset(events.classes),
        frozenset(c.id for c in events.classes.values() if c.parent is None), frozenset(ref),
        frozenset(c.id for c in ref.values() if c.parent is None), frozenset(channels),
        frozenset(reference.channels))


_UNKNOWN_CODE = {"class": "UNKNOWN_CLASS", "major": "UNKNOWN_CLASS", "ref_class": "UNKNOWN_CLASS",
                 "ref_major": "UNKNOWN_CLASS", "channel": "UNKNOWN_CHANNEL", "ref_channel": "UNKNOWN_CHANNEL",
                 "level": "UNKNOWN_LEVEL", "urgency": "SCHEMA", "zone": "SCHEMA"}


def compile_routing(raw: Any, vocab: Vocabulary, ctx: Context, states: Any = None) -> Routing | None:
    """``states``: the workflow's state ids when the pack has a workflow (a rule's ``state`` must be one)."""
    if not isinstance(raw, dict):
        return None
    compiler = _Compiler(vocab, ctx, frozenset(states) if states is not None else None)
    defaults = compiler.outcome(raw.get("defaults") or {}, ("routing", "defaults"), collect=False)
    tables, seen = [], {}
    for t, entry in entries(raw.get("tables")):
        path = ("routing", "tables", t)
        if ctx.unique(seen, entry["id"], path, "决策表"):
            tables.append(compiler.table(entry, path))
    patterns, seen_p = [], {}
    for p, entry in entries(raw.get("patterns")):
        path = ("routing", "patterns", p)
        if ctx.unique(seen_p, entry["id"], path, "跨事件规则"):
            pattern = compiler.pattern(entry, path)
            if pattern is not None:
                patterns.append(pattern)
    if len(patterns) > MAX_PATTERNS:
        ctx.problem("DURABLE_LIMIT", ("routing", "patterns"),
                    f"跨事件规则 {len(patterns)} 条,超过上限 {MAX_PATTERNS} (too many patterns)", "请合并相近的规则")
    return Routing(defaults, tuple(tables), tuple(patterns))


class _Compiler:
    def __init__(self, vocab: Vocabulary, ctx: Context, states: frozenset[str] | None) -> None:
        self.states = states
        self.vocab = vocab
        self.ctx = ctx
        self.roles = {r.id: r for r in vocab.grid.roles}

    # -- tables ------------------------------------------------------------------------------------
    def table(self, entry: dict, path: tuple) -> RoutingTable:
        hit = str(entry.get("hit", "first")).lower()
        inputs = tuple(entry.get("inputs") or ())
        rules, seen = [], {}
        for r, rule in entries(entry.get("rules")):
            rpath = (*path, "rules", r)
            rule_id = str(rule.get("id", f"r{r + 1}"))
            if not self.ctx.unique(seen, rule_id, rpath, "规则 id"):
                continue
            condition = self.condition(rule.get("when"), (*rpath, "when"), inputs)
            then = self.outcome(rule.get("then") or {}, (*rpath, "then"), collect=hit == "collect")
            rules.append(RoutingRule(rule_id, str(rule.get("name", rule_id)), condition, then))
        if len(rules) > MAX_RULES_PER_TABLE:
            self.ctx.problem("DURABLE_LIMIT", (*path, "rules"),
                             f"决策表有 {len(rules)} 条规则,超过上限 {MAX_RULES_PER_TABLE}", "请拆分决策表")
        order = entry.get("priority_order") or {}
        priority_output = str(order.get("output", "priority")) if isinstance(order, dict) else "priority"
        priority_values = tuple(str(v) for v in (order.get("values") or ())) if isinstance(order, dict) else ()
        if hit == "priority":
            self._check_priority_order(priority_output, priority_values, rules, (*path, "priority_order"))
        return RoutingTable(entry["id"], str(entry.get("name", entry["id"])), hit, tuple(rules), inputs,
                            priority_output, priority_values, str(entry.get("aggregate", "max")))

    def _check_priority_order(self, output: str, values: tuple[str, ...], rules: list[RoutingRule],
                              path: tuple) -> None:
        if output == "priority" and not values:
            return
        if output not in ("level", "state", "priority"):
            self.ctx.problem("SCHEMA", path, f'PRIORITY 表的排序输出 "{output}" 不可用', "可用: priority, level, state")
            return
        if output == "level":
            for v in values:
                if v not in self.vocab.levels:
                    self.ctx.problem("UNKNOWN_LEVEL", path, f'排序值引用了未声明的层级 "{v}"', did_you_mean(v, self.vocab.levels))
        for rule in rules:
            value = getattr(rule.then, output)
            shown = value.value if isinstance(value, LevelRef) else value
            if shown is not None and values and str(shown) not in values:
                self.ctx.problem("SCHEMA", path, f'规则 "{rule.id}" 的 {output} "{shown}" 不在排序列表中',
                                 "PRIORITY 表的每个输出值都要列在 priority_order.values 中")

    # -- conditions --------------------------------------------------------------------------------
    def condition(self, raw: Any, path: tuple, inputs: tuple[str, ...] = ()) -> Condition:
        if raw is None or raw is True or raw == "" or raw == {}:
            return Condition("true")
        if isinstance(raw, dict):
            source = self._columns(raw, path, inputs)
            if source is None:
                return Condition("false", (compile_expression("false"),))
        elif isinstance(raw, str):
            source = raw
        else:
            self.ctx.problem("SCHEMA", path, "when: 应为表达式文本或 {字段: 条件} 映射", "例如 when: {urgency: emergency}")
            return Condition("false", (compile_expression("false"),))
        try:
            expression = self.ctx.expression(source)
        except ExprError as exc:
            self.ctx.problem("BAD_EXPRESSION", path, f"条件表达式错误: {exc}",
                             f"表达式: {source}{self.ctx.plugin_hint(exc)}")
            return Condition(source, (compile_expression("false"),))
        self._check_literals(expression.tree, path)
        self._check_route_vars(expression, path)
        tree = expression.tree
        parts = tree.operands if isinstance(tree, Logical) and tree.op == "and" else (tree,)
        conjuncts = tuple(subexpression(expression, p) for p in parts) if len(parts) > 1 else (expression,)
        return Condition(source, conjuncts)

    def _columns(self, raw: dict, path: tuple, inputs: tuple[str, ...]) -> str | None:
        """DMN-style column conditions → one expression (the only semantics there is)."""
        parts = []
        for field_name, test in raw.items():
            fpath = (*path, field_name)
            if field_name == "expr":
                parts.append(f"({test})")
                continue
            if inputs and field_name not in inputs:
                self.ctx.problem("SCHEMA", fpath, f'列 "{field_name}" 不在决策表的输入列 inputs 中',
                                 did_you_mean(field_name, list(inputs)))
                return None
            part = _column(field_name, test)
            if part is None:
                self.ctx.problem("SCHEMA", fpath, f'列条件 {test!r} 无法识别',
                                 '可写: 值、[值, …]、{not: [值, …]}、">= 50"、"!= x"、"-"(任意)')
                return None
            if part:
                parts.append(part)
        return " and ".join(parts) if parts else "true"

    def _check_literals(self, tree: Node, path: tuple) -> None:
        """Values compared with closed fields (class, channel, level …) must exist in the pack."""
        for node in walk(tree):
            if not (isinstance(node, Binary) and isinstance(node.left, Var) and node.op in ("==", "!=", "in", "not in")):
                continue
            domain = self.vocab.domain(node.left.name)
            if domain is None:
                continue
            values = [node.right] if isinstance(node.right, Literal) else (
                list(node.right.items) if isinstance(node.right, ListNode) else [])
            for item in values:
                if isinstance(item, Literal) and item.value not in domain:
                    name = node.left.name
                    self.ctx.problem(_UNKNOWN_CODE[name], path, f'条件中 {name} 的值 "{item.value}" 不存在于规则包',
                                     did_you_mean(str(item.value), sorted(domain)))

    def _check_route_vars(self, expression: Expression, path: tuple) -> None:
        for var in expression.variables:
            if var.startswith("route.") and var[6:] not in ROUTE_FIELDS:
                self.ctx.problem("SCHEMA", path, f'变量 ${{{var}}} 不存在', "可用: " + ", ".join(f"route.{f}" for f in ROUTE_FIELDS))

    # -- outcomes and targets ------------------------------------------------------------------------
    def outcome(self, raw: Any, path: tuple, collect: bool) -> Outcome:
        if not isinstance(raw, dict):
            return Outcome()
        if collect:
            for key in SCALAR_OUTPUTS:
                if key in raw:
                    self.ctx.problem("SCHEMA", (*path, key), f"COLLECT 表只能输出 assist、notify、priority,不能输出 {key}",
                                     "单值输出请放在 first/unique/priority/any 表中")
        level = self.place(raw.get("level"), (*path, "level"), allow_code=False) if "level" in raw else None
        unit = self.place(raw.get("unit"), (*path, "unit"), allow_code=True) if "unit" in raw else None
        lead = self.target(raw["lead"], (*path, "lead")) if raw.get("lead") is not None else None
        assist = tuple(t for i, item in enumerate(_as_list(raw.get("assist")))
                       if (t := self.target(item, (*path, "assist", i))) is not None)
        notify = tuple(t for i, item in enumerate(_as_list(raw.get("notify")))
                       if (t := self.target(item, (*path, "notify", i))) is not None)
        time_limit = None
        if raw.get("time_limit") is not None:
            try:
                time_limit = parse_time_limit(raw["time_limit"])
            except TimeLimitError as exc:
                self.ctx.problem(exc.code, (*path, "time_limit"), exc.message, exc.hint)
        priority = raw.get("priority")
        state = raw.get("state")
        if state is not None and self.states is not None and str(state) not in self.states:
            self.ctx.problem("UNKNOWN_STATE", (*path, "state"), f'引用了工作流程中未声明的状态 "{state}"',
                             did_you_mean(str(state), sorted(self.states)))
        return Outcome(level, unit, lead, assist, notify, time_limit,
                       priority if isinstance(priority, int) and not isinstance(priority, bool) else None,
                       str(state) if state is not None else None)

    def place(self, raw: Any, path: tuple, allow_code: bool) -> LevelRef | None:
        if isinstance(raw, str):
            if raw in ("reporting", "handling"):
                return LevelRef(raw)
            if raw in self.vocab.levels:
                return LevelRef("level", raw)
            if allow_code and raw in self.vocab.grid.units:
                return LevelRef("code", raw)
            code = "UNKNOWN_UNIT" if allow_code and raw[:1].isdigit() else "UNKNOWN_LEVEL"
            self.ctx.problem(code, path, f'引用了未声明的{"单元" if code == "UNKNOWN_UNIT" else "层级"} "{raw}"',
                             did_you_mean(raw, [*self.vocab.levels, "reporting", "handling"]))
            return None
        if isinstance(raw, dict) and "ancestor" in raw:
            return self.place(str(raw["ancestor"]), (*path, "ancestor"), allow_code=False)
        if isinstance(raw, dict) and isinstance(raw.get("up"), int) and raw["up"] >= 0:
            return LevelRef("up", raw["up"])
        self.ctx.problem("SCHEMA", path, f"无法识别的层级/单元 {raw!r}",
                         "可写: 层级 id、{ancestor: 层级}、{up: 1}、reporting、handling 或单元编码")
        return None

    def target(self, raw: Any, path: tuple) -> Target | None:
        if isinstance(raw, str):
            if raw not in self.vocab.departments:
                self.ctx.problem("UNKNOWN_DEPARTMENT", path, f'引用了未声明的部门 "{raw}"',
                                 "角色请写成 {role: id};" + did_you_mean(raw, sorted(self.vocab.departments)))
                return None
            return Target("department", raw)
        if not isinstance(raw, dict):
            self.ctx.problem("SCHEMA", path, f"无法识别的对象 {raw!r}", "可写: 部门 id、{role: id}、{kind: command_center}、{unit: 层级}")
            return None
        at = self.place(raw["at"], (*path, "at"), allow_code=True) if raw.get("at") is not None else None
        if "role" in raw:
            role = self.roles.get(str(raw["role"]))
            if role is None:
                self.ctx.problem("UNKNOWN_ROLE", (*path, "role"), f'引用了未声明的角色 "{raw["role"]}"',
                                 did_you_mean(str(raw["role"]), list(self.roles)))
                return None
            return Target("role", role.id, at)
        if "kind" in raw:
            kind = str(raw["kind"])
            level = at.value if at is not None and at.kind == "level" else None
            matching = [r for r in self.roles.values() if r.kind == kind and (level is None or r.level == level)]
            if not matching:
                where = f"层级 {level} 上" if level else ""
                self.ctx.problem("UNKNOWN_ROLE", (*path, "kind"), f'{where}没有类别为 "{kind}" 的角色',
                                 "已声明: " + ", ".join(sorted({f"{r.kind}@{r.level}" for r in self.roles.values()})))
                return None
            return Target("role_kind", kind, at)
        if "unit" in raw:
            place = self.place(raw["unit"], (*path, "unit"), allow_code=True)
            return Target("unit", "", place) if place is not None else None
        if "department" in raw:
            return self.target(str(raw["department"]), (*path, "department"))
        self.ctx.problem("SCHEMA", path, f"无法识别的对象 {raw!r}", "可写: 部门 id、{role: id}、{kind: command_center}、{unit: 层级}")
        return None

    # -- patterns ----------------------------------------------------------------------------------
    def pattern(self, entry: dict, path: tuple) -> Pattern | None:
        condition = self.condition(entry.get("when"), (*path, "when"))
        keys = []
        for k, item in enumerate(_as_list(entry.get("group_by"))):
            if isinstance(item, dict) and "ancestor" in item:
                if item["ancestor"] not in self.vocab.levels:
                    self.ctx.problem("UNKNOWN_LEVEL", (*path, "group_by", k), f'引用了未声明的层级 "{item["ancestor"]}"',
                                     did_you_mean(str(item["ancestor"]), self.vocab.levels))
                    return None
                keys.append(GroupKey(ancestor=str(item["ancestor"])))
            else:
                keys.append(GroupKey(field=str(item)))
        try:
            window = parse_time_limit(entry.get("window", "7自然日"))
        except TimeLimitError as exc:
            self.ctx.problem(exc.code, (*path, "window"), exc.message, exc.hint)
            return None
        if window.unit not in (TimeUnit.DAYS, TimeUnit.HOURS, TimeUnit.MINUTES):
            self.ctx.problem("BAD_TIME_LIMIT", (*path, "window"), f"时间窗 {window} 须用自然时间(自然日/小时/分钟)",
                             "按工作日计的窗口在夜间和节假日会失真")
            return None
        raw_then = entry.get("then") or {}
        then = PatternAction(
            self.place(raw_then["raise_to"], (*path, "then", "raise_to"), allow_code=False) if raw_then.get("raise_to") else None,
            bool(raw_then.get("merge", False)),
            tuple(t for i, item in enumerate(_as_list(raw_then.get("notify")))
                  if (t := self.target(item, (*path, "then", "notify", i))) is not None),
            raw_then.get("priority") if isinstance(raw_then.get("priority"), int) else None,
            self.target(raw_then["lead"], (*path, "then", "lead")) if raw_then.get("lead") else None)
        threshold = entry.get("count", 3)
        return Pattern(entry["id"], str(entry.get("name", entry["id"])), condition, tuple(keys), window,
                       threshold if isinstance(threshold, int) and threshold >= 1 else 3, then,
                       str(entry.get("distinct", "")))


def _column(name: str, test: Any) -> str | None:
    var = f"${{{name}}}"
    if test is None or test == "-":
        return ""
    if isinstance(test, bool):
        return f"{var} == {'true' if test else 'false'}"
    if isinstance(test, (int, float)):
        return f"{var} == {number(test)}"
    if isinstance(test, list):
        items = [_literal(x) for x in test]
        return None if None in items else f"{var} in [{', '.join(items)}]"  # type: ignore[arg-type]
    if isinstance(test, dict) and set(test) == {"not"}:
        items = [_literal(x) for x in _as_list(test["not"])]
        return None if None in items else f"{var} not in [{', '.join(items)}]"  # type: ignore[arg-type]
    if isinstance(test, str):
        match = _COMPARISON.match(test)
        if match:
            operand = match.group(2)
            literal = operand if _NUMBER.match(operand) else quote(operand.strip("'\""))
            return f"{var} {match.group(1)} {literal}"
        return f"{var} == {quote(test)}"
    return None


def _literal(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        return quote(value)
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
