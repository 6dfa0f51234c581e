"""The case state machine: which actions an actor may take on a case, and what an action does.

Pure: no database, no clock. The caller (``wangge.core.cases``) passes the case as a :class:`CaseView` and
``now``, and stores the :class:`Outcome` — new state, handler, deadlines, notifications and facts — in one
transaction. Keeping the rules here means a pack's workflow can be tested without a database.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ..pack.model import Pack
from ..pack.sections.workflow import EscalationRule, Transition, Workflow
from ..timelimit import TimeLimit, TimeLimitError, parse_time_limit
from ..workcal import CalendarError


class WorkflowError(Exception):
    """An action that cannot be taken. ``code`` is stable for programs; ``message`` is Chinese for people."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who acts: a grid role at a unit, a department (``role="department"``, ``unit`` = department id),
    the reporter, or the escalation worker (``role="system"``)."""

    id: str
    role: str
    unit: str | None = None

    @classmethod
    def of(cls, role: str, unit: str | None = None, actor_id: str | None = None) -> Actor:
        """Accepts ``department:zhifa`` as shorthand for role department at unit zhifa."""
        if role.startswith("department:"):
            role, unit = "department", role.split(":", 1)[1]
        return cls(actor_id or f"{role}@{unit or '-'}", role, unit)


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class CaseView:
    """What the machine reads of a stored case."""

    id: str
    state: str
    level: str
    unit_code: str                    # where the event happened
    handler_unit: str | None
    lead: str | None
    assist: tuple[str, ...]
    reported_by: str
    event: Mapping[str, Any]
    decision: Mapping[str, Any]
    entered_at: datetime              # when the case entered its current state
    due_at: datetime | None = None    # the handle deadline
    priority: int = 0
    supervised: bool = False
    vars: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Outcome:
    """The result of an action or an escalation step, ready to be stored."""

    action: str
    rule: str | None
    from_state: str
    to_state: str
    level: str
    handler_unit: str | None
    lead: str | None
    assist: tuple[str, ...]
    priority: int
    supervised: bool
    vars: Mapping[str, Any]
    deadlines: tuple[tuple[str, datetime], ...] = ()   # (kind, deadline) set or moved
    stopped: tuple[str, ...] = ()                      # kinds ended; "all" ends every deadline
    notify: tuple[str, ...] = ()                       # resolved targets, e.g. role:grid_leader@1401..., department:zhifa
    facts: tuple[str, ...] = ()
    closed: bool = False
    reopened: bool = False


def workflow_of(pack: Pack) -> Workflow:
    if pack.workflow is None:
        raise WorkflowError("NO_WORKFLOW", f"规则包 {pack.id} 没有声明工作流程 (workflow:)")
    return pack.workflow


# ---------------------------------------------------------------- who may act


def _ancestors(pack: Pack, code: str | None) -> list[str]:
    if not code or code not in pack.grid.units:
        return []
    return [u.code for u in pack.grid.ancestors(code)]


def _in_scope(pack: Pack, case: CaseView, actor: Actor, scope: str) -> bool:
    if scope == "any":
        return True
    if actor.unit not in pack.grid.units:
        return False
    handler = set(_ancestors(pack, case.handler_unit))
    if scope == "handler":
        return actor.unit in handler or (not case.handler_unit and actor.unit in _ancestors(pack, case.unit_code))
    return actor.unit in handler or actor.unit in _ancestors(pack, case.unit_code)


def _grid_role_ok(pack: Pack, actor: Actor) -> bool:
    """A grid role acts from a unit of its own level (a 网格员 from a 网格)."""
    role = next((r for r in pack.grid.roles if r.id == actor.role), None)
    unit = pack.grid.units.get(actor.unit or "")
    return role is not None and unit is not None and unit.level == role.level


def matches(selector: str, pack: Pack, case: CaseView, actor: Actor, scope: str = "jurisdiction") -> bool:
    """Whether ``actor`` is one of the people ``selector`` names for this case (docs/workflow.md)."""
    if selector == "system":
        return actor.role == "system"
    if actor.role == "system":
        return False
    if selector == "reporter":
        return bool(case.reported_by) and actor.id == case.reported_by
    if actor.role == "department":
        summons = case.vars.get("summons", {})
        return ((selector == "department" and actor.unit == case.lead)
                or (selector == "assist" and actor.unit in case.assist)
                or selector == "department:*"
                or selector == f"department:{actor.unit}"
                or (selector == "summoned" and summons.get(actor.unit) == "pending"))
    if selector.startswith("kind:"):
        role = next((r for r in pack.grid.roles if r.id == actor.role), None)
        return (role is not None and role.kind == selector[5:] and _grid_role_ok(pack, actor)
                and _in_scope(pack, case, actor, scope))
    return selector == actor.role and _grid_role_ok(pack, actor) and _in_scope(pack, case, actor, scope)


def environment(pack: Pack, case: CaseView, actor: Actor, data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The names a workflow condition can use: the event's fields, the case's, then the action's data."""
    event = case.event
    env: dict[str, Any] = dict(event.get("data") or {})
    env.update({k: v for k, v in event.items() if k != "data"})
    cls = pack.events.classes.get(str(event.get("class", "")))
    unit = pack.grid.units.get(case.unit_code)
    env.update({
        "major": (cls.parent or cls.id) if cls else "", "zone": unit.zone if unit else None,
        "state": case.state, "level": case.level, "handler_unit": case.handler_unit, "lead": case.lead,
        "assist": list(case.assist), "priority": case.priority, "supervised": case.supervised,
        "returns": case.vars.get("returns", 0), "reworks": case.vars.get("reworks", 0),
        "extensions": case.vars.get("extensions", 0), "rung": case.vars.get("rung"),
        "actor_role": actor.role, "decision_level": case.decision.get("level"),
    })
    env.update(dict(data or {}))
    return env


