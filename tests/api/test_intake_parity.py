"""Intake writes exactly the rows the cases service's ``open_case`` writes (it builds them itself for
speed, see web/api/intake.py): same event, both ways, rows compared column by column."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from wangge.core.cases.service import open_case
from wangge.core.events import parse_event
from wangge.core.store.tables import case_facts, cases, deadlines, outbox, transitions
from wangge.core.workflow import Actor
from wangge.web.api.intake import CountyIntake, GroupWriter

VOLATILE = {"tenant", "id", "case_id", "at", "updated_at", "vars", "external_id", "next_at", "created_at", "closed_at"}


def _rows(db, tenant):  # type: ignore[no-untyped-def]
    out = {}
    with db.engine.connect() as conn:
        for table in (cases, transitions, deadlines, outbox, case_facts):
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

    second = event(2, external_id="P-2")
    open_case(database, "service", pack, parse_event(second, pack), decision, actor)

    intake = CountyIntake.for_pack("intake", pack)
    writer = GroupWriter(database)

    async def submit_both() -> None:
        # The first batch publishes the pack version; on PostgreSQL the second goes through the async path.
        for one in (raw, second):
            await writer.submit(intake.build_rows(parse_event(one, pack), decision, actor, intake_now()))
        await writer.aclose()

    asyncio.run(submit_both())

    service, ours = _rows(database, "service"), _rows(database, "intake")
    for name in ("cases", "transitions", "deadlines", "outbox", "case_facts"):
        assert sorted(ours[name], key=repr) == sorted(service[name], key=repr), name
    assert len(ours["cases"]) == 2 and ours["deadlines"] and len(ours["outbox"]) == 4


def intake_now():  # type: ignore[no-untyped-def]
    from wangge.web.api.timefmt import now

    return now()
