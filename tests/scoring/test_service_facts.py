"""The cases service writes one case_facts row per recorded fact in the step's transaction, and keeps the
应结案 row (deadline, closing time) in step; indicators over real workflow steps come out right."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from wangge.core.cases import act, open_case
from wangge.core.pack.loader import PackLoader
from wangge.core.scoring import compute_indicators, parse_period, score
from wangge.core.store.tables import case_facts
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor

from .conftest import FIXTURES

MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
PENGLI = FIXTURES.parents[2] / "examples" / "counties" / "binzhou-pengli"


def test_workflow_steps_become_fact_rows_and_indicators(database):
    pack = PackLoader().load(PENGLI)
    grid = next(u for u in pack.grid.units.values() if u.level == "grid")
    event = {"id": "e1", "class": next(c.id for c in pack.events.classes.values() if c.parent and c.time_limit()),
             "channel": "grid_patrol", "unit": grid.code, "reported_at": MONDAY.isoformat(), "reporter": "w1",
             "title": "测试"}
    decision = {"event_id": "e1", "level": "grid", "unit": None, "lead": next(iter(pack.departments)), "assist": [],
                "notify": [], "time_limit": "5工作日", "due": None, "priority": 0, "state": None, "trace": ["t"]}
    worker = Actor("w1", "grid_worker", grid.code)
    case = open_case(database, pack.id, pack, event, decision, worker, now=MONDAY)
    case = act(database, pack.id, pack, case.id, "close_on_spot", worker, "当场办结", now=MONDAY)
    with database.engine.connect() as conn:
        rows = conn.execute(select(case_facts.c.seq, case_facts.c.fact, case_facts.c.unit_code, case_facts.c.closed_at)
                            .where(case_facts.c.case_id == case.id).order_by(case_facts.c.seq, case_facts.c.fact)).all()
    facts = [(r.seq, r.fact) for r in rows]
    assert (1, "reported") in facts and (1, "accepted") in facts and (2, "closed") in facts and (2, "handled") in facts
    due = next(r for r in rows if r.fact == "due")
    assert due.seq == 0 and due.closed_at is not None and {r.unit_code for r in rows} == {grid.code}
    values = {v.indicator: v for v in compute_indicators(database, pack.id, pack, parse_period("2026-03"), [grid.code])}
    assert (values["jiean_rate"].numerator, values["jiean_rate"].denominator) == (1, 1)
    assert values["anqi_jiean_rate"].value == 1.0
    scores = score(database, pack.id, pack, parse_period("2026-03"), "grid", subjects=[grid.code])
    assert scores[0].rank == 1 and "第 1 名" in scores[0].rank_note   # 彭李 turned its live ranking on
