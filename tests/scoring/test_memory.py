"""The in-memory counter gives exactly the SQL counter's indicators and scores on the same cases.

Cases go through the real cases service (open, then workflow actions at chosen times) or are stored by hand
(for ``where:`` on case fields, appeals and imported inputs); the ``case_facts`` rows are read back as dicts,
joined with the case fields a ``where:`` may read, and a ``MemoryCounter`` is built from them. Every indicator
value at every level and every score — total, stars, ranks and each explanation line with its case ids —
must be equal.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import and_, select
from wangge.core.cases import act, open_case
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.core.pack.sections.indicators import CASE_FIELDS
from wangge.core.scoring import (
    MemoryCounter,
    file_appeal,
    import_inputs,
    indicator_values,
    parse_period,
    rows_from_mappings,
    score_with,
)
from wangge.core.scoring.indicators import open_counter
from wangge.core.scoring.inputs import InputRow
from wangge.core.scoring.period import Period
from wangge.core.store import Database
from wangge.core.store.tables import case_facts, cases, score_inputs
from wangge.core.workcal import SHANGHAI
from wangge.core.workflow import Actor, matches

from .conftest import FIXTURES, MARCH, TENANT, load, tianmen
from .test_scores import g2

COUNTIES = FIXTURES.parents[2] / "examples" / "counties"
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI)
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=SHANGHAI)
MAR, Q1 = parse_period("2026-03"), parse_period("2026-Q1")


def _actor(pack: Pack, case: Any, action: str) -> Actor:
    """Someone the transition's role selectors let take ``action`` on ``case``."""
    t = pack.workflow.transition(action)
    view = case.view()
    candidates = [Actor("resident-1", "reporter")] + [Actor(f"dept-{d}", "department", d) for d in pack.departments]
    for role in pack.grid.roles:
        unit = pack.grid.ancestor_at(view.unit_code, role.level)
        if unit is not None:
            candidates.append(Actor(f"{role.id}@{unit.code}", role.id, unit.code))
    return next(a for sel in t.roles for a in candidates if matches(sel, pack, view, a, t.scope))


def _journeys(db: Database, pack: Pack, paths: list[tuple[str, ...]], channels: tuple[str, ...]) -> list[str]:
    """Open one case per path on different grids, days, leads, reporters and channels, and walk it: one step
    a day, so some close on time, some late, some stay open past their deadline; a few start in February."""
    grids = [u.code for u in pack.grid.units.values() if u.level == pack.grid.levels[-1].id][:4]
    cls = next(c.id for c in pack.events.classes.values() if c.parent and c.time_limit())
    leads = list(pack.departments)[:3]
    ids = []
    for n, path in enumerate(paths):
        opened = MONDAY + timedelta(days=3 * n - 6, hours=n)
        event = {"id": f"e{n}", "class": cls, "channel": channels[n % len(channels)], "unit": grids[n % len(grids)],
                 "reported_at": opened.isoformat(), "reporter": f"resident-{n % 3}", "title": f"事件{n}"}
        decision = {"event_id": f"e{n}", "level": pack.grid.levels[-1].id, "unit": None, "lead": leads[n % len(leads)],
                    "assist": [], "notify": [], "time_limit": "5工作日", "due": None, "priority": n % 2, "state": None,
                    "trace": ["test"]}
        case = open_case(db, pack.id, pack, event, decision, Actor("w", "grid_worker", event["unit"]), now=opened)
        for k, action in enumerate(path, start=1):
            step_at = opened + timedelta(days=k * (1 + n % 4), hours=1)
            data = {"lead": leads[0]} if action == "dispatch_choose" else None
            case = act(db, pack.id, pack, case.id, action, _actor(pack, case, action), "说明", data, now=step_at)
        ids.append(case.id)
    return ids


def _fact_dicts(db: Database, tenant: str) -> list[dict[str, Any]]:
    """The stored rows as dicts: case_facts columns plus the case fields a ``where:`` reads on the case row."""
    with db.engine.connect() as conn:
        rows = conn.execute(select(case_facts, *[getattr(cases.c, c) for c in CASE_FIELDS]).join(
            cases, and_(cases.c.tenant == case_facts.c.tenant, cases.c.id == case_facts.c.case_id))
            .where(case_facts.c.tenant == tenant)).mappings().all()
    return [dict(r) for r in rows]


