"""``write_new_cases`` sends the driver exactly the values SQLAlchemy's own executemany would: its insert
plans apply each column type's bind processor themselves (core/cases/service.py, InsertPlan). Compared at
the driver level (raw stored text on SQLite, values read back on PostgreSQL), so a processor skipped or
applied twice would show. On PostgreSQL the asynchronous intake's one-statement batches (RecordsetInsert)
are compared with it as the server's text of each stored row."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import insert, select, text

from wangge.core.cases.service import new_case_rows, recordset_insert, rows_by_table, time_ordered_id, write_new_cases
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



def _row_texts(conn, table, case_id):  # type: ignore[no-untyped-def]
    """Each stored row as PostgreSQL prints it (``row::text``: a json column's text exactly as kept, datetimes
    to the microsecond), the case id masked."""
    column = "id" if table is cases else "case_id"
    rows = conn.execute(text(f"SELECT r::text FROM {table.name} AS r WHERE {column} = :id"), {"id": case_id}).scalars()
    masked = (row.replace(case_id, "ID") for row in rows)
    if table is outbox:   # its own ids differ by construction: mask the second field
        masked = (f"{r.split(',', 2)[0]},OID,{r.split(',', 2)[2]}" for r in masked)
    return sorted(masked)


def test_recordset_batches_store_what_the_plans_store(pg_url, counties, event):  # type: ignore[no-untyped-def]
    from wangge.core.store import open_database

    database = open_database(pg_url)
    pack = counties["alpha"].pack
    actor = Actor("api:test", "api")
    # Values that a driver or the server could spell differently: quotes, backslashes, tabs and Chinese in
    # JSON and text columns, a float, nested lists, a JSON column holding None, a datetime with no fraction.
    decision = {"unit": "14010100101", "level": "grid", "lead": "zhifa", "assist": ["zhujian"], "priority": 2,
                "time_limit": "1工作日", "notify": ["role:grid_leader"], "trace": ["测试 \"引号\" \\ \t"],
                "score": 0.1, "nested": [[1, {"键": None}]]}
    raw = event(1, title='标题 "引号" \\ 反斜杠\t制表')
    at = now().replace(microsecond=0) - timedelta(hours=1)
    made = [new_case_rows("plan", pack, parse_event(raw, pack), decision, actor, at, case_id=time_ordered_id())
            for _ in range(3)]
    made[2] = replace(made[2], case={**made[2].case, "vars": None, "lead": None}, deadline=None)
    ours, theirs = made[:2], [made[2]]
    reference = new_case_rows("plan", pack, parse_event(raw, pack), decision, actor, at, case_id=time_ordered_id())
    reference = replace(reference, case={**reference.case, "vars": None, "lead": None}, deadline=None)
    by_table = rows_by_table([*ours, *theirs])
    statement = recordset_insert({}, by_table)
    with database.engine.begin() as conn:
        conn.exec_driver_sql(statement.sql, tuple(statement.parameters(by_table)))
        write_new_cases(conn, [reference])
    try:
        with database.engine.connect() as conn:
            for table in TABLES:
                got = _row_texts(conn, table, theirs[0].case["id"])
                want = _row_texts(conn, table, reference.case["id"])
                assert got == want, table.name
                assert _row_texts(conn, table, ours[0].case["id"]) or table is deadlines
            vars_ = conn.execute(text("SELECT vars::text FROM cases WHERE id = :id"), {"id": theirs[0].case["id"]})
            assert vars_.scalar_one() == "null"   # JSON null, as SQLAlchemy stores None in a JSON column
    finally:
        database.dispose()
