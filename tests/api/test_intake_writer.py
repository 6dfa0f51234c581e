"""The intake's group writer: batches on one kept SQLite connection, and a batch that meets a stored
external id still answers every item (the repeat as a duplicate, the others as new cases)."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event as sa_event, func, select

from wangge.core.store import open_database
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
