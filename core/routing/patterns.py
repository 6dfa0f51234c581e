"""Cross-event patterns (3 reports of one 小类 in one grid within 7 days → raise to 街镇 and merge; a
群体性 signal across grids), with durable-rules deciding in one owner thread.

Design (why not "one durable session per unit"): durable-rules allows 1,024 sessions per ruleset and
about 6 MB each; a county has thousands of grids × hundreds of 小类, so per-key sessions are out. Its
cross-event correlations (``all: [first, second, third]`` joined on class and unit) keep every partial
match as session state with no windowed expiry, so memory grows with every unmatched event, and its
timers are unreliable in 2.0.28. So the split is:

* Python keeps the sliding windows: one deque of (time, event id, distinct value) per pattern and group
  key, trimmed to the window on every event. Memory is bounded by the events inside the windows.
* durable-rules decides: after each event the window's summary (pattern id, count, distinct count) is
  posted as one message to ONE session of ONE ruleset holding a rule per pattern (threshold tests,
  first-match by ``pri``). Rules test ``pattern == id``, so at most one rule matches a message (limit:
  64), the ``pattern`` field has at most MAX_PATTERNS (256) values (limit: 511), one session (limit: 1,024).

All durable calls and all window state live in the owner thread; other threads submit work through a
queue and wait for the answer, so durable is never entered concurrently and needs no lock. Windows are in
memory: a restarted process starts them empty (the case store, not this engine, is the record).
"""
from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from durable import engine

from ..events import Event
from ..pack.model import Pack
from ..pack.sections.routing import MAX_PATTERNS, Pattern, Routing
from ..timelimit import TimeUnit
from .decision import Decision, TraceStep
from .durable import OwnedHost, check_limits
from .targets import Resolver

RULESET = "wangge_patterns"


@dataclass(frozen=True)
class PatternHit:
    pattern: Pattern
    key: tuple[Any, ...]
    count: int
    distinct: int
    event_ids: tuple[str, ...]  # the events in the window, oldest first, this one last

    @property
    def why(self) -> str:
        keys = ", ".join(f"{k}={v}" for k, v in zip(self.pattern.group_by, self.key))
        what = f"{self.distinct} 个不同 {self.pattern.distinct}" if self.pattern.distinct else f"{self.count} 件"
        return f"{self.pattern.name}: {self.pattern.window} 内 {what} ({keys}),阈值 {self.pattern.threshold}"


def _window(pattern: Pattern) -> timedelta:
    unit = {TimeUnit.DAYS: "days", TimeUnit.HOURS: "hours", TimeUnit.MINUTES: "minutes"}[pattern.window.unit]
    return timedelta(**{unit: pattern.window.value})


