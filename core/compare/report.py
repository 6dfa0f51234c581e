"""``compare_packs(packs, events) -> Report``: the comparison the CLI, the HTML report and the portal show."""
from __future__ import annotations

import gc
import multiprocessing as mp
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import inf
from multiprocessing.connection import wait
from typing import Any, NamedTuple

from ..pack.model import Pack
from .rates import Rates
from .replay import OPEN, PackRun, replay, shared_inputs
from .scenario import SYNTHETIC_NOTE
from .scoring import model_scoring
from .vocab import RefEvent, check_comparable

TOP = 10


@dataclass(frozen=True)
class Report:
    """Everything a leader sees: per model totals, and the events on which the models disagree."""

    meta: Mapping[str, Any]
    models: tuple[Mapping[str, Any], ...]
    diff: Mapping[str, Any]
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(m["label"] for m in self.models)

    def to_json(self) -> dict[str, Any]:
        return {"meta": dict(self.meta), "models": [dict(m) for m in self.models], "diff": dict(self.diff),
                "timings": dict(self.timings)}


def labels_for(packs: Sequence[Pack]) -> list[str]:
    """Pack ids; a repeated id (two versions of one pack) gets #2, #3 …"""
    seen: Counter = Counter()
    out = []
    for p in packs:
        seen[p.id] += 1
        out.append(p.id if seen[p.id] == 1 else f"{p.id}#{seen[p.id]}")
    return out


def _pct(values: list[float], q: float) -> float | None:
    """The q-quantile of already sorted values, interpolated like statistics.quantiles(method="inclusive")
    (which would sort 100,000 values again on every call)."""
    if not values:
        return None
    pos = q * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def summarize(run: PackRun, n: int) -> dict[str, Any]:
    pack = run.pack
    levels = [lv.id for lv in pack.grid.levels]
    names = {lv.id: lv.name for lv in pack.grid.levels}
    closed = Counter(run.closed_level)
    routed = Counter(run.routed_level)
    done = sorted(h for h in run.hours if h < inf)
    missed = sum(run.missed)
    dept_cases: dict[str, int] = defaultdict(int)
    dept_cap: dict[str, int] = defaultdict(int)
    bottom: list[dict[str, Any]] = []
    for server, cases in zip(run.servers, run.server_cases):
        if server.department:
            dept_cases[server.department] += cases
            dept_cap[server.department] += server.capacity
        elif server.bottom:
            bottom.append({"unit": server.unit, "name": server.name, "queue": server.key, "cases": cases,
                           "staff": server.capacity, "per_worker": round(cases / server.capacity, 2)})
    per_worker = sorted(b["per_worker"] for b in bottom)
    departments = sorted(({"id": d, "name": pack.departments[d].name, "cases": c, "capacity": dept_cap[d],
                           "share": round(c / n, 4), "per_capacity": round(c / dept_cap[d], 2)}
                          for d, c in dept_cases.items()), key=lambda x: -x["cases"])
    return {
        "label": run.label, "pack": pack.id, "version": pack.version, "name": pack.manifest.name,
        "events": n,
        "levels": [{"id": lv, "name": names[lv]} for lv in levels],
        "routed_share": {lv: round(routed.get(lv, 0) / n, 4) for lv in levels},
        "closed_share": {**{lv: round(closed.get(lv, 0) / n, 4) for lv in levels},
                         "open": round(closed.get(OPEN, 0) / n, 4)},
        "closed": len(done), "open": closed.get(OPEN, 0),
        "routing_errors": dict(run.errors),
        "time_to_close_hours": {"p10": _r(_pct(done, 0.10)), "p25": _r(_pct(done, 0.25)),
                                "median": _r(_pct(done, 0.5)), "p75": _r(_pct(done, 0.75)),
                                "p90": _r(_pct(done, 0.9)), "max": _r(done[-1] if done else None),
                                "mean": _r(sum(done) / len(done) if done else None)},
        "deadline_missed": missed, "deadline_missed_share": round(missed / n, 4),
        "escalation_steps": sum(run.escalations), "escalated_cases": sum(1 for x in run.escalations if x),
        "raised_cases": sum(1 for x in run.raised if x),
        "departments": departments[:TOP], "departments_total": len(departments),
        "grid_workers": {"queues": len(bottom), "cases": sum(b["cases"] for b in bottom),
                         "per_worker_mean": _r(sum(per_worker) / len(per_worker) if per_worker else None),
                         "per_worker_p90": _r(_pct(per_worker, 0.9)),
                         "per_worker_max": _r(per_worker[-1] if per_worker else None),
                         "top": sorted(bottom, key=lambda b: -b["per_worker"])[:TOP]},
        "paths": [{"path": p, "cases": c} for p, c in run.paths.most_common(TOP)],
        **model_scoring(run),   # facts, indicators, scores: the scoring engine over the replay's fact rows
        "horizon": run.horizon.isoformat() if run.horizon else None,
        "memo": run.memo,
    }


