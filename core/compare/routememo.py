"""The pack's real router, memoised for replaying a large stream (the same answers, reused).

``Router.decide`` builds a traced Decision in about 40 µs; the comparison needs 500,000 of them in seconds.
A decision depends on (a) which rules of each table match — a function of the few fields the conditions read
— and (b) the reporting unit, through which places and receivers are resolved; the time limit falls back to
the event class's limit for the unit's zone when no rule sets one. So: matched rules are memoised by the
values of the fields the conditions read (matched by the router's own compiled tables), and the decision by
(matched rules, unit), built by the router's own ``_apply`` (places and receivers resolved on the grid)
without the trace and the deadline, which the replay does not read; only the hit-policy step between the two
is repeated here. tests/compare/test_routememo.py checks the results equal ``Router.decide`` event by event
for every example county. Packs whose tables read ``${route.*}`` (earlier tables' output) are routed with
the full ``decide`` and no memo.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..routing import Router, RoutingError
from ..routing.router import _Building
from ..timelimit import TimeLimit
from .keys import LocalEvent, key_function

_UNKNOWN = object()


@dataclass(frozen=True, slots=True)
class Route:
    level: str
    unit: str
    lead: str | None
    assist: tuple[str, ...]
    time_limit: TimeLimit | None    # None here and class_limit True: the event class's limit for the zone
    priority: int
    state: str | None
    class_limit: bool = False
    error: str | None = None        # a hit-policy violation (RoutingError), in Chinese


class MemoRouter:
    """Per pack and per comparison run; holds its memo dicts (no global state)."""

    def __init__(self, router: Router):
        self.router = router
        self.pack = router.pack
        routing = router.routing
        variables: set[str] = set()
        for table in routing.tables:
            for rule in table.rules:
                variables |= rule.condition.variables
        self.exact = bool(router._needs_route)
        self.key = key_function(variables)
        self._timed = [any(r.then.time_limit is not None for r in t.rules) for t in routing.tables]
        self._default_limit = routing.defaults.time_limit is not None
        self._matched: dict[tuple, tuple[tuple[int, ...], ...]] = {}
        self._routes: dict[tuple, Route] = {}
        self._class_limits: dict[tuple[str, str], TimeLimit | None] = {}
        self._from_rules: dict[tuple, bool | None] = {}

    def _limit_from_rules(self, matched: tuple[tuple[int, ...], ...]) -> bool | None:
        """True: the rules set the limit; False: the class does; None: cannot tell without the class."""
        if self._default_limit:
            return True
        tables = self.router.routing.tables
        hits = [tables[i].rules[j].then.time_limit is not None for i, m in enumerate(matched) for j in m]
        if not any(hits):
            return False
        return True if all(hits) else None

    def class_limit(self, event_class: str, unit: str) -> TimeLimit | None:
        key = (event_class, unit)
        if key not in self._class_limits:
            zone = self.pack.grid.units[unit].zone
            self._class_limits[key] = self.pack.events.classes[event_class].time_limit(zone)
        return self._class_limits[key]

    def route(self, ev: LocalEvent) -> Route:
        if self.exact:
            return self._decide(ev, False)
        k = self.key(ev)
        matched = self._matched.get(k)
        if matched is None:
            env = self.router.fields(ev.event())
            matched = tuple(tuple(t.matches(env)) for t in self.router.tables)
            self._matched[k] = matched
        from_rules = self._from_rules.get(matched, _UNKNOWN)
        if from_rules is _UNKNOWN:
            from_rules = self._from_rules[matched] = self._limit_from_rules(matched)
        ck = (matched, ev.unit) if from_rules is not None else (matched, ev.unit, ev.event_class)
        route = self._routes.get(ck)
        if route is None:
            route = self._apply(ev, matched, from_rules is False)
            self._routes[ck] = route
        return route

    def _apply(self, ev: LocalEvent, matched: tuple[tuple[int, ...], ...], class_limit: bool) -> Route:
        """The decision from already-matched rules, through the router's own ``_apply`` (targets resolved on
        this pack's grid) but without the trace and the deadline, which the replay does not read. Anything
        unusual — a hit-policy violation — goes through the full ``decide`` for its exact message."""
        router = self.router
        tables = router.routing.tables
        unit = self.pack.grid.units[ev.unit]
        b = _Building(ev.unit, unit.level, unit.code)
        router._apply(b, router.routing.defaults, "defaults", None, None)
        for table, hits in zip(tables, matched):
            if not hits:
                continue
            rules = [table.rules[i] for i in hits]
            if (table.hit == "unique" and len(rules) > 1) or (table.hit == "any" and len({r.then for r in rules}) > 1):
                return self._decide(ev, class_limit)
            router.apply_hits(b, table, rules, None, traced=False)
        limit = b.time_limit
        if limit is None and not class_limit:
            limit = self.class_limit(ev.event_class, ev.unit)
        state = b.state if b.state is not None else router._initial_state
        return Route(b.level, b.unit, b.lead, tuple(b.assist), None if class_limit else limit, b.priority, state,
                     class_limit)

    def _decide(self, ev: LocalEvent, class_limit: bool) -> Route:
        try:
            d = self.router.decide(ev.event())
        except RoutingError as exc:
            return Route("", ev.unit, None, (), None, 0, None, error=exc.message)
        return Route(d.level, d.unit, d.lead, d.assist, None if class_limit else d.time_limit, d.priority, d.state,
                     class_limit)

    def time_limit(self, route: Route, ev: LocalEvent) -> TimeLimit | None:
        return self.class_limit(ev.event_class, ev.unit) if route.class_limit else route.time_limit

    def stats(self) -> dict[str, Any]:
        return {"match_keys": len(self._matched), "routes": len(self._routes), "exact": self.exact}
