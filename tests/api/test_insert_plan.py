"""``write_new_cases`` sends the driver exactly the values SQLAlchemy's own executemany would: its insert
plans apply each column type's bind processor themselves (core/cases/service.py, InsertPlan). Compared at
the driver level (raw stored text on SQLite, values read back on PostgreSQL), so a processor skipped or
applied twice would show."""
from __future__ import annotations

from sqlalchemy import insert, select

from wangge.core.cases.service import new_case_rows, time_ordered_id, write_new_cases
from wangge.core.events import parse_event
from wangge.core.store.tables import case_facts, cases, deadlines, outbox, transitions
from wangge.core.workflow import Actor
from wangge.web.api.timefmt import now

TABLES = (cases, transitions, deadlines, outbox, case_facts)


def _stored(conn, table, case_ids):  # type: ignore[no-untyped-def]
    if conn.dialect.name == "sqlite":   # the text SQLite keeps, not values parsed back by the types
        column = "id" if table is cases else "case_id"
        marks = ", ".join("?" * len(case_ids))
        cursor = conn.connection.driver_connection.execute(
            f"SELECT * FROM {table.name} WHERE {column} IN ({marks})", tuple(case_ids))
        rows = cursor.fetchall()
    else:
        column = table.c.id if table is cases else table.c.case_id
        rows = [tuple(r) for r in conn.execute(select(table).where(column.in_(case_ids)))]
    return sorted(tuple("" if v is None else str(v) for v in r) for r in rows)


def test_plans_store_what_sqlalchemy_stores(database, counties, event):
    pack = counties["alpha"].pack
    actor = Actor("api:test", "api")
    decision = {"unit": "14010100101", "level": "grid", "lead": "zhifa", "assist": ["zhujian"], "priority": 2,
                "time_limit": "1工作日", "notify": ["role:grid_leader"], "trace": ["测试"]}
    at = now()
    ours = new_case_rows("plan", pack, parse_event(event(1), pack), decision, actor, at, case_id=time_ordered_id())
    theirs = new_case_rows("plan", pack, parse_event(event(1), pack), decision, actor, at, case_id=time_ordered_id())
    with database.engine.begin() as conn:
        write_new_cases(conn, [ours])
        for table, rows in ((cases, [theirs.case]), (transitions, [theirs.history]), (deadlines, [theirs.deadline]),
                            (outbox, list(theirs.outbox)), (case_facts, list(theirs.facts))):
            conn.execute(insert(table), rows)
    ours_id, theirs_id = ours.case["id"], theirs.case["id"]
    with database.engine.connect() as conn:
        for table in TABLES:
            a = _stored(conn, table, [ours_id])
            b = _stored(conn, table, [theirs_id])
            assert a and len(a) == len(b), table.name
            # ids differ by construction (case ids, outbox ids); everything else must be byte-identical
            strip = lambda rows, ids: [tuple("ID" if v in ids or (table is outbox and i == 1) else v  # noqa: E731
                                             for i, v in enumerate(r)) for r in rows]
            assert sorted(strip(a, {ours_id})) == sorted(strip(b, {theirs_id})), table.name