class PatternEngine:
    """Feed events in report order with :meth:`observe`; ``close()`` (or ``with``) stops the owner thread."""

    def __init__(self, pack: Pack, routing: Routing | None = None) -> None:
        self.pack = pack
        routing = routing if routing is not None else (getattr(pack, "routing", None) or Routing())
        self.patterns = routing.patterns
        if len(self.patterns) > MAX_PATTERNS:
            raise ValueError(f"too many patterns ({len(self.patterns)} > {MAX_PATTERNS})")
        self._tests = tuple(_test(p) for p in self.patterns)
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._own, name=f"wangge-patterns-{pack.id}", daemon=True)
        ready: Future = Future()
        self._thread.start()
        self._jobs.put((self._setup, ready))
        ready.result()

    # -- the owner thread -------------------------------------------------------------------------------
    def _own(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, future = job
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                future.set_exception(exc)

    def _setup(self) -> None:
        """Runs in the owner thread: the host, the ruleset, the windows are created and used only there."""
        self._fired: list[str] = []
        self._windows: dict[tuple[str, tuple[Any, ...]], deque[tuple[datetime, str, Any]]] = {}
        self._seq = itertools.count(1)
        rules: dict[str, dict[str, Any]] = {}
        for i, p in enumerate(self.patterns):
            tests: list[dict[str, Any]] = [{"pattern": p.id}]
            tests.append({"$gte": {"distinct" if p.distinct else "count": p.threshold}})
            rules[p.id] = {"pri": i + 1, "all": [{"m": {"$and": tests}}], "run": self._recorder(p.id)}
        check_limits(rules, 1)  # each rule tests its own pattern id: one rule matches a message at most
        self._host = OwnedHost()
        if rules:
            self._host.set_rulesets({RULESET: rules})

    def _recorder(self, pattern_id: str) -> Callable[[Any], None]:
        def run(c: Any) -> None:
            self._fired.append(pattern_id)
        return run

    def _observe(self, event: Event, env: Mapping[str, Any]) -> tuple[PatternHit, ...]:
        hits = []
        for pattern, test in zip(self.patterns, self._tests):
            if not test(env):
                continue
            key = tuple(self._key(g, event, env) for g in pattern.group_by)
            window = self._windows.setdefault((pattern.id, key), deque())
            window.append((event.reported_at, event.id, env.get(pattern.distinct) if pattern.distinct else None))
            latest = max(t for t, _, _ in window)
            while window and window[0][0] < latest - _window(pattern):
                window.popleft()
            count = len(window)
            distinct = len({d for _, _, d in window}) if pattern.distinct else count
            self._fired.clear()
            try:
                self._host.post(RULESET, {"id": f"p{next(self._seq)}", "pattern": pattern.id, "count": count,
                                          "distinct": distinct})
            except engine.MessageNotHandledException:
                continue
            if pattern.id in self._fired:
                hits.append(PatternHit(pattern, key, count, distinct, tuple(e for _, e, _ in window)))
        return tuple(hits)

    def _key(self, group: Any, event: Event, env: Mapping[str, Any]) -> Any:
        if group.ancestor:
            unit = self.pack.grid.ancestor_at(event.unit, group.ancestor)
            return unit.code if unit else event.unit
        return env.get(group.field)

    # -- callers (any thread) ------------------------------------------------------------------------
    def _call(self, fn: Callable[[], Any]) -> Any:
        future: Future = Future()
        self._jobs.put((fn, future))
        return future.result()

    def observe(self, event: Event, env: Mapping[str, Any]) -> tuple[PatternHit, ...]:
        """Count ``event`` (its fields ``env`` as Router.fields gives) and return the patterns it fires."""
        return self._call(lambda: self._observe(event, dict(env)))

    def reset(self) -> None:
        """Forget every window (scenarios start from an empty history)."""
        self._call(lambda: self._windows.clear())

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    def __enter__(self) -> PatternEngine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _test(pattern: Pattern) -> Callable[[Mapping[str, Any]], bool]:
    conjuncts = pattern.condition.conjuncts
    return lambda env: all(c.test(env) for c in conjuncts)


def apply_hits(decision: Decision, hits: tuple[PatternHit, ...], pack: Pack, event: Event) -> Decision:
    """The decision after the patterns an event fired: raised level, merged events, extra notices."""
    if not hits:
        return decision
    resolver = Resolver.for_grid(pack.grid)
    level, unit, lead = decision.level, decision.unit, decision.lead
    notify, priority, merge = list(decision.notify), decision.priority, list(decision.merge_with)
    trace = list(decision.trace)
    for hit in hits:
        action = hit.pattern.then
        if action.raise_to is not None:
            target, _ = resolver.place(action.raise_to, event.unit, unit)
            if _depth(pack, target.level) < _depth(pack, level):  # only ever raise, never lower
                unit, level = target.code, target.level
        if action.lead is not None:
            leads = resolver.target(action.lead, event.unit, unit)
            lead = leads[0] if leads else lead
        for t in action.notify:
            for who in resolver.target(t, event.unit, unit):
                if who not in notify:
                    notify.append(who)
        if action.priority is not None:
            priority = max(priority, action.priority)
        if action.merge:
            merge.extend(e for e in hit.event_ids if e != event.id and e not in merge)
        trace.append(TraceStep("patterns", hit.pattern.id, True, hit.why))
    return replace(decision, level=level, unit=unit, lead=lead, notify=tuple(notify), priority=priority,
                   merge_with=tuple(merge), trace=tuple(trace))


def _depth(pack: Pack, level: str) -> int:
    found = pack.grid.level(level)
    return found.depth if found else 99