def _condition_ok(t: Transition, env: Mapping[str, Any]) -> bool:
    return t.condition is None or bool(t.condition.test(env))


def may(pack: Pack, case: CaseView, t: Transition, actor: Actor) -> bool:
    wf = workflow_of(pack)
    if not t.leaves(case.state, wf.open_states):
        return False
    if t.kind == "arbitrate" and wf.disputes and not matches(wf.disputes.arbiter, pack, case, actor, "any"):
        return False
    return any(matches(sel, pack, case, actor, t.scope) for sel in t.roles)


def allowed_actions(pack: Pack, case: CaseView, actor: Actor) -> tuple[Transition, ...]:
    """The actions ``actor`` may take now (state, role and condition; limits are checked on apply)."""
    wf = workflow_of(pack)
    env = environment(pack, case, actor)
    return tuple(t for t in wf.transitions if may(pack, case, t, actor) and _condition_ok(t, env))


# ---------------------------------------------------------------- applying


class _Draft:
    """The case being changed by one action; frozen into an Outcome at the end (local to one call)."""

    def __init__(self, case: CaseView, action: str, rule: str | None):
        self.case = case
        self.action, self.rule = action, rule
        self.state = case.state
        self.level, self.handler_unit = case.level, case.handler_unit
        self.lead, self.assist = case.lead, tuple(case.assist)
        self.priority, self.supervised = case.priority, case.supervised
        self.vars: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in case.vars.items()}
        self.deadlines: dict[str, datetime] = {}
        self.stopped: list[str] = []
        self.notify: list[str] = []
        self.facts: list[str] = []

    def bump(self, key: str) -> int:
        self.vars[key] = int(self.vars.get(key, 0)) + 1
        return self.vars[key]

    def set_deadline(self, kind: str, when: datetime) -> None:
        self.deadlines[kind] = when
        if kind in self.stopped:
            self.stopped.remove(kind)

    def stop(self, kind: str) -> None:
        self.deadlines.pop(kind, None) if kind != "all" else self.deadlines.clear()
        if kind not in self.stopped:
            self.stopped.append(kind)

    def outcome(self, pack: Pack, from_state: str) -> Outcome:
        wf = workflow_of(pack)
        closed = wf.states[self.state].kind in ("closed", "terminal")
        if closed:
            self.deadlines.clear()
            self.stopped = ["all"]
        reopened = wf.states[from_state].kind in ("closed", "terminal") and not closed
        return Outcome(self.action, self.rule, from_state, self.state, self.level, self.handler_unit, self.lead,
                       self.assist, self.priority, self.supervised, MappingProxyType(self.vars),
                       tuple(self.deadlines.items()), tuple(self.stopped), tuple(dict.fromkeys(self.notify)),
                       tuple(dict.fromkeys(self.facts)), closed, reopened)


def _limit(value: Any, what: str) -> TimeLimit:
    try:
        return parse_time_limit(value)
    except TimeLimitError as exc:
        raise WorkflowError("BAD_DATA", f"{what}: {exc.message}") from None


def _deadline(pack: Pack, start: datetime, limit: TimeLimit) -> datetime:
    try:
        return pack.calendar.deadline(start, limit)
    except CalendarError as exc:
        raise WorkflowError("BAD_CALENDAR", exc.message) from None


