"""Replaying one event stream through one pack: route, plan, simulate, and record each case's facts
(docs/compare.md). The facts are rows the scoring engine counts (``core/scoring/memory.py``): compare has no
indicator or scoring code of its own."""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from hashlib import blake2b
from math import inf
from time import perf_counter
from typing import Any

from ..pack.model import Pack, Reference
from ..routing import Router
from ..scoring.memory import FactRow
from ..scoring.period import Period
from ..timelimit import TimeUnit
from .des import Job, simulate, simulate_simpy
from .factrows import (
    AT_CLOSE,
    AT_END,
    FROM_END,
    FROM_REPORT,
    admin_steps,
    counted_facts,
    filters_rows,
    records_close,
    schedule,
)
from .fastcal import MinuteCalendar
from .keys import LocalEvent
from .plan import Planner, Server
from .rates import Rates
from .routememo import MemoRouter, Route
from .vocab import RefEvent, Translator

NATURAL_UNITS = frozenset({TimeUnit.MINUTES, TimeUnit.HOURS, TimeUnit.DAYS})
OPEN = ""  # closed_level of a case still open at the horizon


@dataclass(frozen=True)
class Shared:
    """What every pack sees of the stream: times on one minute axis, and each event's work content."""

    epoch: datetime
    t: tuple[float, ...]
    effort: tuple[float, ...]       # working minutes, the same in every model
    span_days: int
    vocab: tuple[int, ...] = ()     # per event: index into ``vocab_keys`` (translated once per pack, not per event)
    vocab_keys: tuple[RefEvent, ...] = ()   # one representative event per distinct class/channel wording
    place: tuple[int, ...] = ()     # per event: index into ``places``
    places: tuple[str, ...] = ()


def effort_factor(event_id: str, sigma: float) -> float:
    """A log-normal factor fixed by the event id: the same event is equally hard in every model."""
    digest = blake2b(event_id.encode("utf-8"), digest_size=16).digest()
    u1 = (int.from_bytes(digest[:8], "big") + 1) / (2 ** 64 + 1)
    u2 = int.from_bytes(digest[8:], "big") / 2 ** 64
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)
    return math.exp(sigma * z - sigma * sigma / 2)  # mean 1


def shared_inputs(events: Sequence[RefEvent], reference: Reference, rates: Rates) -> Shared:
    if not events:
        raise ValueError("事件流为空 (no events)")
    first = min(e.reported_at for e in events)
    epoch = datetime.combine(first.date(), datetime.min.time(), first.tzinfo)
    classes = reference.classification.classes
    t, effort = [], []
    vocab: list[int] = []
    vocab_index: dict[tuple[str, ...], int] = {}
    vocab_keys: list[RefEvent] = []
    place: list[int] = []
    place_index: dict[str, int] = {}
    last = first
    for e in events:
        vk = (e.source_pack, e.source_class, e.ref_class, e.source_channel, e.ref_channel)
        k = vocab_index.get(vk)
        if k is None:
            k = vocab_index[vk] = len(vocab_keys)
            vocab_keys.append(e)
        vocab.append(k)
        k = place_index.get(e.place)
        if k is None:
            k = place_index[e.place] = len(place_index)
        place.append(k)
        t.append((e.reported_at - epoch).total_seconds() / 60.0)
        cls = classes.get(e.ref_class)
        major = (cls.parent or cls.id) if cls else e.ref_class
        hours = rates.effort_hours.get(major, rates.effort_default)
        effort.append(hours * 60.0 * effort_factor(e.id, rates.effort_spread))
        last = max(last, e.reported_at)
    return Shared(epoch, tuple(t), tuple(effort), (last - epoch).days + 1, tuple(vocab), tuple(vocab_keys),
                  tuple(place), tuple(place_index))


@dataclass
class PackRun:
    """One model's replay: per-event columns (for the diff) and totals (for the report)."""

    label: str
    pack: Pack
    routed_level: list[str] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)
    closed_level: list[str] = field(default_factory=list)
    missed: list[bool] = field(default_factory=list)
    hours: list[float] = field(default_factory=list)      # reported → closed, natural hours (inf: open)
    escalations: list[int] = field(default_factory=list)
    raised: list[int] = field(default_factory=list)
    fact_rows: dict[str, list[FactRow]] = field(default_factory=dict)   # by fact; times on the minute axis
    locals: list[LocalEvent] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    paths: Counter = field(default_factory=Counter)
    servers: list[Server] = field(default_factory=list)
    server_cases: list[int] = field(default_factory=list)
    server_busy: list[float] = field(default_factory=list)
    horizon: datetime | None = None
    epoch: datetime | None = None       # origin of the minute axis of ``fact_rows``
    period: Period | None = None        # the replay's whole span: from the first day to the horizon
    memo: dict[str, Any] = field(default_factory=dict)


