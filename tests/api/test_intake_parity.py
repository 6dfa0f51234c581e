"""Intake writes exactly the rows the cases service's ``open_case`` writes (it builds them itself for
speed, see web/api/intake.py): same event, both ways, rows compared column by column."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from wangge.core.cases.service import open_case
from wangge.core.events import parse_event
from wangge.core.store.tables import cases, deadlines, outbox, transitions
from wangge.core.workflow import Actor
from wangge.web.api.intake import CountyIntake, GroupWriter

VOLATILE = {"tenant", "id", "case_id", "at", "updated_at", "vars", "external_id", "next_at", "created_at", "closed_at"}


def _rows(db, tenant):  # type: ignore[no-untyped-def]
    out = {}
    with db.engine.connect() as conn:
        for table in (cases, transitions, deadlines, outbox):
            rows = conn.execute(select(table).where(table.c.tenant == tenant)).mappings().all()
            out[table.name] = [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]
    return out


def test_intake_rows_match_open_case(database, counties, event):
    pack = counties["alpha"].pack
    raw = event(1, external_id="P-1")
    decision = {"unit": "14010100101", "level": "grid", "lead": "zhifa", "assist": ["zhujian"], "priority": 2,
                "time_limit": "1工作日", "notify": ["role:grid_leader"], "trace": ["测试"]}
    actor = Actor("api:test", "api")
    open_case(database, "service", pack, parse_event(raw, pack), decision, actor)

    intake = CountyIntake.for_pack("intake", pack)
    prepared = intake.build_rows(parse_event(raw, pack), decision, actor, intake_now())
    asyncio.run(GroupWriter(database).submit(prepared))

    service, ours = _rows(database, "service"), _rows(database, "intake")
    for name in ("cases", "transitions", "deadlines", "outbox"):
        assert ours[name] == service[name], name
    assert ours["cases"] and ours["deadlines"] and len(ours["outbox"]) == 2


def intake_now():  # type: ignore[no-untyped-def]
    from wangge.web.api.timefmt import now

    return now()