def _set_level(pack: Pack, draft: _Draft, level: str) -> None:
    draft.level = level
    unit = pack.grid.ancestor_at(draft.case.unit_code, level) if draft.case.unit_code in pack.grid.units else None
    draft.handler_unit = unit.code if unit else None


def _department(pack: Pack, dept: Any, what: str) -> str:
    if not isinstance(dept, str) or dept not in pack.departments:
        raise WorkflowError("BAD_DATA", f'{what} "{dept}" 不是本规则包声明的部门')
    return dept


def _resolve_notify(pack: Pack, draft: _Draft, target: str) -> list[str]:
    """Notification targets as outbox addresses (role:<id>@<unit>, department:<id>, reporter:<id>)."""
    case = draft.case
    if target == "lead":
        return [f"department:{draft.lead}"] if draft.lead else []
    if target == "assist":
        return [f"department:{d}" for d in draft.assist]
    if target == "summoned":
        return [f"department:{d}" for d, s in draft.vars.get("summons", {}).items() if s == "pending"]
    if target == "reporter":
        return [f"reporter:{case.reported_by}"] if case.reported_by else []
    if target == "handler":
        return [f"unit:{draft.handler_unit}"] if draft.handler_unit else []
    if target.startswith("department:"):
        return [target]
    roles = [r for r in pack.grid.roles if r.id == target or (target.startswith("kind:") and r.kind == target[5:])]
    out = []
    for role in roles:
        unit = pack.grid.ancestor_at(case.unit_code, role.level) if case.unit_code in pack.grid.units else None
        out.append(f"role:{role.id}@{unit.code}" if unit else f"role:{role.id}")
    return out


def _decision_due(pack: Pack, case: CaseView, now: datetime) -> datetime | None:
    due = case.decision.get("due")
    if due:
        return datetime.fromisoformat(str(due))
    limit = case.decision.get("time_limit")
    return _deadline(pack, now, _limit(limit, "流转决定的时限")) if limit else _class_due(pack, case, now)


def _class_due(pack: Pack, case: CaseView, now: datetime) -> datetime | None:
    cls = pack.events.classes.get(str(case.event.get("class", "")))
    unit = pack.grid.units.get(case.unit_code)
    limit = cls.time_limit(unit.zone if unit else None) if cls else None
    if limit is None and cls is not None and cls.parent:
        limit = pack.events.classes[cls.parent].time_limit(unit.zone if unit else None)
    return _deadline(pack, now, limit) if limit else None


def _effects(pack: Pack, draft: _Draft, t: Transition, now: datetime, data: Mapping[str, Any]) -> None:
    for eff in t.effects:
        if eff.op == "set_level":
            _set_level(pack, draft, eff.value)
        elif eff.op == "assign":
            if eff.value == "decision":
                draft.lead = draft.case.decision.get("lead") or None
                draft.assist = tuple(draft.case.decision.get("assist") or ())
            elif eff.value == "data":
                draft.lead = _department(pack, data.get("lead"), "主办部门 lead")
                draft.assist = tuple(_department(pack, d, "协办部门 assist") for d in data.get("assist") or ())
            else:
                draft.lead = eff.value
        elif eff.op == "deadline":
            if eff.limit == "decision":
                when = _decision_due(pack, draft.case, now)
            elif eff.limit == "class":
                when = _class_due(pack, draft.case, now)
            else:
                when = _deadline(pack, now, eff.limit)  # type: ignore[arg-type]
            if when is not None:
                draft.set_deadline(eff.value, when)
        elif eff.op == "stop":
            draft.stop(eff.value)
        elif eff.op == "notify":
            for target in eff.value:
                draft.notify.extend(_resolve_notify(pack, draft, target))
        elif eff.op == "record":
            draft.facts.append(eff.value)
        elif eff.op == "set_priority":
            draft.priority = int(eff.value)


