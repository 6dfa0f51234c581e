"""The replay policy: which workflow path a case takes, who does the work, and where it goes when overdue.

Policy (documented in docs/compare.md; deterministic, the same for every pack):

* **Path.** From the state the routing decision names (else the workflow's initial state) the case follows
  the shortest chain of ``normal`` transitions to a ``closed`` state whose conditions hold for the event
  (with no returns, reworks or extensions so far). Among chains, one whose *handling step* suits the decision
  wins: the handling step is the transition that records ``handled`` (else the one that closes), and it
  suits when its roles include the decision's lead (``department``/``assist`` for a department, the role
  for ``role@unit``) or a grid role of the decision's level, and the chain ends on the decision's level.
  Returns, reworks, extensions, summons and disputes are never taken: the comparison measures the
  designed path, not its exceptions.
* **Who works.** The handling step is served by a queue: the lead department's office (one per unit of the
  department's level), the lead role at its unit, or else the roles of the handling step at the decision's
  unit. Every other step is administrative and takes ``step_minutes``.
* **Overdue.** The pack's escalation rules for the ``handle`` deadline fire in declared order at
  deadline + ``after`` (when their ``states`` include the handling state). A rule with ``raise_to`` a higher
  level, or with a ``transition`` of kind ``handoff`` (the next rung of the ladder), moves the unfinished case
  to that level's queue, where it starts again; other rules only count as escalation steps.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..pack.model import Pack, Role
from ..pack.sections.workflow import EscalationRule, Transition, Workflow, rules_for
from ..timelimit import TimeLimit
from .keys import LocalEvent, key_function
from .rates import Rates
from .routememo import Route

MAX_STEPS = 8
CASE_NAMES = frozenset({"state", "level", "handler_unit", "lead", "assist", "priority", "supervised", "returns",
                        "reworks", "extensions", "rung", "actor_role", "decision_level", "deadline"})


@dataclass(frozen=True)
class Plan:
    transitions: tuple[Transition, ...]
    states: tuple[str, ...]         # start state, then the state after each transition
    handling: int                   # index of the handling step; -1: none (closed at once, or no path)
    closes: bool
    facts_before: frozenset[str]    # facts recorded by steps before the handling step
    facts_all: frozenset[str]

    @property
    def handling_state(self) -> str | None:
        return self.states[self.handling] if self.handling >= 0 else None

    @cached_property  # read for every replayed event: join once
    def label(self) -> str:
        return "→".join(self.states) if self.closes else "→".join(self.states) + "→(无结案路径)"


@dataclass(frozen=True)
class Server:
    """A queue of identical workers: a department office, a role at a unit, or the staff of a unit."""

    key: str
    kind: str                       # department | role | unit
    name: str
    level: str
    unit: str
    department: str | None
    capacity: int
    bottom: bool                    # at the pack's bottom level (grid workers' load)


@dataclass(frozen=True)
class Raise:
    """One escalation rule as it applies to a case: when (``after`` past the deadline) and, if it moves the
    case, the level and queue it goes to."""

    rule: str
    after: TimeLimit | None
    level: str | None = None
    server: Server | None = None


def recorded_facts(t: Transition) -> set[str]:
    return {str(e.value) for e in t.effects if e.op == "record"}


def _set_level(t: Transition) -> str | None:
    levels = [str(e.value) for e in t.effects if e.op == "set_level"]
    return levels[-1] if levels else None


class Planner:
    """Paths, servers and escalation chains of one pack, memoised per comparison run."""

    def __init__(self, pack: Pack, rates: Rates, env_of: Callable[[LocalEvent, Route, str], dict[str, Any]]):
        self.pack = pack
        self.rates = rates
        self.env_of = env_of
        self.wf: Workflow | None = pack.workflow
        grid = pack.grid
        self.depth = {lv.id: lv.depth for lv in grid.levels}
        self.bottom_level = grid.levels[-1].id
        self.roles = {r.id: r for r in grid.roles}
        self.level_units = grid.count_by_level()
        conditioned = [t for t in (self.wf.transitions if self.wf else ()) if t.kind == "normal" and t.condition]
        self.conditioned = tuple(conditioned)
        self._cond_keys = {t.id: key_function(t.condition.variables, CASE_NAMES) for t in conditioned}
        self.rules: tuple[EscalationRule, ...] = rules_for(pack.escalation, "handle") if self.wf else ()
        self._when_keys = {r.id: key_function(r.when.variables, CASE_NAMES) for r in self.rules if r.when is not None}
        # Only conditions that read event fields make paths differ between events (``${returns} > 0`` does not).
        reads = [t.condition.variables for t in conditioned] + [r.when.variables for r in self.rules if r.when]
        names = frozenset().union(*reads) - CASE_NAMES if reads else frozenset()
        self.event_key = key_function(names) if names else (lambda ev: ())
        self.reads_event = bool(names)
        self._plans: dict[tuple, Plan] = {}
        self._truth: dict[tuple, bool] = {}
        self._servers: dict[tuple, Server] = {}
        self._chains: dict[tuple, tuple[Raise, ...]] = {}
        self._above: dict[tuple[str, str], str | None] = {}

    def above(self, code: str, level: str) -> str | None:
        """The code of the unit at ``level`` over ``code`` (memoised: asked for every distinct decision)."""
        key = (code, level)
        if key not in self._above:
            unit = self.pack.grid.ancestor_at(code, level)
            self._above[key] = unit.code if unit is not None else None
        return self._above[key]

    # -- staffing -------------------------------------------------------------------------------------
    def staff(self, role: Role) -> int:
        if role.total:
            return max(1, round(role.total / max(1, self.level_units.get(role.level, 1))))
        count = role.count
        if count.max is not None:
            return max(1, round((count.min + count.max) / 2))
        return count.min if count.min > 0 else self.rates.role_default_staff

    def _scaled(self, n: float) -> int:
        return max(1, round(n * self.rates.staff_scale))

    def department_server(self, dept_id: str, event_unit: str) -> Server:
        key = ("d", dept_id, event_unit)
        if key not in self._servers:
            dept = self.pack.departments[dept_id]
            office = self.above(event_unit, dept.level) if dept.level in self.depth else None
            cap = self.rates.department_overrides.get(dept_id, self.rates.department_capacity.get(dept.kind, 2))
            code = office or ""
            self._servers[key] = Server(f"department:{dept_id}@{code}", "department", dept.name, dept.level, code,
                                        dept_id, self._scaled(cap), dept.level == self.bottom_level)
        return self._servers[key]

    def role_server(self, role_id: str, unit: str) -> Server:
        key = ("r", role_id, unit)
        if key not in self._servers:
            role = self.roles[role_id]
            self._servers[key] = Server(f"role:{role_id}@{unit}", "role", role.name, role.level, unit, None,
                                        self._scaled(self.staff(role)), role.level == self.bottom_level)
        return self._servers[key]

    def unit_server(self, unit: str, selectors: tuple[str, ...]) -> Server:
        key = ("u", unit, selectors)
        if key not in self._servers:
            level = self.pack.grid.units[unit].level
            here = [r for r in self.pack.grid.roles if r.level == level]
            chosen = [r for r in here if r.id in selectors or f"kind:{r.kind}" in selectors] or here
            n = sum(self.staff(r) for r in chosen) or self.rates.role_default_staff
            self._servers[key] = Server(f"unit:{unit}", "unit", self.pack.grid.units[unit].name, level, unit, None,
                                        self._scaled(n), level == self.bottom_level)
        return self._servers[key]

    # -- the path -------------------------------------------------------------------------------------
    def _holds(self, t: Transition, ev: LocalEvent, route: Route, state: str) -> bool:
        key = (t.id, self._cond_keys[t.id](ev), route.level, route.lead, route.priority, state)
        if key not in self._truth:
            try:
                self._truth[key] = bool(t.condition.test(self.env_of(ev, route, state)))
            except Exception:  # noqa: BLE001 - a condition that cannot be evaluated does not hold
                self._truth[key] = False
        return self._truth[key]

    def _lead_sig(self, route: Route) -> tuple[str, ...]:
        lead = route.lead
        if lead and lead in self.pack.departments:
            return ("department", lead)
        if lead and "@" in lead and lead.split("@", 1)[0] in self.roles:
            return ("role", lead.split("@", 1)[0])
        return ("unit",)

    def plan(self, route: Route, ev: LocalEvent) -> Plan:
        wf = self.wf
        if wf is None:
            return Plan((), ("-",), 0, True, frozenset(), frozenset({"handled", "closed"}))
        start = route.state if route.state in wf.states else wf.initial
        truths = tuple(self._holds(t, ev, route, start) for t in self.conditioned)
        key = (start, route.level, self._lead_sig(route), truths)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._search(start, route, dict(zip((t.id for t in self.conditioned), truths)))
            self._plans[key] = plan
        return plan

    def _suits(self, t: Transition, route: Route, lead: tuple[str, ...]) -> bool:
        roles = set(t.roles)
        if lead[0] == "department" and roles & {"department", "assist", "department:*", f"department:{lead[1]}"}:
            return True
        if lead[0] == "role" and (lead[1] in roles or f"kind:{self.roles[lead[1]].kind}" in roles):
            return True
        return any(r.level == route.level and (r.id in roles or f"kind:{r.kind}" in roles) for r in self.pack.grid.roles)

    def _search(self, start: str, route: Route, truths: Mapping[str, bool]) -> Plan:
        wf = self.wf
        assert wf is not None
        usable = [t for t in wf.transitions if t.kind == "normal" and (t.condition is None or truths.get(t.id, False))]
        lead = self._lead_sig(route)
        best: tuple | None = None
        stack: list[tuple[str, tuple[Transition, ...], tuple[str, ...]]] = [(start, (), (start,))]
        while stack:
            state, path, states = stack.pop()
            if wf.states[state].kind == "closed":
                handling = next((i for i, t in enumerate(path) if "handled" in recorded_facts(t)), len(path) - 1)
                level = route.level
                for t in path:
                    level = _set_level(t) or level
                suits = bool(path) and level == route.level and self._suits(path[handling], route, lead)
                order = tuple(wf.transitions.index(t) for t in path)
                rank = (not suits, len(path), order)
                if best is None or rank < best[0]:
                    best = (rank, path, states, handling)
                continue
            if len(path) >= MAX_STEPS or wf.states[state].kind == "terminal":
                continue
            for t in usable:
                if t.leaves(state, wf.open_states):
                    to = t.to or state
                    if to not in states:  # simple paths only
                        stack.append((to, path + (t,), states + (to,)))
        if best is None:
            return Plan((), (start,), -1, False, frozenset(), frozenset())
        _, path, states, handling = best
        if not path:  # the decision put the case straight into a closed state
            return Plan((), states, -1, True, frozenset(), frozenset({"closed"}))
        before = frozenset(f for t in path[:handling] for f in recorded_facts(t))
        return Plan(path, states, handling, True, before, frozenset(f for t in path for f in recorded_facts(t)))

    # -- who serves ------------------------------------------------------------------------------------
    def server(self, route: Route, plan: Plan, event_unit: str) -> Server:
        t = plan.transitions[plan.handling] if plan.transitions else None
        roles = set(t.roles) if t else set()
        lead = self._lead_sig(route)
        if lead[0] == "department" and (t is None or roles & {"department", "assist", "department:*",
                                                              f"department:{lead[1]}"}):
            return self.department_server(lead[1], event_unit)
        if lead[0] == "role" and route.lead and (t is None or lead[1] in roles
                                                 or f"kind:{self.roles[lead[1]].kind}" in roles):
            return self.role_server(lead[1], route.lead.split("@", 1)[1])
        return self.unit_server(route.unit, tuple(sorted(roles)))

    # -- overdue ---------------------------------------------------------------------------------------
    def chain(self, route: Route, plan: Plan, ev: LocalEvent) -> tuple[Raise, ...]:
        """The escalation steps that apply to the case, in order, with where each raise sends it."""
        if not self.rules:
            return ()
        state = plan.handling_state
        whens = tuple(self._when(r, ev, route, state or "") for r in self.rules if r.when is not None)
        key = (state, route.level, route.unit, ev.unit, whens)
        chain = self._chains.get(key)
        if chain is None:
            chain = self._build_chain(route, state, ev.unit, dict(zip((r.id for r in self.rules if r.when is not None), whens)))
            self._chains[key] = chain
        return chain

    def _when(self, rule: EscalationRule, ev: LocalEvent, route: Route, state: str) -> bool:
        key = ("when", rule.id, self._when_keys[rule.id](ev), route.level, route.lead, state)
        if key not in self._truth:
            try:
                env = self.env_of(ev, route, state)
                env["deadline"] = "handle"
                self._truth[key] = bool(rule.when.test(env))
            except Exception:  # noqa: BLE001
                self._truth[key] = False
        return self._truth[key]

    def _build_chain(self, route: Route, state: str | None, event_unit: str,
                     whens: Mapping[str, bool]) -> tuple[Raise, ...]:
        wf = self.wf
        assert wf is not None
        grid = self.pack.grid
        level, unit = route.level, route.unit
        rungs = wf.ladder.rungs if wf.ladder else ()
        rung = next((i for i, r in enumerate(rungs) if r.level == level), 0)
        out: list[Raise] = []
        for rule in self.rules:
            if rule.states and state not in rule.states:
                continue
            if rule.when is not None and not whens.get(rule.id, False):
                continue
            step = Raise(rule.id, rule.after)
            target = grid.level(rule.raise_to or "")
            if target is not None and target.depth < self.depth.get(level, 99):
                up = self.above(event_unit, target.id)
                if up is not None:
                    level, unit = target.id, up
                    step = Raise(rule.id, rule.after, level, self.unit_server(unit, ()))
            t = wf.transition(rule.transition) if rule.transition else None
            if t is not None and t.kind == "handoff" and (state is None or t.leaves(state, wf.open_states)) \
                    and rung + 1 < len(rungs):
                rung += 1
                nxt = rungs[rung]
                up = self.above(event_unit, nxt.level)
                if up is not None:
                    level, unit = nxt.level, up
                    server = (self.department_server(nxt.department, event_unit) if nxt.department
                              else self.unit_server(unit, tuple(sorted(nxt.roles))))
                    step = Raise(rule.id, rule.after, level, server)
            out.append(step)
        return tuple(out)
