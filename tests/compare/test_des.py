"""The simulation: more staff closes faster; the heap engine agrees with the SimPy model."""
from __future__ import annotations

import random
from math import inf

from wangge.core.compare import Rates, compare_packs
from wangge.core.compare.des import Job, simulate, simulate_simpy


def _median(report, i: int = 0) -> float:
    return report.models[i]["time_to_close_hours"]["median"]


def test_more_staff_closes_faster(pengli, stream) -> None:
    base = compare_packs([pengli], stream.events, workers=1)
    more = compare_packs([pengli], stream.events, rates=Rates(staff_scale=4.0), workers=1)
    fewer = compare_packs([pengli], stream.events, rates=Rates(staff_scale=0.25), workers=1)
    assert _median(more) < _median(base) < _median(fewer)
    assert more.models[0]["deadline_missed"] <= base.models[0]["deadline_missed"] <= fewer.models[0]["deadline_missed"]


def test_heap_engine_equals_simpy() -> None:
    rng = random.Random(5)
    jobs = []
    for _ in range(400):
        arrival = rng.uniform(0, 2000)
        q = rng.randrange(4)
        if rng.random() < 0.3:  # escalated to queue 4 if not done 90 minutes after arriving
            stages = ((q, arrival + 90.0 + rng.random()), (4, inf))
        else:
            stages = ((q, inf),)
        jobs.append(Job(arrival, rng.expovariate(1 / 60), rng.random() < 0.5, stages))
    caps = [1, 2, 1, 3, 2]

    def finish(start: float, effort: float, natural: bool) -> float:
        return start + effort * (1.0 if natural else 1.5)

    heap = simulate(jobs, caps, finish)
    sim = simulate_simpy(jobs, caps, finish, until=1e9)
    for a, b in zip(heap, sim):
        assert a.stage == b.stage
        assert abs(a.end - b.end) < 1e-6


def test_simpy_engine_runs_the_same_report(pengli, yingze, stream) -> None:
    events = stream.events[:400]
    heap = compare_packs([pengli, yingze], events, workers=1)
    sim = compare_packs([pengli, yingze], events, engine="simpy", workers=1)
    for a, b in zip(heap.models, sim.models):
        assert a["closed_share"] == b["closed_share"]
        assert abs(a["time_to_close_hours"]["median"] - b["time_to_close_hours"]["median"]) < 0.5