def _mechanism(pack: Pack, wf: Workflow, draft: _Draft, t: Transition, actor: Actor, now: datetime,
               note: str, data: Mapping[str, Any]) -> None:
    case = draft.case
    if t.kind == "return":
        limits = wf.returns
        if limits.within and now > _deadline(pack, case.entered_at, limits.within):
            raise WorkflowError("RETURN_WINDOW", f"已超过退单时限 {limits.within}(自 {case.entered_at:%Y-%m-%d %H:%M} 起算),不能退单")
        if limits.max is not None and case.vars.get("returns", 0) >= limits.max:
            raise WorkflowError("RETURN_LIMIT", f"退单次数已达上限 {limits.max} 次")
        draft.bump("returns")
        draft.vars["returned_by"] = actor.unit
        draft.lead, draft.assist = None, ()
        draft.facts.append("returned")
    elif t.kind == "rework":
        if wf.rework.max is not None and case.vars.get("reworks", 0) >= wf.rework.max:
            raise WorkflowError("REWORK_LIMIT", f"返工次数已达上限 {wf.rework.max} 次,请按规则上交或督办")
        draft.bump("reworks")
        draft.facts.append("reworked")
        if wf.rework.limit:
            draft.set_deadline("handle", _deadline(pack, now, wf.rework.limit))
    elif t.kind == "extend":
        _extend(pack, wf, draft, data)
    elif t.kind == "handoff":
        _handoff(pack, wf, draft, now)
    elif t.kind == "summon":
        depts = data.get("departments")
        if not isinstance(depts, (list, tuple)) or not depts:
            raise WorkflowError("BAD_DATA", "吹哨须在 data.departments 中列出被召部门")
        summons = dict(draft.vars.get("summons", {}))
        for dept in depts:
            _department(pack, dept, "被召部门")
            if wf.summons.departments and dept not in wf.summons.departments:
                raise WorkflowError("BAD_DATA", f'部门 "{dept}" 不在吹哨报到名单中')
            summons[dept] = "pending"
            draft.notify.append(f"department:{dept}")
            if wf.summons.limit:
                draft.set_deadline(f"summons:{dept}", _deadline(pack, now, wf.summons.limit))
        draft.vars["summons"] = summons
        draft.assist = tuple(dict.fromkeys([*draft.assist, *depts]))
        draft.facts.append("summoned")
    elif t.kind == "report_in":
        summons = dict(draft.vars.get("summons", {}))
        if summons.get(actor.unit or "") != "pending":
            raise WorkflowError("NOT_SUMMONED", f'部门 "{actor.unit}" 没有被吹哨或已经报到')
        summons[actor.unit or ""] = "reported"
        draft.vars["summons"] = summons
        draft.stop(f"summons:{actor.unit}")
    elif t.kind == "dispute":
        draft.vars["dispute"] = {"by": actor.unit, "reason": note, "at": now.isoformat()}
        draft.facts.append("disputed")
        if wf.disputes:
            draft.notify.extend(_resolve_notify(pack, draft, wf.disputes.arbiter))
            if wf.disputes.limit:
                draft.set_deadline("dispute", _deadline(pack, now, wf.disputes.limit))
    elif t.kind == "arbitrate":
        draft.lead = _department(pack, data.get("lead"), "裁定的主办部门 lead")
        draft.assist = tuple(_department(pack, d, "协办部门 assist") for d in data.get("assist") or ())
        dispute = dict(draft.vars.get("dispute") or {})
        dispute.update({"decided": draft.lead, "by_arbiter": actor.id})
        draft.vars["dispute"] = dispute
        draft.stop("dispute")
        draft.notify.append(f"department:{draft.lead}")


def _extend(pack: Pack, wf: Workflow, draft: _Draft, data: Mapping[str, Any]) -> None:
    case = draft.case
    if case.due_at is None:
        raise WorkflowError("BAD_DATA", "案件没有办理时限,无需延期")
    by = data.get("by") or (str(wf.extension.default) if wf.extension.default else None)
    if not by:
        raise WorkflowError("BAD_DATA", "请在 data.by 中写明延期时长,如 3工作日")
    limit = _limit(by, "延期时长")
    if wf.extension.max_times is not None and case.vars.get("extensions", 0) >= wf.extension.max_times:
        raise WorkflowError("EXTENSION_LIMIT", f"延期次数已达上限 {wf.extension.max_times} 次")
    original = datetime.fromisoformat(case.vars["original_due"]) if case.vars.get("original_due") else case.due_at
    new_due = _deadline(pack, case.due_at, limit)
    if wf.extension.cap and new_due > _deadline(pack, original, wf.extension.cap):
        raise WorkflowError("EXTENSION_CAP", f"延期累计不得超过 {wf.extension.cap}(原期限 {original:%Y-%m-%d %H:%M})")
    draft.vars["original_due"] = original.isoformat()
    draft.bump("extensions")
    draft.set_deadline("handle", new_due)
    draft.facts.append("extended")