def _inputs(db: Database, tenant: str, period: Period) -> dict[str, dict[str, list[tuple[str, float]]]]:
    out: dict[str, dict[str, list[tuple[str, float]]]] = defaultdict(lambda: defaultdict(list))
    with db.engine.connect() as conn:
        for kind, subject, rater, value in conn.execute(
                select(score_inputs.c.kind, score_inputs.c.subject, score_inputs.c.rater, score_inputs.c.value)
                .where(and_(score_inputs.c.tenant == tenant, score_inputs.c.period == period.label))):
            out[kind][subject].append((rater, float(value)))
    return out


def assert_same(db: Database, tenant: str, pack: Pack, period: Period, levels: list[str] | None = None) -> int:
    """Every indicator at every level and every scheme's scores (explained) agree; returns how many values."""
    rows = rows_from_mappings(_fact_dicts(db, tenant))
    checked = 0
    with db.engine.connect() as conn:
        sql = open_counter(conn, tenant, period, NOW)
        memory = MemoryCounter.from_rows(rows, period, NOW, appeals=sql.appeals,
                                         score_inputs=_inputs(db, tenant, period))
        for level in levels or [lv.id for lv in pack.grid.levels] + ["department"]:
            expected = indicator_values(sql, pack, level)
            assert indicator_values(memory, pack, level) == expected, level
            checked += len(expected)
        for level in ("reporter", "actor"):
            assert indicator_values(memory, pack, level) == indicator_values(sql, pack, level), level
        if pack.scoring is not None:
            for scheme in pack.scoring.schemes:
                expected_scores = score_with(sql, pack, scheme=scheme, explain=True)
                got = score_with(memory, pack, scheme=scheme, explain=True)
                assert [s.subject for s in got] == [s.subject for s in expected_scores], scheme
                for a, b in zip(got, expected_scores):
                    assert (a.total, a.base, a.bonus, a.star, a.rank, a.rank_note) == \
                        (b.total, b.base, b.bonus, b.star, b.rank, b.rank_note), (scheme, a.subject)
                    assert a.lines == b.lines, (scheme, a.subject)
                    assert a == b
                checked += len(expected_scores)
    return checked


PENGLI_PATHS = [("close_on_spot",), ("to_community", "community_close"), ("to_street", "dispatch_choose"),
                ("register", "dispatch", "feedback", "close", "evaluate"), ("register", "dispatch", "feedback"),
                ("register",), (), ("to_community",), ("register", "dispatch", "feedback", "close"),
                ("close_on_spot",), ("register", "dispatch", "feedback", "close", "evaluate"), ("to_street",)]


def test_service_cases_pengli_indicators_and_ranked_scores(database):
    pack = PackLoader().load(COUNTIES / "binzhou-pengli")
    ids = _journeys(database, pack, PENGLI_PATHS, ("grid_patrol", "resident_report"))
    assert assert_same(database, pack.id, pack, MAR) > 0
    assert_same(database, pack.id, pack, Q1, levels=["grid", "township"])
    # appeals: one case left out, one re-judged to 按期结案, one 超期 removed
    file_appeal(database, pack.id, ids[3], "exclude", "政法委", "不可抗力", now=NOW)
    file_appeal(database, pack.id, ids[4], "rejudge", "政法委", "时钟错误", add=["closed_on_time"], now=NOW)
    file_appeal(database, pack.id, ids[8], "rejudge", "政法委", "误判", remove=["overdue", "registered"], now=NOW)
    assert assert_same(database, pack.id, pack, MAR) > 0


def test_service_cases_yangqu_reporter_scheme_with_where(database):
    pack = PackLoader().load(COUNTIES / "taiyuan-yangqu")
    six = ("register", "dispatch", "feedback", "close", "evaluate")
    paths = [six, six[:3], six[:1], (), six[:4], six, six[:2], six]
    _journeys(database, pack, paths, ("resident_report", "grid_patrol", "wangge_zhiyuanzhe"))
    assert assert_same(database, pack.id, pack, MAR) > 0
    with database.engine.connect() as conn:
        sql = open_counter(conn, pack.id, MAR, NOW)
        reporters = score_with(sql, pack, scheme="aixin_jifen")
    assert reporters, "the 爱心积分 scheme must have subjects for the comparison to mean something"


