"""The intake's group writer: batches on one kept SQLite connection, and a batch that meets a stored
external id still answers every item (the repeat as a duplicate, the others as new cases). On
PostgreSQL, young case tables get statistics, so foreign-key checks stop scanning the county."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import event as sa_event, func, select, text

from wangge.core.store import open_database
from wangge.core.store.db import WriterLock, analyze_young_tables
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor
from wangge.web.api.intake import CountyIntake, GroupWriter

ACTOR = Actor("api:test", "api")


@pytest.fixture
def sqlite_db(tmp_path):  # type: ignore[no-untyped-def]
    db = open_database(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield db
    db.dispose()


def _prepare(counties, event, n, **over):  # type: ignore[no-untyped-def]
    intake = CountyIntake.for_pack("alpha", counties["alpha"].pack)
    return intake.prepare(event(n, **over), None, ACTOR)


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(cases).where(cases.c.tenant == "alpha")).scalar_one()


def test_batches_share_one_kept_connection_until_closed(sqlite_db, counties, event):  # type: ignore[no-untyped-def]
    checkouts = []
    sa_event.listen(sqlite_db.engine, "checkout", lambda *a: checkouts.append(1))
    writer = GroupWriter(sqlite_db)
    for batch in range(3):
        outcomes = writer.commit([_prepare(counties, event, f"{batch}-{i}", external_id=f"E-{batch}-{i}")
                                  for i in range(4)])
        assert [o.duplicate for o in outcomes] == [False] * 4
    assert len(checkouts) == 1
    writer.close()
    writer.commit([_prepare(counties, event, "after", external_id="E-after")])
    assert len(checkouts) == 2 and _count(sqlite_db) == 13


def test_a_stored_external_id_in_a_batch_settles_each_item(database, counties, event):  # type: ignore[no-untyped-def]
    writer = GroupWriter(database)
    first = writer.commit([_prepare(counties, event, "a", external_id="W-1")])[0]
    # The batch is written without looking stored ids up; the unique index stops it and each item is
    # then settled on its own, on the same writer.
    outcomes = writer.commit([_prepare(counties, event, "b", external_id="W-2"),
                              _prepare(counties, event, "c", external_id="W-1"),
                              _prepare(counties, event, "d", external_id="W-3")])
    assert [o.duplicate for o in outcomes] == [False, True, False]
    assert outcomes[1].case_id == first.case_id
    assert asyncio.run(writer.submit(_prepare(counties, event, "e", external_id="W-4"))).duplicate is False
    assert _count(database) == 4
    writer.close()


FK_LOOKUP = ("PREPARE fk_lookup(varchar, varchar) AS "
             "SELECT 1 FROM ONLY cases x WHERE tenant = $1 AND id = $2 FOR KEY SHARE OF x")


def _fk_plan(conn) -> str:  # type: ignore[no-untyped-def]
    """The plan PostgreSQL caches for a foreign-key check on ``cases``: generic, made from today's statistics."""
    conn.execute(text("DEALLOCATE ALL"))
    conn.execute(text(FK_LOOKUP))
    conn.execute(text("SET plan_cache_mode = force_generic_plan"))
    return "\n".join(r[0] for r in conn.execute(text("EXPLAIN EXECUTE fk_lookup('alpha', 'x')")))


def test_young_case_tables_get_statistics_so_foreign_key_checks_use_the_primary_key(  # type: ignore[no-untyped-def]
        pg_url, counties, event):
    db = open_database(pg_url)
    try:
        writer = GroupWriter(db)
        for batch in range(25):
            writer.commit([_prepare(counties, event, f"{batch}-{i}", external_id=f"Y-{batch}-{i}")
                           for i in range(16)])
        # The maintenance thread looks a second after the commits and analyses then.
        deadline = time.monotonic() + 15
        with db.engine.connect() as conn:
            while time.monotonic() < deadline:
                known = conn.execute(text("SELECT reltuples FROM pg_class "
                                          "WHERE oid = CAST('cases' AS regclass)")).scalar()
                if known >= 200:
                    break
                time.sleep(0.2)
            assert known >= 200
            assert "pk_cases" in _fk_plan(conn)
    finally:
        db.dispose()


