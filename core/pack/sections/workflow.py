"""``workflow:`` and ``escalation:`` — the case state machine and the overdue rules (docs/workflow.md).

Compiled into frozen objects that :mod:`wangge.core.workflow` executes. Every reference (state, role,
department, level, form, transition) is checked here so a county finds every mistake at ``wangge check``,
not when a grid worker presses a button.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...timelimit import TimeLimit, TimeLimitError, parse_time_limit
from ..context import Context, did_you_mean, entries
from ..model import Department, Grid

STATE_KINDS = ("initial", "open", "closed", "terminal")
TRANSITION_KINDS = ("normal", "return", "rework", "extend", "handoff", "summon", "report_in", "dispute", "arbitrate")
ROLE_KINDS = ("worker", "leader", "guide", "auxiliary", "secretary", "police", "command_center", "official",
              "volunteer", "other")
# Selectors that name a relation to the case rather than a grid role (see docs/workflow.md).
RELATIONAL = ("department", "assist", "summoned", "reporter", "system", "department:*")
NOTIFY_RELATIONAL = ("lead", "assist", "reporter", "summoned", "handler")
FACTS = ("reported", "accepted", "registered", "dispatched", "handled", "closed", "reworked", "returned",
         "extended", "escalated", "visited", "satisfied", "handed_off", "summoned", "disputed")
EFFECT_KEYS = ("set_level", "assign", "deadline", "stop", "notify", "record", "set_priority")


@dataclass(frozen=True)
class State:
    id: str
    name: str
    kind: str = "open"
    name_en: str = ""
    source: str = "published"

    @property
    def is_open(self) -> bool:
        return self.kind in ("initial", "open")


@dataclass(frozen=True)
class Effect:
    """One effect of a transition. ``op`` is one of EFFECT_KEYS; ``limit`` goes with ``deadline``:
    a TimeLimit, or the words ``decision`` / ``class`` (the routing decision's or the event class's limit)."""

    op: str
    value: Any
    limit: TimeLimit | str | None = None


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    kind: str
    sources: tuple[str, ...]          # ("*",) means any open state
    to: str | None                    # None: stay in the current state
    roles: tuple[str, ...]
    scope: str = "jurisdiction"
    condition: Any = None             # a compiled wangge.core.expr Expression
    condition_source: str = ""
    form: str | None = None
    note_required: bool = False
    effects: tuple[Effect, ...] = ()
    source: str = "published"

    def leaves(self, state: str, open_states: frozenset[str]) -> bool:
        """Whether the transition may start from ``state``."""
        return state in self.sources or ("*" in self.sources and state in open_states)


@dataclass(frozen=True)
class Returns:
    within: TimeLimit | None = None
    reason_required: bool = True
    max: int | None = None


@dataclass(frozen=True)
class Rework:
    max: int | None = None
    limit: TimeLimit | None = None


@dataclass(frozen=True)
class Extension:
    cap: TimeLimit | None = None
    max_times: int | None = None
    default: TimeLimit | None = None


@dataclass(frozen=True)
class Rung:
    id: str
    name: str
    level: str
    department: str | None = None
    roles: tuple[str, ...] = ()
    limit: TimeLimit | None = None


@dataclass(frozen=True)
class Ladder:
    name: str
    rungs: tuple[Rung, ...]

    def index(self, rung_id: str | None) -> int:
        return next((i for i, r in enumerate(self.rungs) if r.id == rung_id), 0)


@dataclass(frozen=True)
class Summons:
    limit: TimeLimit | None = None
    departments: tuple[str, ...] = ()   # empty: any department may be summoned


@dataclass(frozen=True)
class Disputes:
    arbiter: str
    limit: TimeLimit | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    returns: Returns = field(default_factory=Returns)
    rework: Rework = field(default_factory=Rework)
    extension: Extension = field(default_factory=Extension)
    ladder: Ladder | None = None
    summons: Summons = field(default_factory=Summons)
    disputes: Disputes | None = None

    @property
    def initial(self) -> str:
        return next(s.id for s in self.states.values() if s.kind == "initial")

    @property
    def open_states(self) -> frozenset[str]:
        return frozenset(s.id for s in self.states.values() if s.is_open)

    def transition(self, transition_id: str) -> Transition | None:
        return next((t for t in self.transitions if t.id == transition_id), None)


@dataclass(frozen=True)
class EscalationRule:
    id: str
    name: str
    deadline: str = "handle"
    after: TimeLimit | None = None
    states: tuple[str, ...] = ()
    when: Any = None
    when_source: str = ""
    raise_to: str | None = None
    notify: tuple[str, ...] = ()
    supervise: bool = False
    transition: str | None = None
    extend: TimeLimit | None = None

    def matches(self, deadline_kind: str) -> bool:
        """``summons`` matches every ``summons:<dept>`` row; other kinds match exactly."""
        return deadline_kind == self.deadline or deadline_kind.split(":", 1)[0] == self.deadline


def rules_for(rules: tuple[EscalationRule, ...], deadline_kind: str) -> tuple[EscalationRule, ...]:
    """The rules a deadline row walks through, stage by stage, in the order the pack declares them."""
    return tuple(r for r in rules if r.matches(deadline_kind))


# ---------------------------------------------------------------- compiling


@dataclass(frozen=True)
class _Refs:
    """What workflow entries may refer to."""

    levels: tuple[str, ...]
    roles: Mapping[str, str]          # role id -> kind
    departments: tuple[str, ...]
    forms: tuple[str, ...] | None     # None: the pack declares no forms, so form ids are not checked


def _refs(grid: Grid, departments: Mapping[str, Department], forms_raw: Any) -> _Refs:
    forms = None
    if isinstance(forms_raw, list):
        forms = tuple(str(f["id"]) for _, f in entries(forms_raw) if "id" in f)
    return _Refs(tuple(lv.id for lv in grid.levels), MappingProxyType({r.id: r.kind for r in grid.roles}),
                 tuple(departments), forms)


def check_role(selector: str, refs: _Refs, ctx: Context, path: tuple, *, notify: bool = False) -> bool:
    """A role selector (see RELATIONAL); UNKNOWN_ROLE / UNKNOWN_DEPARTMENT when it names nothing."""
    if selector in RELATIONAL or (notify and selector in NOTIFY_RELATIONAL):
        return True
    if selector.startswith("kind:"):
        kind = selector[5:]
        if kind not in ROLE_KINDS:
            ctx.problem("UNKNOWN_ROLE", path, f'未知的角色类别 "{kind}" (unknown role kind)',
                        did_you_mean(kind, ROLE_KINDS))
            return False
        return True
    if selector.startswith("department:"):
        dept = selector.split(":", 1)[1]
        if dept not in refs.departments:
            ctx.problem("UNKNOWN_DEPARTMENT", path, f'引用了未声明的部门 "{dept}"', did_you_mean(dept, refs.departments))
            return False
        return True
    if selector not in refs.roles:
        options = list(refs.roles) + [*RELATIONAL, "kind:<类别>", "department:<部门>"]
        ctx.problem("UNKNOWN_ROLE", path, f'引用了未声明的角色 "{selector}" (unknown role)',
                    did_you_mean(selector, options))
        return False
    return True


def _limit(value: Any, ctx: Context, path: tuple, words: tuple[str, ...] = ()) -> TimeLimit | str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in words:
        return value
    try:
        return parse_time_limit(value)
    except TimeLimitError as exc:
        ctx.problem(exc.code, path, exc.message, exc.hint)
        return None


def _strict_limit(value: Any, ctx: Context, path: tuple) -> TimeLimit | None:
    limit = _limit(value, ctx, path)
    return limit if isinstance(limit, TimeLimit) else None


def _expression(source: Any, ctx: Context, path: tuple, what: str) -> Any:
    if not source:
        return None
    from ...expr import ExprError  # noqa: PLC0415  (expr is a sibling package)

    try:
        return ctx.expression(str(source))
    except ExprError as exc:
        column = getattr(exc, "column", None)
        where = f"第 {column} 列: " if column else ""
        ctx.problem("BAD_EXPRESSION", path, f"{what}表达式错误: {where}{getattr(exc, 'message', exc)}",
                    f"表达式: {source}{ctx.plugin_hint(exc)}")
        return None


def compile_workflow(raw: Any, ctx: Context, grid: Grid, departments: Mapping[str, Department],
                     forms_raw: Any = None) -> Workflow | None:
    if not isinstance(raw, dict):
        return None
    refs = _refs(grid, departments, forms_raw)
    states = _states(raw.get("states"), ctx)
    transitions = tuple(t for t in (_transition(i, e, states, refs, ctx)
                                    for i, e in entries(raw.get("transitions"))) if t is not None)
    _check_unique_transitions(raw.get("transitions"), ctx)
    workflow = Workflow(
        name=str(raw.get("name", "")), states=MappingProxyType(states), transitions=transitions,
        returns=_returns(raw.get("returns"), ctx), rework=_rework(raw.get("rework"), ctx),
        extension=_extension(raw.get("extension"), ctx), ladder=_ladder(raw.get("ladder"), refs, ctx),
        summons=_summons(raw.get("summons"), refs, ctx), disputes=_disputes(raw.get("disputes"), refs, ctx))
    _check_shape(workflow, raw, ctx)
    return workflow


def _states(raw: Any, ctx: Context) -> dict[str, State]:
    states: dict[str, State] = {}
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("workflow", "states", i)
        if ctx.unique(seen, entry["id"], path, "状态"):
            states[entry["id"]] = State(entry["id"], str(entry.get("name") or entry["id"]),
                                        entry.get("kind", "open"), entry.get("name_en", ""),
                                        entry.get("source", "published"))
    return states


def _check_unique_transitions(raw: Any, ctx: Context) -> None:
    seen: dict = {}
    for i, entry in entries(raw):
        ctx.unique(seen, entry["id"], ("workflow", "transitions", i), "流转")


def _state_ref(name: str, states: Mapping[str, State], ctx: Context, path: tuple, allow_any: bool = False) -> bool:
    if name in states or (allow_any and name == "*"):
        return True
    ctx.problem("UNKNOWN_STATE", path, f'引用了未声明的状态 "{name}" (unknown state)', did_you_mean(name, list(states)))
    return False


def _transition(i: int, entry: dict, states: Mapping[str, State], refs: _Refs, ctx: Context) -> Transition | None:
    path = ("workflow", "transitions", i)
    what = f'流转 "{entry["id"]}"'
    raw_from = entry.get("from")
    if raw_from is None:
        ctx.problem("SCHEMA", path, f'{what} 缺少起始状态 "from" (missing field)', '例如 from: reported 或 from: "*"')
        return None
    sources = tuple(raw_from) if isinstance(raw_from, list) else (raw_from,)
    for n, name in enumerate(sources):
        _state_ref(str(name), states, ctx, (*path, "from", n) if isinstance(raw_from, list) else (*path, "from"), True)
    to = entry.get("to")
    if to is not None:
        _state_ref(str(to), states, ctx, (*path, "to"))
    roles = tuple(str(r) for r in entry.get("roles") or ())
    if not roles:
        ctx.problem("SCHEMA", path, f'{what} 缺少可执行角色 "roles" (missing field)', "例如 roles: [grid_worker, kind:command_center]")
    for n, role in enumerate(roles):
        check_role(role, refs, ctx, (*path, "roles", n))
    form = entry.get("form")
    if form is not None and refs.forms is not None and form not in refs.forms:
        ctx.problem("UNKNOWN_FORM", (*path, "form"), f'引用了未声明的表单 "{form}"', did_you_mean(str(form), refs.forms))
    effects = tuple(e for e in (_effect(n, eff, refs, ctx, (*path, "effects", n))
                                for n, eff in entries(entry.get("effects"))) if e is not None)
    return Transition(
        id=entry["id"], name=str(entry.get("name") or entry["id"]), kind=entry.get("kind", "normal"),
        sources=tuple(str(s) for s in sources), to=str(to) if to is not None else None, roles=roles,
        scope=entry.get("scope", "jurisdiction"),
        condition=_expression(entry.get("condition"), ctx, (*path, "condition"), "条件"),
        condition_source=str(entry.get("condition") or ""), form=form,
        note_required=bool(entry.get("note_required", entry.get("kind") in ("return", "dispute"))),
        effects=effects, source=entry.get("source", "published"))


def _effect(n: int, entry: dict, refs: _Refs, ctx: Context, path: tuple) -> Effect | None:
    keys = [k for k in entry if k in EFFECT_KEYS]
    if len(keys) != 1 or (set(entry) - {keys[0]} - ({"limit"} if keys[0] == "deadline" else set())):
        ctx.problem("SCHEMA", path, "每个效果只写一项(deadline 可带 limit)(one effect per entry)",
                    "可用: " + ", ".join(EFFECT_KEYS))
        return None
    op, value = keys[0], entry[keys[0]]
    if op == "set_level" and value not in refs.levels:
        ctx.problem("UNKNOWN_LEVEL", (*path, op), f'引用了未声明的层级 "{value}"', did_you_mean(str(value), refs.levels))
    elif op == "assign" and value not in ("decision", "data") and value not in refs.departments:
        ctx.problem("UNKNOWN_DEPARTMENT", (*path, op), f'主办部门 "{value}" 未声明;可写 decision、data 或部门 id',
                    did_you_mean(str(value), refs.departments))
    elif op == "notify":
        value = tuple(str(v) for v in (value if isinstance(value, list) else [value]))
        for m, target in enumerate(value):
            check_role(target, refs, ctx, (*path, op, m), notify=True)
    elif op == "record" and value not in FACTS:
        ctx.problem("SCHEMA", (*path, op), f'未知的指标事实 "{value}" (unknown fact)', did_you_mean(str(value), FACTS))
    limit = None
    if op == "deadline":
        if "limit" not in entry:
            ctx.problem("SCHEMA", path, f'时限 "{value}" 缺少 limit', "例如 {deadline: handle, limit: 5工作日} 或 limit: decision")
        limit = _limit(entry.get("limit"), ctx, (*path, "limit"), ("decision", "class"))
    return Effect(op, value, limit)


def _returns(raw: Any, ctx: Context) -> Returns:
    if not isinstance(raw, dict):
        return Returns()
    return Returns(_strict_limit(raw.get("within"), ctx, ("workflow", "returns", "within")),
                   bool(raw.get("reason_required", True)), raw.get("max"))


def _rework(raw: Any, ctx: Context) -> Rework:
    if not isinstance(raw, dict):
        return Rework()
    return Rework(raw.get("max"), _strict_limit(raw.get("limit"), ctx, ("workflow", "rework", "limit")))


def _extension(raw: Any, ctx: Context) -> Extension:
    if not isinstance(raw, dict):
        return Extension()
    return Extension(_strict_limit(raw.get("cap"), ctx, ("workflow", "extension", "cap")), raw.get("max_times"),
                     _strict_limit(raw.get("default"), ctx, ("workflow", "extension", "default")))


def _ladder(raw: Any, refs: _Refs, ctx: Context) -> Ladder | None:
    if not isinstance(raw, dict):
        return None
    rungs, seen = [], {}
    for i, entry in entries(raw.get("rungs")):
        path = ("workflow", "ladder", "rungs", i)
        if not ctx.unique(seen, entry["id"], path, "阶梯级"):
            continue
        level = ctx.require(entry, "level", path, f'阶梯级 "{entry["id"]}"')
        if level is not None and level not in refs.levels:
            ctx.problem("UNKNOWN_LEVEL", (*path, "level"), f'引用了未声明的层级 "{level}"', did_you_mean(str(level), refs.levels))
        dept = entry.get("department")
        if dept is not None and dept not in refs.departments:
            ctx.problem("UNKNOWN_DEPARTMENT", (*path, "department"), f'引用了未声明的部门 "{dept}"',
                        did_you_mean(str(dept), refs.departments))
        roles = tuple(str(r) for r in entry.get("roles") or ())
        for n, role in enumerate(roles):
            check_role(role, refs, ctx, (*path, "roles", n))
        rungs.append(Rung(entry["id"], str(entry.get("name") or entry["id"]), str(level), dept, roles,
                          _strict_limit(entry.get("limit"), ctx, (*path, "limit"))))
    # Rungs climb the grid: bottom level first. Sorting (stable) lets a county insert a rung such as
    # 社区支部书记 after an inherited one on the same level, since merging appends new entries at the end.
    depth = {lv: i for i, lv in enumerate(refs.levels)}
    rungs.sort(key=lambda r: -depth.get(r.level, 0))
    return Ladder(str(raw.get("name", "")), tuple(rungs))


def _summons(raw: Any, refs: _Refs, ctx: Context) -> Summons:
    if not isinstance(raw, dict):
        return Summons()
    depts = tuple(str(d) for d in raw.get("departments") or ())
    for n, dept in enumerate(depts):
        if dept not in refs.departments:
            ctx.problem("UNKNOWN_DEPARTMENT", ("workflow", "summons", "departments", n), f'引用了未声明的部门 "{dept}"',
                        did_you_mean(dept, refs.departments))
    return Summons(_strict_limit(raw.get("limit"), ctx, ("workflow", "summons", "limit")), depts)


def _disputes(raw: Any, refs: _Refs, ctx: Context) -> Disputes | None:
    if not isinstance(raw, dict) or not raw.get("arbiter"):
        return None
    check_role(str(raw["arbiter"]), refs, ctx, ("workflow", "disputes", "arbiter"))
    return Disputes(str(raw["arbiter"]), _strict_limit(raw.get("limit"), ctx, ("workflow", "disputes", "limit")))


def _check_shape(workflow: Workflow, raw: dict, ctx: Context) -> None:
    """One initial state, a closed state, every state reachable, mechanisms configured where used."""
    states = workflow.states
    initial = [s.id for s in states.values() if s.kind == "initial"]
    if len(initial) != 1:
        ctx.problem("NO_INITIAL_STATE", ("workflow", "states"),
                    f"工作流程必须恰好有一个初始状态 (kind: initial),现有 {len(initial)} 个: {', '.join(initial) or '无'}",
                    "在第一个状态上写 kind: initial")
        return
    if not any(s.kind == "closed" for s in states.values()):
        ctx.problem("NO_CLOSED_STATE", ("workflow", "states"), "工作流程没有结案状态 (kind: closed),案件永远无法结案",
                    "例如 - {id: closed, name: 核查结案, kind: closed}")
    reached, queue = {initial[0]}, deque([initial[0]])
    while queue:
        current = queue.popleft()
        for t in workflow.transitions:
            target = t.to or current
            if target in states and target not in reached and t.leaves(current, workflow.open_states):
                reached.add(target)
                queue.append(target)
    index = {e["id"]: i for i, e in entries(raw.get("states"))}
    for state in states.values():
        if state.id not in reached:
            ctx.problem("UNREACHABLE_STATE", ("workflow", "states", index.get(state.id, 0)),
                        f'状态 "{state.id}" ({state.name}) 从初始状态 "{initial[0]}" 无法到达',
                        "增加一个 to 该状态的流转,或删除该状态 (remove: true)")
    t_index = {e["id"]: i for i, e in entries(raw.get("transitions"))}
    for t in workflow.transitions:
        need = {"handoff": ("ladder", workflow.ladder), "dispute": ("disputes", workflow.disputes),
                "arbitrate": ("disputes", workflow.disputes)}.get(t.kind)
        if need and need[1] is None:
            ctx.problem("MISSING_MECHANISM", ("workflow", "transitions", t_index.get(t.id, 0), "kind"),
                        f'流转 "{t.id}" 是 {t.kind},但工作流程没有配置 {need[0]}:', f"请在 workflow 下添加 {need[0]}:")


def compile_escalation(raw: Any, ctx: Context, grid: Grid, departments: Mapping[str, Department],
                       workflow: Workflow | None) -> tuple[EscalationRule, ...]:
    rules: list[EscalationRule] = []
    if raw is None:
        return ()
    if workflow is None:
        ctx.problem("MISSING_MECHANISM", ("escalation",), "有超期升级规则但没有工作流程 (workflow:)", "请先声明 workflow:")
        return ()
    refs = _refs(grid, departments, None)
    seen: dict = {}
    for i, entry in entries(raw):
        path = ("escalation", i)
        if not ctx.unique(seen, entry["id"], path, "升级规则"):
            continue
        states = tuple(str(s) for s in entry.get("states") or ())
        for n, s in enumerate(states):
            _state_ref(s, workflow.states, ctx, (*path, "states", n))
        raise_to = entry.get("raise_to")
        if raise_to is not None and raise_to not in refs.levels:
            ctx.problem("UNKNOWN_LEVEL", (*path, "raise_to"), f'引用了未声明的层级 "{raise_to}"', did_you_mean(str(raise_to), refs.levels))
        notify = tuple(str(v) for v in entry.get("notify") or ())
        for n, target in enumerate(notify):
            check_role(target, refs, ctx, (*path, "notify", n), notify=True)
        transition = entry.get("transition")
        if transition is not None and workflow.transition(transition) is None:
            ctx.problem("UNKNOWN_TRANSITION", (*path, "transition"), f'引用了未声明的流转 "{transition}"',
                        did_you_mean(str(transition), [t.id for t in workflow.transitions]))
        rules.append(EscalationRule(
            id=entry["id"], name=str(entry.get("name") or entry["id"]), deadline=str(entry.get("deadline", "handle")),
            after=_strict_limit(entry.get("after"), ctx, (*path, "after")), states=states,
            when=_expression(entry.get("when"), ctx, (*path, "when"), "升级条件"), when_source=str(entry.get("when") or ""),
            raise_to=raise_to, notify=notify, supervise=bool(entry.get("supervise", False)), transition=transition,
            extend=_strict_limit(entry.get("extend"), ctx, (*path, "extend"))))
    return tuple(rules)
