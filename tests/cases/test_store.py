"""Cases in the store: pinning, idempotent intake, one transaction per change, history, tenant isolation,
escalation ticks (and, on PostgreSQL, several workers ticking at once)."""
from __future__ import annotations

import shutil
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from wangge.core.cases import ConcurrentUpdate, act, get_case, open_case, tick
from wangge.core.cases import service
from wangge.core.cases.escalation import due_query
from wangge.core.cases.service import list_query
from wangge.core.pack.loader import PackLoader
from wangge.core.store.tables import cases, deadlines, outbox, transitions
from wangge.core.workflow import Actor

from .conftest import COUNTIES, MONDAY, Journey, decision, event, load


def _count(db, table, tenant=None):
    with db.engine.connect() as conn:
        q = select(func.count()).select_from(table)
        return conn.execute(q.where(table.c.tenant == tenant) if tenant else q).scalar()


def test_intake_is_idempotent_by_external_id(journey):
    j = journey("taiyuan-qingxu")
    first = j.open(external_id="12345-20260302-0001")
    again = j.open(2, external_id="12345-20260302-0001")
    assert again.id == first.id and _count(j.db, cases) == 1 and _count(j.db, transitions) == 1


def test_a_failure_mid_way_writes_nothing(journey, monkeypatch):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register")
    before = [_count(j.db, t) for t in (cases, transitions, deadlines, outbox)]

    def broken(*args, **kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(service, "_outbox", broken)
    with pytest.raises(RuntimeError):
        j.do(case, "dispatch")
    write_new_cases = service.write_new_cases

    def written_then_broken(conn, items):  # type: ignore[no-untyped-def]
        write_new_cases(conn, items)   # every row of the new case is in the transaction …
        raise RuntimeError("disk full")  # … and then the commit never happens

    monkeypatch.setattr(service, "write_new_cases", written_then_broken)
    with pytest.raises(RuntimeError):
        j.open(2)
    assert [_count(j.db, t) for t in (cases, transitions, deadlines, outbox)] == before
    stored = get_case(j.db, j.tenant, case.id)
    assert (stored.state, stored.seq, len(stored.history)) == ("registered", 2, 2)


def test_optimistic_concurrency_on_seq(journey):
    j = journey("taiyuan-qingxu")
    case = j.open()
    j.do(case, "register")
    with pytest.raises(ConcurrentUpdate):
        act(j.db, j.tenant, j.pack, case.id, "reject", Actor("d", "department", "zongzhi_county"), "重复", None,
            now=MONDAY, expected_seq=1)


def test_history_is_append_only(journey):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register", "dispatch")
    early = get_case(j.db, j.tenant, case.id).history
    case = j.walk(case, "feedback", "rework", "feedback", "close")
    later = get_case(j.db, j.tenant, case.id).history
    assert later[:len(early)] == early
    assert [s.seq for s in later] == list(range(1, len(later) + 1))
    assert all(s.pack_version == j.pack.version for s in later)
    assert later[-1].data["facts"] == ["closed"]


def _v2(tmp_path):
    """The 彭李 pack as version 1.1.0 whose on-the-spot closing is gone and whose return window is longer."""
    target = tmp_path / "pengli-v2"
    shutil.copytree(COUNTIES / "binzhou-pengli", target)
    manifest = (target / "pack.yaml").read_text(encoding="utf-8")
    (target / "pack.yaml").write_text(manifest.replace("version: 1.0.0", "version: 1.1.0", 1), encoding="utf-8")
    wf = (target / "workflow.yaml").read_text(encoding="utf-8")
    wf = wf.replace("    - id: close_on_spot\n", "    - id: close_on_spot_v2\n")
    (target / "workflow.yaml").write_text(wf.replace("workflow:\n", "workflow:\n  returns: {within: 5工作日}\n", 1), encoding="utf-8")
    return PackLoader((COUNTIES,)).load(target)


def test_publishing_v2_leaves_open_v1_cases_alone(journey, tmp_path):
    j = journey("binzhou-pengli")
    old = j.open(1)
    v2 = _v2(tmp_path)
    assert v2.version == "1.1.0" and v2.workflow.transition("close_on_spot") is None
    newer = Journey(j.db, v2, j.tenant).open(2)
    assert (newer.pack_version, old.pack_version) == ("1.1.0", "1.0.0")
    # Acting on the v1 case with the v2 pack in hand still runs v1's workflow (close_on_spot exists there).
    closed = act(j.db, j.tenant, v2, old.id, "close_on_spot", Actor("w", "grid_worker", old.unit_code), now=MONDAY)
    assert closed.state == "closed" and closed.decision == old.decision and closed.pack_version == "1.0.0"
    assert get_case(j.db, j.tenant, old.id).history[-1].pack_version == "1.0.0"


def test_one_countys_queries_use_its_tenant_index(database):
    pack = load("taiyuan-qingxu")
    for tenant, n in (("big-county", 30), ("small-county", 3)):
        for i in range(n):
            open_case(database, tenant, pack, event(pack, i), decision(pack), Actor("w", "grid_worker"), now=MONDAY)
    list_sql = list_query("small-county", state="reported")
    due_sql = due_query("small-county", MONDAY, 10, MONDAY)
    with database.engine.connect() as conn:
        if database.dialect == "sqlite":
            for sql, index in ((list_sql, "ix_cases_tenant_state_level"), (due_sql, "ix_deadlines_tenant_done_due_at")):
                compiled = sql.compile(conn, compile_kwargs={"literal_binds": True})
                plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
                assert f"USING INDEX {index} (tenant=?" in plan, plan
        else:
            conn.execute(text("SET enable_seqscan = off"))
            for sql, index in ((list_sql, "ix_cases_tenant_state_level"), (due_sql, "ix_deadlines_tenant_done_due_at")):
                compiled = sql.compile(conn, compile_kwargs={"literal_binds": True})
                plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN ANALYZE {compiled}"))
                # The planner may pick any tenant-leading index; the range is bounded by tenant either way,
                # so the other county's 30 rows are never read.
                assert "Seq Scan" not in plan and "(tenant)::text = 'small-county'" in plan.split("Index Cond:", 1)[-1], plan
                assert "Rows Removed by Filter: 30" not in plan, plan
        rows = conn.execute(list_sql).all()
    assert len(rows) == 3 and {r.tenant for r in rows} == {"small-county"}


def test_escalation_steps_apply_once_each(journey):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register", "dispatch")
    due = case.due_at
    assert tick(j.db, due - timedelta(minutes=1), "w1").claimed == 0
    report = tick(j.db, due + timedelta(minutes=1), "w1")
    assert (report.claimed, report.escalated) == (1, 1)
    assert tick(j.db, due + timedelta(minutes=2), "w1").claimed == 0
    raised = tick(j.db, due + timedelta(days=3), "w1")   # 1工作日 later: raise to the township
    assert raised.escalated == 1
    stored = get_case(j.db, j.tenant, case.id)
    assert stored.level == "township"
    tick(j.db, due + timedelta(days=10), "w1")
    stored = get_case(j.db, j.tenant, case.id)
    rules = [s.rule for s in stored.history if s.action == "escalate"]
    assert rules == ["overdue-remind", "overdue-raise", "overdue-supervise"] and stored.supervised
    assert all(s.role == "system" for s in stored.history if s.action == "escalate")
    assert tick(j.db, due + timedelta(days=30), "w1").claimed == 0


def test_summons_overdue_is_supervised(journey):
    j = journey("taiyuan-yangqu")
    case = j.walk(j.open(), "register", "dispatch")
    case = j.do(case, "whistle", data={"departments": ["gongan"]})
    tick(j.db, MONDAY + timedelta(days=2), "w1", tenant_ids=[j.tenant])
    stored = get_case(j.db, j.tenant, case.id)
    assert stored.supervised and any(s.rule == "summons-overdue" for s in stored.history)


def test_closing_stops_deadlines(journey):
    j = journey("taiyuan-qingxu")
    case = j.walk(j.open(), "register", "dispatch", "feedback", "close")
    with j.db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deadlines).where(deadlines.c.done.is_(False))).scalar() == 0
    assert tick(j.db, MONDAY + timedelta(days=30), "w1").claimed == 0


def test_workers_on_postgresql_escalate_each_due_deadline_once(pg_url):
    from wangge.core.store import open_database

    db = open_database(pg_url)
    j = Journey(db, load("taiyuan-qingxu"), "cn.sx.taiyuan.qingxu")
    ids = [j.walk(j.open(n), "register", "dispatch").id for n in range(40)]
    later = MONDAY + timedelta(days=20)     # every stage of every deadline is due
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            while tick(db, later, name, limit=7).claimed:
                pass
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with db.engine.connect() as conn:
        rows = conn.execute(select(transitions.c.case_id, transitions.c.rule, func.count())
                            .where(transitions.c.action == "escalate")
                            .group_by(transitions.c.case_id, transitions.c.rule)).all()
    assert len(rows) == 40 * 3 and all(r[2] == 1 for r in rows)
    assert {r.case_id for r in rows} == set(ids)
    db.dispose()
