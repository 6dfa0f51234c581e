"""The compiled router: ``Router.from_pack(pack).decide(event) -> Decision``.

Tables run in the order the pack lists them. Each starts from the decision built so far (the pack's
``defaults`` first) and may read it as ``${route.level}`` etc. A single-hit table (FIRST, UNIQUE, ANY,
PRIORITY) overwrites the single-valued outputs its rule sets; ``assist`` and ``notify`` accumulate over all
tables, without duplicates. A COLLECT table adds the ``assist``/``notify`` of every matching rule and
combines their priorities with its ``aggregate`` (max by default).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..events import Event
from ..pack.model import Pack, Unit
from ..pack.sections.routing import Outcome, Routing, RoutingRule, RoutingTable, Vocabulary, make_vocabulary
from ..timelimit import TimeLimit, TimeUnit
from ..workcal import as_shanghai
from .decision import Decision, RoutingError, TraceStep, decision_record, trace_record
from .table import CompiledTable
from .targets import Resolver

#: Names event_fields() provides (core/events.py); anything else an expression reads is a form field (data).
EVENT_FIELDS = frozenset({"id", "class", "major", "ref_class", "ref_major", "channel", "ref_channel", "unit",
                          "level", "zone", "urgency", "people", "reporter_role", "reported_at", "hour", "weekday"})
TIME_FIELDS = frozenset({"reported_at", "hour", "weekday"})
#: An outcome that sets nothing: defaults equal to it leave no trace step.
NO_OUTCOME = Outcome()

#: One trace step while tables run, already as stored (``trace_record``: table, rule, matched, why), so
#: ``decide_json`` keeps it as is; ``decide`` makes TraceSteps of them.
Step = dict[str, Any]


def vocabulary(pack: Pack) -> Vocabulary:
    return make_vocabulary(pack.grid, pack.departments, pack.events, pack.channels, pack.reference)


class Targets(NamedTuple):
    """An outcome resolved on the grid for one reporting and handling unit: the unit it places the event at
    (None: it sets no place) with a note when the tree had no unit at that level, then its receivers in
    order — before the decision so far removes repeats."""

    unit: Unit | None
    note: str | None
    leads: tuple[str, ...]
    assist: tuple[str, ...]
    notify: tuple[str, ...]


@dataclass(slots=True)
class _Building:
    """The decision while tables run (mutable, local to one decide() call)."""

    reporting: str
    level: str
    unit: str
    lead: str | None = None
    time_limit: TimeLimit | None = None
    priority: int = 0
    state: str | None = None
    assist: list[str] = field(default_factory=list, init=False)
    notify: list[str] = field(default_factory=list, init=False)
    trace: list[Step] = field(default_factory=list, init=False)


class Router:
    """A pack's compiled routing. Its rules never change after construction; the only state it keeps is
    bounded memos of deadlines and of outcomes resolved on the grid, pure functions of their keys, so threads
    sharing a Router at worst compute one twice. decide() keeps everything else local."""

    def __init__(self, pack: Pack, routing: Routing | None = None) -> None:
        self.pack = pack
        self.routing = routing if routing is not None else (getattr(pack, "routing", None) or Routing())
        self.vocab = vocabulary(pack)
        self.tables = tuple(CompiledTable(t, self.vocab) for t in self.routing.tables)
        self.resolver = Resolver.for_grid(pack.grid)
        variables = set()
        for table in self.routing.tables:
            for rule in table.rules:
                variables |= rule.condition.variables
        for pattern in self.routing.patterns:  # the pattern engine reads the same fields
            variables |= pattern.condition.variables
            variables |= {g.field for g in pattern.group_by if g.field} | ({pattern.distinct} - {""})
        self._needs_time = bool(variables & TIME_FIELDS)
        self._needs_data = any(v.split(".")[0] not in EVENT_FIELDS and not v.startswith("route.") for v in variables)
        self._needs_route = any(v.startswith("route.") for v in variables)
        self._class_part = {c.id: self._class_fields(c.id) for c in pack.events.classes.values()}
        self._unit_part = {u.code: {"unit": u.code, "level": u.level, "zone": u.zone} for u in pack.grid.units.values()}
        self._channel_part = {ch.id: {"channel": ch.id, "ref_channel": ch.maps_to} for ch in pack.channels.values()}
        workflow = getattr(pack, "workflow", None)
        self._initial_state: str | None = getattr(workflow, "initial", None) if workflow is not None else None
        # The fixed part of each rule's trace text and the names it reports, by rule identity: sorting the
        # condition's variables and formatting the rule per event was 2% of intake time (py-spy).
        self._why: dict[int, tuple[str, tuple[str, ...]]] = {
            id(rule): (f"{rule.name}: {rule.condition.source}", tuple(sorted(rule.condition.variables)))
            for table in self.routing.tables for rule in table.rules}
        # Deadlines, with their ISO text, by (limit, start) — or (limit, start date) for working days, which
        # depend on the date only: the calendar arithmetic was 2.3% of intake time, and events come in at the
        # same moments.
        self._deadlines: dict[tuple[TimeLimit, Any], tuple[datetime, str]] = {}
        # Outcomes resolved on the grid by (outcome, reporting unit, handling unit); see _targets. Only this
        # router's own outcomes (by identity: they live as long as the router) are remembered.
        self._outcomes: dict[int, Outcome] = {id(self.routing.defaults): self.routing.defaults}
        self._outcomes.update((id(rule.then), rule.then) for table in self.routing.tables for rule in table.rules)
        self._resolved: dict[tuple[int, str, str], Targets] = {}
        # The trace text of each of its tables when no rule matched (a table's name never changes).
        self._unmatched: dict[int, str] = {
            id(table): f"{table.name}: 无规则命中,保持原决定 (no rule matched)" for table in self.routing.tables}

    @classmethod
    def from_pack(cls, pack: Pack) -> Router:
        return cls(pack)

    def _class_fields(self, class_id: str) -> dict[str, Any]:
        classes = self.pack.events.classes
        cls = classes[class_id]
        major = cls.parent or cls.id
        return {"class": cls.id, "major": major, "ref_class": cls.maps_to, "ref_major": classes[major].maps_to}

    # -- the fields an expression sees ----------------------------------------------------------------
    def fields(self, event: Event) -> dict[str, Any]:
        """Same names and values as :func:`wangge.core.events.event_fields` (checked by a property test)."""
        env: dict[str, Any] = dict(event.data) if self._needs_data else {}
        env.update(self._class_part[event.event_class])
        env.update(self._unit_part[event.unit])
        env.update(self._channel_part.get(event.channel) or {"channel": event.channel, "ref_channel": event.channel})
        env["id"] = event.id
        env["urgency"] = event.urgency
        env["people"] = event.people
        env["reporter_role"] = event.reporter_role
        if self._needs_time:
            env["reported_at"] = event.reported_at.isoformat()
            env["hour"] = event.reported_at.hour
            env["weekday"] = event.reported_at.isoweekday()
        return env

    # -- fast path without a Decision (bench, oracle) -----------------------------------------------
    def match(self, env: Mapping[str, Any]) -> tuple[int, ...]:
        """For each table the first matched rule index (-1: none); single-table FIRST packs in one call."""
        return tuple(t.first_match(env) if t.first else (m[0] if (m := t.all_matches(env)) else -1)
                     for t in self.tables)

    def first_rule_matcher(self, table: int = 0) -> Callable[[Mapping[str, Any]], int]:
        """The bound FIRST evaluator of one table: what the bench times against the other engines."""
        return self.tables[table].first_match

    # -- the decision ----------------------------------------------------------------------------------
    def decide(self, event: Event) -> Decision:
        b, time_limit, due = self._route(event)
        return Decision(event.id, b.level, b.unit, b.lead, tuple(b.assist), tuple(b.notify), time_limit,
                        due[0] if due is not None else None, b.priority, self._state(b),
                        tuple([TraceStep(s["table"], s["rule"], s["matched"], s["why"]) for s in b.trace]))

    def decide_json(self, event: Event) -> dict[str, Any]:
        """``decide(event).to_json()``, the decision as the cases service stores it, built straight from the
        routing state: building the frozen Decision and TraceSteps only to turn them into dicts was 7 µs of
        the HTTP intake's 68 µs per event."""
        b, time_limit, due = self._route(event)
        return decision_record(event.id, b.level, b.unit, b.lead, b.assist, b.notify, time_limit,
                               due[1] if due is not None else None, b.priority, self._state(b), b.trace)

    def _route(self, event: Event) -> tuple[_Building, TimeLimit | None, tuple[datetime, str] | None]:
        """Run the defaults and every table; → (the state built, the time limit, its deadline and ISO text)."""
        env = self.fields(event)
        unit = self.pack.grid.units[event.unit]
        b = _Building(event.unit, unit.level, unit.code)
        if self._needs_route:
            env["route"] = {}
        self._apply(b, self.routing.defaults, "defaults", None, None)
        for table in self.tables:
            if self._needs_route:
                env["route"] = {"level": b.level, "unit": b.unit, "lead": b.lead, "priority": b.priority, "state": b.state}
            self._run_table(table, env, b)
        time_limit, due = self._due(event, b)
        return b, time_limit, due

    def _run_table(self, compiled: CompiledTable, env: dict[str, Any], b: _Building) -> None:
        table = compiled.table
        if compiled.first:  # at most one rule, applied as is: what apply_hits does for FIRST, minus the lists
            i = compiled.first_match(env)
            if i < 0:
                b.trace.append(trace_record(table.id, None, False, self._unmatched[id(table)]))
            else:
                rule = table.rules[i]
                self._apply(b, rule.then, table.id, rule, env)
            return
        matched = compiled.matches(env)
        if not matched:
            b.trace.append(trace_record(table.id, None, False, self._unmatched[id(table)]))
            return
        rules = [table.rules[i] for i in matched]
        if table.hit == "unique" and len(rules) > 1:
            ids = tuple(r.id for r in rules)
            raise RoutingError(table.id, ids, f'决策表 "{table.id}" 为 UNIQUE,但事件 {env.get("id")} 同时命中规则 '
                                              f'{", ".join(ids)} (UNIQUE hit policy violated)')
        if table.hit == "any" and len({r.then for r in rules}) > 1:
            ids = tuple(r.id for r in rules)
            raise RoutingError(table.id, ids, f'决策表 "{table.id}" 为 ANY,但命中的规则 {", ".join(ids)} 输出不同 '
                                              f'(ANY hit policy: matching rules disagree)')
        self.apply_hits(b, table, rules, env)

    def apply_hits(self, b: _Building, table: Any, rules: list[RoutingRule], env: Mapping[str, Any] | None,
                   traced: bool = True) -> None:
        """Apply a table's matched ``rules`` by its hit policy (UNIQUE/ANY already checked). ``traced=False``
        leaves the rule out of the trace text (the comparison's memoised replay needs no trace)."""
        if table.hit == "priority":
            rules = [max(rules, key=lambda r: (_rank(table, r), -table.rules.index(r)))]
        if table.hit == "collect":
            for rule in rules:
                self._apply(b, rule.then, table.id, rule if traced else None, env, collect=True)
            pri = [r.then.priority for r in rules if r.then.priority is not None]
            if pri:
                agg = {"max": max, "min": min, "sum": sum}.get(table.aggregate, max)(pri)
                b.priority = b.priority + agg if table.aggregate == "sum" else (
                    max(b.priority, agg) if table.aggregate == "max" else min(b.priority, agg))
            return
        self._apply(b, rules[0].then, table.id, rules[0] if traced else None, env)

    def _apply(self, b: _Building, then: Outcome, table: str, rule: RoutingRule | None,
               env: Mapping[str, Any] | None, collect: bool = False) -> None:
        place, note, leads, assist, notify = self._targets(then, b.reporting, b.unit)
        if place is not None:
            b.unit, b.level = place.code, place.level
        if then.lead is not None:
            b.lead = leads[0] if leads else b.lead
        for who in assist:
            if who not in b.assist and who != b.lead:
                b.assist.append(who)
        for who in notify:
            if who not in b.notify:
                b.notify.append(who)
        if then.time_limit is not None:
            b.time_limit = then.time_limit
        if then.priority is not None and not collect:
            b.priority = then.priority
        if then.state is not None:
            b.state = then.state
        if rule is None:
            if then != NO_OUTCOME:
                b.trace.append(trace_record(table, None, True, "规则包默认值 (routing.defaults)"))
            return
        text, names = self._why.get(id(rule)) or (f"{rule.name}: {rule.condition.source}",
                                                   tuple(sorted(rule.condition.variables)))
        why = _why_text(text, names, env or {})
        b.trace.append(trace_record(table, rule.id, True, why + ("; " + note if note else "")))

    def _targets(self, then: Outcome, reporting: str, handling: str) -> Targets:
        """``_resolve``, remembered for the router's own outcomes: a pure function of the grid and its
        arguments, and resolving places and receivers on the tree was a quarter of decide()."""
        if self._outcomes.get(id(then)) is not then:   # not ours: its id may be reused, so no memo
            return self._resolve(then, reporting, handling)
        key = (id(then), reporting, handling)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= 65536:
                self._resolved.clear()
            found = self._resolved[key] = self._resolve(then, reporting, handling)
        return found

    def _resolve(self, then: Outcome, reporting: str, handling: str) -> Targets:
        """Where ``then`` puts an event reported at ``reporting`` and handled so far at ``handling``, and the
        receivers it names from there (see Targets)."""
        unit, note = None, None
        ref = then.unit or then.level
        if ref is not None:
            unit, exact = self.resolver.place(ref, reporting, handling)
            handling = unit.code
            if not exact:
                note = f"上报单元没有 {ref} 层级的上级,由 {unit.code} 处置"
        target = self.resolver.target
        leads = target(then.lead, reporting, handling) if then.lead is not None else ()
        assist = tuple(who for t in then.assist for who in target(t, reporting, handling))
        notify = tuple(who for t in then.notify for who in target(t, reporting, handling))
        return Targets(unit, note, leads, assist, notify)

    def _state(self, b: _Building) -> str | None:
        return b.state if b.state is not None else self._initial_state

    def _due(self, event: Event, b: _Building) -> tuple[TimeLimit | None, tuple[datetime, str] | None]:
        """The time limit (the rules', else the event class's for the unit's zone) and its deadline with ISO
        text; a deadline the calendar cannot give is None and a trace step says why."""
        time_limit = b.time_limit
        if time_limit is None:
            cls = self.pack.events.classes[event.event_class]
            time_limit = cls.time_limit(self.pack.grid.units[event.unit].zone)
        due: tuple[datetime, str] | None = None
        if time_limit is not None:
            try:
                due = self._deadline(event.reported_at, time_limit)
            except Exception as exc:  # noqa: BLE001 - a calendar year the pack does not supply: say so, don't guess
                b.trace.append(trace_record("calendar", None, False, f"无法计算办理期限: {exc}"))
        return time_limit, due

    def _deadline(self, start: datetime, limit: TimeLimit) -> tuple[datetime, str]:
        """``pack.calendar.deadline(start, limit)`` and its ``isoformat()`` (the text is what a stored decision
        keeps), remembered (bounded) for this router's pack."""
        local = as_shanghai(start)
        key = (limit, local.date() if limit.unit is TimeUnit.WORKDAYS else local)
        found = self._deadlines.get(key)
        if found is None:
            if len(self._deadlines) >= 4096:
                self._deadlines.clear()
            due = self.pack.calendar.deadline(start, limit)
            found = self._deadlines[key] = (due, due.isoformat())
        return found


def _rank(table: RoutingTable, rule: RoutingRule) -> tuple[int, float]:
    value = getattr(rule.then, table.priority_output)
    if value is None:
        return (0, float("-inf"))
    shown = getattr(value, "value", value)
    if table.priority_order:
        order = table.priority_order
        return (1, float(len(order) - order.index(str(shown))) if str(shown) in order else float("-inf"))
    return (1, float(shown) if isinstance(shown, (int, float)) else float("-inf"))


def _why(rule: RoutingRule, env: Mapping[str, Any]) -> str:
    """The rule, its condition, and the values it saw — enough to answer "why did this go there?"."""
    return _why_text(f"{rule.name}: {rule.condition.source}", tuple(sorted(rule.condition.variables)), env)


def _why_text(text: str, names: tuple[str, ...], env: Mapping[str, Any]) -> str:
    seen = ", ".join(f"{n}={_read(env, n)!r}" for n in names)
    return f"{text} ({seen})" if seen else text


def _read(env: Mapping[str, Any], name: str) -> Any:
    if "." not in name:  # the common case: one lookup, no split
        return env.get(name)
    value: Any = env
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value