def _handoff(pack: Pack, wf: Workflow, draft: _Draft, now: datetime) -> None:
    assert wf.ladder is not None  # the compiler refuses a handoff transition without a ladder
    rungs = wf.ladder.rungs
    current = draft.vars.get("rung")
    if current is None:  # the case starts on the rung of the level it was routed to
        current = next((r.id for r in rungs if r.level == draft.level), rungs[0].id)
    i = wf.ladder.index(current)
    if i + 1 >= len(rungs):
        raise WorkflowError("LADDER_TOP", f'已在最高一级 "{rungs[i].name}",不能再上交')
    rung = rungs[i + 1]
    _set_level(pack, draft, rung.level)
    draft.lead, draft.assist = rung.department, ()
    draft.vars["rung"] = rung.id
    draft.bump("handoffs")
    draft.facts.append("handed_off")
    if rung.limit:
        draft.set_deadline("handle", _deadline(pack, now, rung.limit))
    draft.notify.extend([f"department:{rung.department}"] if rung.department else [f"unit:{draft.handler_unit}"])
    for role in rung.roles:  # the people who take the case on this rung (e.g. 网格长, then 社区支部书记)
        draft.notify.extend(_resolve_notify(pack, draft, role))


def apply(pack: Pack, case: CaseView, action: str, actor: Actor, now: datetime, note: str = "",
          data: Mapping[str, Any] | None = None) -> Outcome:
    """Take ``action``; WorkflowError with a Chinese message when it is not allowed."""
    wf = workflow_of(pack)
    data = dict(data or {})
    t = wf.transition(action)
    if t is None:
        raise WorkflowError("UNKNOWN_ACTION", f'没有名为 "{action}" 的操作;可用: {", ".join(x.id for x in wf.transitions)}')
    if not t.leaves(case.state, wf.open_states):
        state = wf.states.get(case.state)
        raise WorkflowError("WRONG_STATE", f'案件处于「{state.name if state else case.state}」,不能执行「{t.name}」'
                                           f'(只能从 {", ".join(t.sources)} 执行)')
    if not may(pack, case, t, actor):
        raise WorkflowError("NOT_ALLOWED", f'角色 "{actor.role}"(单元 {actor.unit or "-"})无权对本案件执行「{t.name}」;'
                                           f'允许的角色: {", ".join(t.roles)}')
    if not _condition_ok(t, environment(pack, case, actor, data)):
        raise WorkflowError("CONDITION_FALSE", f"「{t.name}」的条件不满足: {t.condition_source}")
    if t.note_required and not note.strip():
        raise WorkflowError("NOTE_REQUIRED", f"「{t.name}」必须写明理由或意见 (note)")
    if t.form and not data:
        raise WorkflowError("FORM_REQUIRED", f'「{t.name}」需要填写表单 "{t.form}"(data)')
    return _run(pack, wf, case, t, actor, now, note, data, rule=None)


def _run(pack: Pack, wf: Workflow, case: CaseView, t: Transition, actor: Actor, now: datetime, note: str,
         data: Mapping[str, Any], rule: str | None, draft: _Draft | None = None) -> Outcome:
    draft = draft or _Draft(case, t.id, rule)
    draft.action = t.id
    draft.state = t.to or case.state
    _mechanism(pack, wf, draft, t, actor, now, note, data)
    _effects(pack, draft, t, now, data)
    return draft.outcome(pack, case.state)


def escalate(pack: Pack, case: CaseView, rule: EscalationRule, deadline_kind: str, now: datetime) -> Outcome | None:
    """One escalation step for an overdue deadline; None when the rule does not apply to the case now."""
    wf = workflow_of(pack)
    if rule.states and case.state not in rule.states:
        return None
    if wf.states[case.state].kind in ("closed", "terminal"):
        return None
    if rule.when is not None and not rule.when.test(environment(pack, case, SYSTEM, {"deadline": deadline_kind})):
        return None
    draft = _Draft(case, "escalate", rule.id)
    target, current = pack.grid.level(rule.raise_to or ""), pack.grid.level(case.level)
    # Raise only upwards: a case already handled at or above the level stays where it is.
    if target is not None and (current is None or target.depth < current.depth):
        _set_level(pack, draft, target.id)
        draft.notify.append(f"unit:{draft.handler_unit}" if draft.handler_unit else f"level:{target.id}")
        draft.facts.append("raised")
    for target in rule.notify:
        draft.notify.extend(_resolve_notify(pack, draft, target))
    if rule.supervise:
        draft.supervised = True
    if rule.extend:
        draft.set_deadline(deadline_kind, _deadline(pack, now, rule.extend))
    draft.bump("escalations")
    draft.facts.append("escalated")
    if rule.transition:
        t = wf.transition(rule.transition)
        assert t is not None  # checked by the compiler
        if t.leaves(case.state, wf.open_states):
            return _run(pack, wf, case, t, SYSTEM, now, f"超期升级 {rule.id}", {}, rule.id, draft)
    return replace(draft.outcome(pack, case.state), action="escalate")
