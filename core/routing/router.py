"""The compiled router: ``Router.from_pack(pack).decide(event) -> Decision``.

Tables run in the order the pack lists them. Each starts from the decision built so far (the pack's
``defaults`` first) and may read it as ``${route.level}`` etc. A single-hit table (FIRST, UNIQUE, ANY,
PRIORITY) overwrites the single-valued outputs its rule sets; ``assist`` and ``notify`` accumulate over all
tables, without duplicates. A COLLECT table adds the ``assist``/``notify`` of every matching rule and
combines their priorities with its ``aggregate`` (max by default).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..events import Event
from ..pack.model import Pack
from ..pack.sections.routing import Outcome, Routing, RoutingRule, RoutingTable, Vocabulary, make_vocabulary
from ..timelimit import TimeLimit, TimeUnit
from ..workcal import as_shanghai
from .decision import Decision, RoutingError, TraceStep
from .table import CompiledTable
from .targets import Resolver

#: Names event_fields() provides (core/events.py); anything else an expression reads is a form field (data).
EVENT_FIELDS = frozenset({"id", "class", "major", "ref_class", "ref_major", "channel", "ref_channel", "unit",
                          "level", "zone", "urgency", "people", "reporter_role", "reported_at", "hour", "weekday"})
TIME_FIELDS = frozenset({"reported_at", "hour", "weekday"})


def vocabulary(pack: Pack) -> Vocabulary:
    return make_vocabulary(pack.grid, pack.departments, pack.events, pack.channels, pack.reference)


@dataclass
class _Building:
    """The decision while tables run (mutable, local to one decide() call)."""

    reporting: str
    level: str
    unit: str
    lead: str | None = None
    time_limit: TimeLimit | None = None
    priority: int = 0
    state: str | None = None

    def __post_init__(self) -> None:
        self.assist: list[str] = []
        self.notify: list[str] = []
        self.trace: list[TraceStep] = []


class Router:
    """A pack's compiled routing. Its rules never change after construction; the only state it keeps is a
    bounded memo of deadlines, a pure function of its key, so threads sharing a Router at worst compute a
    deadline twice. decide() keeps everything else local."""

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
        # Deadlines by (limit, start) — or (limit, start date) for working days, which depend on the date
        # only: the calendar arithmetic was 2.3% of intake time, and events come in at the same moments.
        self._deadlines: dict[tuple[TimeLimit, Any], datetime] = {}

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
        return self._finish(event, b)

    def _run_table(self, compiled: CompiledTable, env: dict[str, Any], b: _Building) -> None:
        table = compiled.table
        matched = compiled.matches(env)
        if not matched:
            b.trace.append(TraceStep(table.id, None, False, f"{table.name}: 无规则命中,保持原决定 (no rule matched)"))
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
        notes = []
        place = then.unit or then.level
        if place is not None:
            unit, exact = self.resolver.place(place, b.reporting, b.unit)
            b.unit, b.level = unit.code, unit.level
            if not exact:
                notes.append(f"上报单元没有 {place} 层级的上级,由 {unit.code} 处置")
        if then.lead is not None:
            leads = self.resolver.target(then.lead, b.reporting, b.unit)
            b.lead = leads[0] if leads else b.lead
        for target in then.assist:
            for who in self.resolver.target(target, b.reporting, b.unit):
                if who not in b.assist and who != b.lead:
                    b.assist.append(who)
        for target in then.notify:
            for who in self.resolver.target(target, b.reporting, b.unit):
                if who not in b.notify:
                    b.notify.append(who)
        if then.time_limit is not None:
            b.time_limit = then.time_limit
        if then.priority is not None and not collect:
            b.priority = then.priority
        if then.state is not None:
            b.state = then.state
        if rule is None:
            if then != Outcome():
                b.trace.append(TraceStep(table, None, True, "规则包默认值 (routing.defaults)"))
            return
        text, names = self._why.get(id(rule)) or (f"{rule.name}: {rule.condition.source}",
                                                   tuple(sorted(rule.condition.variables)))
        why = _why_text(text, names, env or {})
        b.trace.append(TraceStep(table, rule.id, True, why + ("; " + "; ".join(notes) if notes else "")))

    def _finish(self, event: Event, b: _Building) -> Decision:
        time_limit = b.time_limit
        if time_limit is None:
            cls = self.pack.events.classes[event.event_class]
            time_limit = cls.time_limit(self.pack.grid.units[event.unit].zone)
        due: datetime | None = None
        if time_limit is not None:
            try:
                due = self._deadline(event.reported_at, time_limit)
            except Exception as exc:  # noqa: BLE001 - a calendar year the pack does not supply: say so, don't guess
                b.trace.append(TraceStep("calendar", None, False, f"无法计算办理期限: {exc}"))
        state = b.state if b.state is not None else self._initial_state
        return Decision(event.id, b.level, b.unit, b.lead, tuple(b.assist), tuple(b.notify), time_limit, due,
                        b.priority, state, tuple(b.trace))


    def _deadline(self, start: datetime, limit: TimeLimit) -> datetime:
        """``pack.calendar.deadline(start, limit)``, remembered (bounded) for this router's pack."""
        local = as_shanghai(start)
        key = (limit, local.date() if limit.unit is TimeUnit.WORKDAYS else local)
        due = self._deadlines.get(key)
        if due is None:
            if len(self._deadlines) >= 4096:
                self._deadlines.clear()
            due = self._deadlines[key] = self.pack.calendar.deadline(start, limit)
        return due


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
    value: Any = env
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value
