"""Discrete-event simulation of handling: one FIFO multi-server queue per office, unit or role.

Each case visits a queue (the server of its handling step), waits for the first free worker, works for its
effort — on the working calendar (9:00–17:30, working days), or round the clock when its time limit is in
natural time (突发: 分钟/小时/自然日) — and closes, unless an escalation step falls due first: then it leaves
(if it never started, without using the worker) and arrives at the next level's queue at that moment.

Two engines with the same semantics:

* :func:`simulate` — arrivals in one heap ordered by time, each queue a heap of its workers' free times.
  With FIFO service and the decision to leave known on arrival (the escalation moment is fixed by the
  deadline), a case's start is fixed when it arrives, so the whole run is O(n log n) with a few heap
  operations per case. Measured on this machine: 3–4 µs per case (100,000 cases in 0.3–0.4 s).
* :func:`simulate_simpy` — the same model as SimPy processes (a ``Resource`` per queue, ``request | timeout``
  for leaving on escalation). Measured ~20 µs per case, 5× slower: 10 s for the bench's 500,000 cases on
  its own, twice the whole budget. So it cross-checks the heap engine in the tests (identical end times)
  and runs on request (``wangge compare --des simpy``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from heapq import heapify, heappop, heappush, heapreplace
from math import inf
from typing import NamedTuple


class Job(NamedTuple):  # NamedTuple, not a dataclass: 500,000 are built per bench run
    """A case for the simulation. ``stages[k]`` is (queue index, moment the case leaves that queue for the
    next stage — inf for the last); stage 0 is the routed queue."""

    arrival: float
    effort: float
    natural: bool
    stages: tuple[tuple[int, float], ...]


class Outcome(NamedTuple):
    end: float          # when the handling work finished (inf: not within the horizon)
    stage: int          # the stage (queue) it finished in
    wait: float         # minutes waited in the final queue


Finish = Callable[[float, float, bool], float]


def simulate(jobs: Sequence[Job], capacities: Sequence[int], finish: Finish) -> list[Outcome]:
    free = [[0.0] * max(1, c) for c in capacities]  # a list of equal numbers is already a heap
    heap = [(j.arrival, i, 0) for i, j in enumerate(jobs) if j.arrival < inf and j.stages]
    heapify(heap)
    out: list[Outcome | None] = [None] * len(jobs)
    while heap:
        t, i, k = heappop(heap)
        job = jobs[i]
        q, leave = job.stages[k]
        workers = free[q]
        f = workers[0]
        start = max(f, t)
        if start == inf:  # no worker free within the horizon: still open at the end
            continue
        if start >= leave:  # escalated before a worker was free: it never starts here
            heappush(heap, (leave, i, k + 1))
            continue
        end = finish(start, job.effort, job.natural)
        if end <= leave:
            heapreplace(workers, end)
            out[i] = Outcome(end, k, start - t)
        else:  # worked on until the escalation step moved it up
            heapreplace(workers, leave)
            heappush(heap, (leave, i, k + 1))
    return [o if o is not None else Outcome(inf, len(jobs[i].stages) - 1, 0.0) for i, o in enumerate(out)]


def simulate_simpy(jobs: Sequence[Job], capacities: Sequence[int], finish: Finish, until: float) -> list[Outcome]:
    import simpy

    env = simpy.Environment()
    queues = [simpy.Resource(env, capacity=max(1, c)) for c in capacities]
    out: list[Outcome | None] = [None] * len(jobs)

    def case(i: int, job: Job):
        yield env.timeout(job.arrival)
        for k, (q, leave) in enumerate(job.stages):
            arrived = env.now
            req = queues[q].request()
            if leave < inf:
                got = yield req | env.timeout(max(0.0, leave - env.now))
                if req not in got:  # escalated while waiting: leave the queue unserved
                    req.cancel()
                    continue
            else:
                yield req
            start = env.now
            end = finish(start, job.effort, job.natural)
            if end <= leave:
                if end < inf:
                    yield env.timeout(end - start)
                    out[i] = Outcome(end, k, start - arrived)
                queues[q].release(req)
                return
            yield env.timeout(leave - start)
            queues[q].release(req)

    for i, job in enumerate(jobs):
        if job.arrival < inf and job.stages:
            env.process(case(i, job))
    env.run(until=until)
    return [o if o is not None else Outcome(inf, len(jobs[i].stages) - 1, 0.0) for i, o in enumerate(out)]