def test_hand_made_cases_where_on_case_fields_appeals_and_inputs(history):
    h = history
    tianmen(h)
    ids = g2(h)
    due = MARCH + timedelta(days=5)
    h.case("G3", due=due, state="suspended", lead=None)
    h.case("G3", due=due, closed=due - timedelta(hours=3), lead="d2", reporter="w2", channel="resident_report")
    h.case("G1", reported=MARCH - timedelta(days=3), due=MARCH + timedelta(hours=2), closed=MARCH + timedelta(hours=1))
    h.flush()
    pack = load("hecun")
    import_inputs(h.db, TENANT, pack, MAR, "satisfaction", [InputRow("G1", "survey", 90.0)], "tester")
    import_inputs(h.db, TENANT, pack, MAR, "rating", [InputRow("d1", "T1", 80), InputRow("d1", "G1", 10)], "tester")
    assert_same(h.db, TENANT, pack, MAR)
    assert_same(h.db, TENANT, load("hecun_huanban"), MAR)    # where: ${state} != 'suspended' (case row), ranking
    file_appeal(h.db, TENANT, ids["late"][0], "exclude", "县委政法委", "暴雨停工")
    file_appeal(h.db, TENANT, ids["late"][1], "rejudge", "县委政法委", "时钟错误", add=["closed_on_time"])
    file_appeal(h.db, TENANT, ids["on_time"][0], "rejudge", "政法委", "返工系误判", remove=["reworked"])
    assert_same(h.db, TENANT, pack, MAR)
    assert_same(h.db, TENANT, load("hecun_huanban"), parse_period("2026-03-01..2026-03-06"))


def test_a_replay_axis_of_minutes_counts_like_datetimes():
    """Rows on a minute axis (as a comparison builds them) count exactly like the same rows in datetimes."""
    pack = load("hecun")
    epoch = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    fields = {"unit_code": "G1", "lead": "d1", "reporter": "w1", "channel": "grid_patrol"}
    moments = [MARCH + timedelta(hours=k * 7) for k in range(200)]
    rows_dt, rows_min = [], []
    for k, at in enumerate(moments):
        due, closed = at + timedelta(days=2), (at + timedelta(days=1 + k % 3) if k % 4 else None)
        for fact, when, close in (("reported", at, None), ("registered", at + timedelta(minutes=5), None),
                                  ("due", due, closed)):
            rows_dt.append((f"c{k}", fact, when, close, fields))
            minutes = (lambda t: None if t is None else (t - epoch).total_seconds() / 60.0)
            rows_min.append((f"c{k}", fact, minutes(when), minutes(close), fields))
    now = MARCH + timedelta(days=20)
    a = MemoryCounter.from_rows(rows_dt, MAR, now)
    b = MemoryCounter.from_rows(rows_min, MAR, now, axis=epoch)
    assert indicator_values(a, pack, "grid") == indicator_values(b, pack, "grid")
    assert score_with(a, pack, "grid") == score_with(b, pack, "grid")
    assert {v.indicator: v.numerator for v in indicator_values(b, pack, "grid") if v.subject == "G1"}["chaoqi_count"] > 0


@pytest.mark.parametrize("where, expected", [("${lead} != 'd1'", 1), ("${lead} == null", 1), ("${lead} in ['d1', 'd2']", 1),
                                             ("${lead} not in ['d2']", 2), ("${state} == 'suspended'", 1)])
def test_where_is_null_safe_in_memory_like_sql(history, where, expected):
    from wangge.core.expr import compile_expression
    from wangge.core.pack.model import FactCount

    h = history
    h.case("G1", due=MARCH + timedelta(days=5), lead=None, state="suspended")
    h.case("G1", due=MARCH + timedelta(days=5), lead="d1")
    h.flush()
    fc = FactCount("due", compile_expression(where), where)
    memory = MemoryCounter.from_rows(rows_from_mappings(_fact_dicts(h.db, TENANT)), MAR, NOW)
    with h.db.engine.connect() as conn:
        assert sum(open_counter(conn, TENANT, MAR, NOW).counts(fc).values()) == expected
    assert sum(memory.counts(fc).values()) == expected