def _r(x: float | None) -> float | None:
    return round(x, 2) if x is not None else None


class Columns(NamedTuple):
    """The per-event answers of one model that the diff compares (what a worker process sends back)."""

    label: str
    routed_level: list[str]
    lead: list[str]
    closed_level: list[str]
    missed: list[bool]

    @classmethod
    def of(cls, run: PackRun) -> Columns:
        return cls(run.label, run.routed_level, run.lead, run.closed_level, run.missed)


def event_diff(runs: Sequence[Columns], events: Sequence[RefEvent], limit: int | None = None) -> dict[str, Any]:
    """Events on which the models disagree. ``routing`` marks a difference in the decision itself (level or
    lead) — what a rule change moves; ``outcome`` a difference only in where it closed or whether it was late,
    which queueing can cause for events no rule touched."""
    rows = []
    routing_n = outcome_n = 0
    # One tuple per event and column; a row differs when not all its values equal the first.
    m = len(runs)
    for e, levels, leads, closed, missed in zip(events, zip(*(r.routed_level for r in runs)),
                                                zip(*(r.lead for r in runs)), zip(*(r.closed_level for r in runs)),
                                                zip(*(r.missed for r in runs))):
        routing = levels.count(levels[0]) != m or leads.count(leads[0]) != m
        outcome = closed.count(closed[0]) != m or missed.count(missed[0]) != m
        if not (routing or outcome):
            continue
        routing_n += routing
        outcome_n += outcome and not routing
        if limit is None or len(rows) < limit:
            rows.append({"id": e.id, "ref_class": e.ref_class, "place": e.place, "routing": routing,
                         "level": list(levels), "lead": list(leads), "closed_level": [c or "未结" for c in closed],
                         "missed": list(missed)})
    return {"models": [r.label for r in runs], "routing_differs": routing_n, "outcome_only_differs": outcome_n,
            "shown": len(rows), "events": rows}


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a replay builds its few hundred thousand tuples: they are
    all alive until the end (no cycles to find), yet each gen-0/1 pass walks them — a third of the run time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _one(pack: Pack, label: str, events: Sequence[RefEvent], shared: Any, rates: Rates, engine: str,
         tick: Callable[[int], None] | None) -> tuple[dict[str, Any], Columns, dict[str, float]]:
    t0 = time.perf_counter()
    with _no_gc():
        run = replay(pack, label, events, shared, rates, engine=engine, tick=tick)
        if tick is not None:  # replay ticked 5000 per block; add the rest
            tick(len(events) - 5000 * ((len(events) - 1) // 5000))
        t1 = time.perf_counter()
        summary = summarize(run, len(events))
    return summary, Columns.of(run), {f"replay:{label}": t1 - t0, f"summary:{label}": time.perf_counter() - t1}


def _in_workers(packs: Sequence[Pack], labels: Sequence[str], events: Sequence[RefEvent], shared: Any,
                rates: Rates, engine: str, workers: int,
                progress: Callable[[int], None] | None) -> list[tuple[dict[str, Any], Columns, dict[str, float]]]:
    """One forked process per pack, ``workers`` at a time. Fork (not spawn): the children inherit the
    compiled packs and the events instead of pickling them; only the answers travel back."""
    ctx = mp.get_context("fork")
    # Freeze what exists now (packs, events) into the permanent generation before forking, so neither the
    # children's nor the parent's collector touches those pages (copy-on-write stays cheap); see gc.freeze.
    gc.collect()
    gc.freeze()
    try:
        return _run_children(ctx, packs, labels, events, shared, rates, engine, workers, progress)
    finally:
        gc.unfreeze()


def _run_children(ctx: Any, packs: Sequence[Pack], labels: Sequence[str], events: Sequence[RefEvent], shared: Any,
                  rates: Rates, engine: str, workers: int,
                  progress: Callable[[int], None] | None) -> list[tuple[dict[str, Any], Columns, dict[str, float]]]:
    results: dict[int, Any] = {}
    pending = list(range(len(packs)))
    running: dict[Any, tuple[int, Any]] = {}

    def child(i: int, conn: Any) -> None:
        try:
            out = _one(packs[i], labels[i], events, shared, rates, engine, lambda k: conn.send(("tick", k)))
            conn.send(("done", out))
        except BaseException as exc:  # noqa: BLE001 - report any failure to the parent, then exit
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            conn.close()

    while pending or running:
        while pending and len(running) < workers:
            i = pending.pop(0)
            parent, kid = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=child, args=(i, kid), daemon=True)
            proc.start()
            kid.close()
            running[parent] = (i, proc)
        for conn in wait(list(running)):
            i, proc = running[conn]
            try:
                kind, payload = conn.recv()
            except EOFError:
                kind, payload = "error", "工作进程意外退出 (worker died)"
            if kind == "tick":
                if progress is not None:
                    progress(payload)
                continue
            del running[conn]
            proc.join()
            if kind == "error":
                for other, p in running.values():
                    p.terminate()
                raise RuntimeError(f"比较 {labels[i]} 失败: {payload}")
            results[i] = payload
    return [results[i] for i in range(len(packs))]


def compare_packs(packs: Sequence[Pack], events: Sequence[RefEvent], *, rates: Rates | None = None,
                  labels: Sequence[str] | None = None, engine: str = "heap", meta: Mapping[str, Any] | None = None,
                  diff_limit: int | None = None, progress: Callable[[int], None] | None = None,
                  workers: int | None = None) -> Report:
    """Replay ``events`` through every pack. Raises ComparabilityError (Chinese) when they cannot be compared.

    ``progress(k)`` is called as events are replayed (k events at a time; len(packs) × len(events) in all).
    ``workers``: processes (default: one per CPU for large runs, none for small ones such as the portal's).
    """
    rates = rates or Rates()
    check_comparable(packs, events)
    labels = list(labels or labels_for(packs))
    started = time.perf_counter()
    with _no_gc():
        shared = shared_inputs(events, packs[0].reference, rates)
    timings: dict[str, float] = {"prepare": time.perf_counter() - started}
    if workers is None:
        workers = min(len(packs), os.cpu_count() or 1) if len(events) * len(packs) >= 100_000 else 1
    if workers > 1 and len(packs) > 1 and "fork" in mp.get_all_start_methods():
        results = _in_workers(packs, labels, events, shared, rates, engine, workers, progress)
    else:
        results = [_one(p, label, events, shared, rates, engine, progress) for p, label in zip(packs, labels)]
    summaries = [r[0] for r in results]
    for r in results:
        timings.update(r[2])
    t0 = time.perf_counter()
    with _no_gc():
        diff = event_diff([r[1] for r in results], events, diff_limit)
    timings["diff"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - started
    info = {"synthetic_note": SYNTHETIC_NOTE, "events": len(events), "engine": engine, "workers": workers,
            "epoch": shared.epoch.isoformat(), "rates": rates.to_json(), **dict(meta or {})}
    return Report(info, tuple(summaries), diff, timings)