def test_analysing_young_tables_retires_once_statistics_are_grown(  # type: ignore[no-untyped-def]
        pg_url, counties, event):
    db = open_database(pg_url)
    try:
        GroupWriter(db).commit([_prepare(counties, event, f"g{i}", external_id=f"G-{i}") for i in range(30)])
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE cases"))
            conn.commit()
        assert analyze_young_tables(db.engine, grown=30) is False
        assert analyze_young_tables(db.engine, grown=31) is True
    finally:
        db.dispose()


def test_while_another_process_writes_the_file_the_writer_waits_its_turn(  # type: ignore[no-untyped-def]
        sqlite_db, counties, event):
    # A second lock on the same file stands for another worker process: flock treats each open of the
    # file as its own holder.
    other = WriterLock(sqlite_db.writer_lock.path)
    assert other.acquire(blocking=False)
    assert sqlite_db.writer_lock.acquire(blocking=False) is False
    writer = GroupWriter(sqlite_db)

    async def scenario():  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, other.release)
        started = loop.time()
        outcome = await writer.submit(_prepare(counties, event, "turn", external_id="T-1"))
        return outcome, loop.time() - started

    outcome, waited = asyncio.run(scenario())
    assert outcome.duplicate is False and waited >= 0.04
    assert _count(sqlite_db) == 1
    assert sqlite_db.writer_lock.acquire(blocking=False)   # given back after the batch
    sqlite_db.writer_lock.release()
    writer.close()
    other.close()


def test_postgresql_batches_go_through_the_async_connection_and_store_what_the_sync_path_stores(  # type: ignore[no-untyped-def]
        pg_url, counties, event):
    db = open_database(pg_url)
    commits: list[int] = []
    sa_event.listen(db.engine, "commit", lambda conn: commits.append(1))
    writer = GroupWriter(db)

    async def scenario():  # type: ignore[no-untyped-def]
        first = await writer.submit(_prepare(counties, event, "s-0", external_id="A-0"))   # publishes: sync
        synced = len(commits)
        later = await asyncio.gather(*(writer.submit(_prepare(counties, event, f"s-{i}", external_id=f"A-{i}"))
                                       for i in range(1, 9)))
        assert len(commits) == synced   # not through the engine: psycopg's async connection
        again = await asyncio.gather(writer.submit(_prepare(counties, event, "s-x", external_id="A-3")),
                                     writer.submit(_prepare(counties, event, "s-y", external_id="A-99")))
        await writer.aclose()
        return first, synced, later, again

    try:
        first, synced, later, again = asyncio.run(scenario())
        assert synced >= 1 and not first.duplicate
        assert [o.duplicate for o in later] == [False] * 8
        # A stored external id met on the async path: settled item by item on the sync path.
        assert again[0].duplicate and again[0].case_id == later[2].case_id and not again[1].duplicate
        assert _count(db) == 10
        with db.engine.connect() as conn:
            stored = {tuple(r) for r in conn.execute(select(cases.c.external_id, cases.c.state, cases.c.level,
                                                            cases.c.due_at).where(cases.c.tenant == "alpha"))}
        expected = {(o.external_id, o.state, o.level, o.due_at) for o in (first, *later, again[1])}
        assert {(e, s, lv, d.timestamp() if d else None) for e, s, lv, d in stored} == \
            {(e, s, lv, d.timestamp() if d else None) for e, s, lv, d in expected}
    finally:
        db.dispose()


def test_rows_the_database_refuses_fail_only_their_own_item(database, counties, event):  # type: ignore[no-untyped-def]
    writer = GroupWriter(database)
    writer.commit([_prepare(counties, event, "pub", external_id="R-0")])   # publishes the pack version
    missing = _prepare(counties, event, "missing", external_id="R-missing")
    missing.rows.case["state"] = None                                     # NOT NULL: refused everywhere
    items = [_prepare(counties, event, "a", external_id="R-1"), missing, _prepare(counties, event, "b", external_id="R-2")]
    if database.dialect == "postgresql":   # wider than its column: a DataError there (SQLite keeps any length)
        long = _prepare(counties, event, "long", external_id="R-long")
        long.rows.case["external_id"] = "R" * 200
        items.append(long)

    async def scenario():  # type: ignore[no-untyped-def]
        answers = await asyncio.gather(*(writer.submit(p) for p in items), return_exceptions=True)
        await writer.aclose()
        return answers

    answers = asyncio.run(scenario())
    assert [isinstance(a, Exception) for a in answers] == [False, True, False] + [True] * (len(items) - 3)
    assert not answers[0].duplicate and not answers[2].duplicate
    assert _count(database) == 3