def _lead_name(lead: str | None) -> str:
    """A lead without its unit code (role@unit → role): unit codes differ between packs by construction."""
    if not lead:
        return "—"
    return lead.split("@", 1)[0]


def _fields(e: RefEvent, unit: str, words: tuple[str, str], zone_of: dict[str, str | None], route: Route,
            state: str, level: str) -> dict[str, Any]:
    """The columns a stored case copies onto its fact rows (and the case fields a ``where:`` may read), shared
    by all the rows of one case. The replay has no people and no 12345 numbers: reporter, actor and external_id
    are left out, which the counter reads as null (one dict per case, so every key left out saves time)."""
    return {"unit_code": unit, "handler_unit": route.unit, "lead": route.lead, "event_class": words[0],
            "ref_class": e.ref_class, "channel": words[1], "zone": zone_of.get(unit), "state": state, "level": level,
            "priority": route.priority, "supervised": False}


def replay(pack: Pack, label: str, events: Sequence[RefEvent], shared: Shared, rates: Rates,
           engine: str = "heap", keep_locals: bool = False, tick: Callable[[int], None] | None = None) -> PackRun:
    began = perf_counter()
    tr = Translator.for_pack(pack)
    router = Router.from_pack(pack)
    memo = MemoRouter(router)
    cal = MinuteCalendar.build(pack.calendar, shared.epoch, max_days=shared.span_days + 240)

    def env_of(ev: LocalEvent, route: Route, state: str) -> dict[str, Any]:
        env = router.fields(ev.event())
        env.update({"state": state, "level": route.level, "handler_unit": route.unit, "lead": route.lead,
                    "assist": list(route.assist), "priority": route.priority, "supervised": False, "returns": 0,
                    "reworks": 0, "extensions": 0, "rung": None, "actor_role": "", "decision_level": route.level})
        return env

    planner = Planner(pack, rates, env_of)
    run = PackRun(label, pack)
    index: dict[str, int] = {}
    step = rates.step_minutes
    add_work = cal.add_work
    deadline = cal.deadline

    def admin(t: float, minutes: float, natural: bool) -> float:
        if minutes <= 0:
            return t
        return t + minutes if natural else add_work(t, minutes)

    def queue(server: Server) -> int:
        i = index.get(server.key)
        if i is None:
            i = index[server.key] = len(run.servers)
            run.servers.append(server)
        return i

    bundles: dict[tuple, tuple] = {}
    stages_memo: dict[tuple[float, int], tuple] = {}
    effort = shared.effort
    triggers_memo: dict[tuple[float, int], float] = {}

    def trigger(due: float, after: Any) -> float:
        # Many cases share a due moment (close of business), so escalation moments repeat: memoise them.
        if after is None:
            return due
        key = (due, id(after))  # id: TimeLimit objects live in the pack for the whole run
        when = triggers_memo.get(key)
        if when is None:
            when = triggers_memo[key] = deadline(due, after)
        return when

    jobs: list[Job] = []
    # per event: (route, plan, due, natural, triggers, stage levels, has a time limit)
    meta: list[tuple[Any, ...]] = []
    no_job = Job(inf, 0.0, False, ())
    words = [(tr.local_class(e), tr.local_channel(e)) for e in shared.vocab_keys]
    unit_of = [tr.unit(place) for place in shared.places]
    vocab, place = shared.vocab, shared.place
    route_of = memo.route
    event_key = planner.event_key if planner.reads_event else None
    shared_t = shared.t
    jobs_append = jobs.append
    meta_append = meta.append
    path_counts: dict[int, int] = {}
    for i, e in enumerate(events):
        if tick is not None and i and i % 5000 == 0:
            tick(5000)
        unit = unit_of[place[i]]
        cls, channel = words[vocab[i]]
        ev = LocalEvent(e.id, cls, channel, unit, e.reported_at, e.urgency, e.people, e.reporter_role, e.data)
        if keep_locals:
            run.locals.append(ev)
        route = route_of(ev)
        if route.error is not None:
            run.errors[route.error] += 1
            jobs_append(no_job)
            meta_append((route, None, inf, False, (), (), False))
            continue
        limit = memo.class_limit(ev.event_class, ev.unit) if route.class_limit else route.time_limit
        t = shared_t[i]
        natural = limit is not None and limit.unit in NATURAL_UNITS
        due = deadline(t, limit) if limit is not None else inf
        # Everything below depends on the route (one object per distinct decision) and on the few event
        # values the workflow's conditions read: computed once per such pair.
        bkey = (id(route), event_key(ev) if event_key else (), due < inf)
        bundle = bundles.get(bkey)
        if bundle is None:
            plan = planner.plan(route, ev)
            if not plan.closes or plan.handling < 0:
                bundle = (plan, 0, 0, None, ())
            else:
                chain = planner.chain(route, plan, ev) if due < inf else ()
                first = queue(planner.server(route, plan, ev.unit))
                raises = tuple((r.after, queue(r.server), r.level) for r in chain if r.server is not None)
                bundle = (plan, plan.handling, len(plan.transitions) - plan.handling - 1, first,
                          tuple(r.after for r in chain), raises)
            bundles[bkey] = bundle
        plan = bundle[0]
        path_counts[id(plan)] = path_counts.get(id(plan), 0) + 1
        if not plan.closes:
            jobs.append(no_job)
            meta.append((route, plan, due, natural, (), (), limit is not None))
            continue
        if plan.handling < 0:
            jobs.append(Job(admin(t, len(plan.transitions) * step, natural), 0.0, natural, ()))
            meta.append((route, plan, due, natural, (), (), limit is not None))
            continue
        _, before, _, first, afters, raises = bundle
        arrival = (t + before * step if natural else add_work(t, before * step)) if before else t
        # Escalation moments depend only on (due, decision): many cases share a due moment (close of business).
        skey = (due, id(bundle))
        staged = stages_memo.get(skey)
        if staged is None:
            triggers = tuple([trigger(due, a) for a in afters]) if afters else ()
            stages, leaves, levels = [first], [], [route.level]
            for a, q, level in raises:
                leaves.append(trigger(due, a))
                stages.append(q)
                levels.append(level or levels[-1])
            leaves.append(inf)
            staged = stages_memo[skey] = (triggers, tuple(zip(stages, leaves)), tuple(levels))
        jobs_append(Job(arrival, effort[i], natural, staged[1]))
        meta_append((route, plan, due, natural, staged[0], staged[2], limit is not None))
    plans = {id(b[0]): b[0] for b in bundles.values()}
    for key, n in path_counts.items():
        run.paths[plans[key].label] += n
    capacities = [s.capacity for s in run.servers]
    clock = {"plan": perf_counter()}

    def finish(start: float, effort: float, natural: bool) -> float:
        return start + effort if natural else add_work(start, effort)

    if engine == "simpy":
        outcomes = simulate_simpy(jobs, capacities, finish, until=cal.horizon)
    else:
        outcomes = simulate(jobs, capacities, finish)
    clock["simulate"] = perf_counter()
    run.server_cases = [0] * len(run.servers)
    run.server_busy = [0.0] * len(run.servers)
    horizon = cal.horizon
    wanted = counted_facts(pack)
    # A pack whose counts filter (``where:``) gets every column on its rows; otherwise the rows carry only the
    # columns the engine groups by — unit and 主办 (the replay has no reporter or actor) — which is all
    # that is read, and one small dict per case instead of a wide one (100,000s of cases).
    full_rows = filters_rows(pack)
    rows: dict[str, list[FactRow]] = {f: [] for f in wanted}
    add = {f: rows[f].append for f in wanted}   # bound once: called for every row
    opening = [f for f in ("reported", "accepted") if f in wanted]
    want_due, want_escalated = "due" in wanted, "escalated" in wanted
    schedules: dict[int, tuple] = {}
    zone_of = {code: u.zone for code, u in pack.grid.units.items()}
    for i, (job, out, (route, plan, due, natural, triggers, levels, has_limit)) in enumerate(zip(jobs, outcomes, meta)):
        run.routed_level.append(route.level if route.error is None else "!")
        run.lead.append(_lead_name(route.lead) if route.error is None else "!")
        if plan is None or not plan.closes:
            run.closed_level.append(OPEN)
            run.missed.append(due < horizon)
            run.hours.append(inf)
            run.escalations.append(0)
            run.raised.append(0)
            if plan is not None:  # opened, but no path closes it: only the opening facts
                t = shared.t[i]
                cid = events[i].id
                fields = _fields(events[i], unit_of[place[i]], words[vocab[i]], zone_of, route, plan.states[0],
                                 route.level) if full_rows else {"unit_code": unit_of[place[i]], "lead": route.lead}
                for fact in opening:
                    add[fact]((cid, fact, t, None, fields))
                if want_due and has_limit and due < inf:
                    add["due"]((cid, "due", due, None, fields))
            continue
        end = inf
        if job.stages:
            end = out.end
            if end < inf:
                q = job.stages[out.stage][0]
                run.server_cases[q] += 1
            close = admin(end, (len(plan.transitions) - plan.handling - 1) * step, natural) if end < inf else inf
        else:
            close = job.arrival
        closed = close < horizon
        t = shared.t[i]
        level = (levels[out.stage] if job.stages else route.level)
        run.closed_level.append(level if closed else OPEN)
        run.hours.append((close - t) / 60.0 if closed else inf)
        late = close > due if closed else due < horizon
        run.missed.append(late)
        fired = sum(1 for when in triggers if when < close) if triggers else 0
        run.escalations.append(fired)
        run.raised.append(out.stage if (closed and job.stages) else 0)
        # The case's fact rows (factrows.py): every counted fact of a step that ended before the horizon.
        cid = events[i].id
        if full_rows:
            states = plan.states
            if closed:
                state = states[-1]
            elif end < horizon and plan.handling >= 0:
                state = states[plan.handling + 1]   # handled; the steps after it not all done by the horizon
            else:
                state = states[max(plan.handling, 0)] if job.arrival < horizon else states[0]
            fields = _fields(events[i], unit_of[place[i]], words[vocab[i]], zone_of, route, state, level)
        else:
            fields = {"unit_code": unit_of[place[i]], "lead": route.lead}
        for fact in opening:
            add[fact]((cid, fact, t, None, fields))
        sched = schedules.get(id(plan))
        if sched is None:
            sched = schedules[id(plan)] = (schedule(plan, wanted), *admin_steps(plan), records_close(plan))
        facts, n_pre, n_post, closes_due = sched
        if facts:
            # Administrative steps are step_minutes of working time each; when the whole stretch before (after)
            # the handling work is working time, each step is simply k × step_minutes later (no calendar call).
            pre_linear = natural or job.arrival - t == n_pre * step
            post_linear = natural or (end < inf and close - end == n_post * step)
            for fact, base, k in facts:
                if base == FROM_REPORT:
                    when = t + k * step if pre_linear else add_work(t, k * step)
                elif base == AT_END:
                    when = end
                elif base == FROM_END:
                    when = end + k * step if post_linear else admin(end, k * step, natural) if end < inf else inf
                else:
                    assert base == AT_CLOSE
                    when = close
                if when < horizon:
                    add[fact]((cid, fact, when, None, fields))
        if want_escalated:
            for when in triggers:
                if when < close:  # each rule that fired before the close is one 升级 step, at its moment
                    add["escalated"]((cid, "escalated", when, None, fields))
        if want_due:
            if has_limit:
                if due < inf:
                    add["due"]((cid, "due", due, close if closed else None, fields))
            elif closed and closes_due:  # no deadline: due when it closes (当场办结), as the cases service records
                add["due"]((cid, "due", close, close, fields))
    run.fact_rows = rows
    run.epoch = cal.epoch
    last = cal.moment(horizon)
    run.period = Period(f"{cal.epoch:%Y-%m-%d}..{last - timedelta(days=1):%Y-%m-%d}", cal.epoch, last)
    run.horizon = cal.moment(horizon)
    clock["tally"] = perf_counter()
    run.memo = {**memo.stats(), "plans": len(planner._plans), "queues": len(run.servers),
                "seconds": {"route+plan": round(clock["plan"] - began, 3),
                            "simulate": round(clock["simulate"] - clock["plan"], 3),
                            "tally": round(clock["tally"] - clock["simulate"], 3)}}
    return run
