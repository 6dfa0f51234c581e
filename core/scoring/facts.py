"""Writing indicator facts: one ``case_facts`` row per fact a step records, in the step's transaction.

Called by the cases service (``core/cases/service.py``) right after it writes the case row, so the
denormalised columns (unit, class, channel, reporter, 主办) are copied from that row by ``INSERT … SELECT``
and a fact can never disagree with the case it belongs to.

The derived 应结案 row (fact ``due``, seq 0) is kept here too: ``at`` is the case's last handle deadline
(the same rule as ``deadlines.deadline_at`` of kind ``handle``), ``closed_at`` is set when the case closes and
cleared when it reopens. 按期结案 (closed_at <= at) and 超期 are read from it at query time, so a late close
moves a case from 超期 to closed-late without rewriting history rows. A case that closes without ever having
a handle deadline (当场办结) gets a due row at its closing time: it was due, and it was closed on time.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, and_, insert, literal, select, update

from ..store.tables import case_facts, cases
from ..workcal import as_shanghai

DUE = "due"
DUE_SEQ = 0


def record_step(conn: Connection, tenant: str, case_id: str, seq: int, at: datetime, actor: str,
                facts: Iterable[str], *, lead: str | None, handler_unit: str | None,
                deadline: datetime | None = None, closed: bool = False, reopened: bool = False) -> None:
    """Write the facts of step ``seq`` and keep the case's 应结案 row in step. The case row must be written."""
    at = as_shanghai(at)
    facts = tuple(dict.fromkeys(str(f) for f in facts))
    for fact in facts:
        _insert_from_case(conn, tenant, case_id, seq, fact, at, actor)
    key = and_(case_facts.c.tenant == tenant, case_facts.c.case_id == case_id, case_facts.c.seq == DUE_SEQ,
               case_facts.c.fact == DUE)
    values: dict = {"lead": lead, "handler_unit": handler_unit}
    if deadline is not None:
        values.update(at=as_shanghai(deadline), closed_at=at if closed else None)
    elif reopened:
        values["closed_at"] = None
    exists = conn.execute(update(case_facts).where(key).values(**values)).rowcount > 0
    if deadline is not None and not exists:
        _insert_from_case(conn, tenant, case_id, DUE_SEQ, DUE, as_shanghai(deadline), None,
                          closed_at=at if closed else None)
    elif closed and deadline is None:
        # The first close counts (a later 考核评价 → terminal state must not move it); only a step that
        # records 结案 makes a deadline-less case due (不予立案 is terminal but was never due).
        if exists:
            conn.execute(update(case_facts).where(and_(key, case_facts.c.closed_at.is_(None))).values(closed_at=at))
        elif "closed" in facts:
            _insert_from_case(conn, tenant, case_id, DUE_SEQ, DUE, at, None, closed_at=at)


def _insert_from_case(conn: Connection, tenant: str, case_id: str, seq: int, fact: str, at: datetime,
                      actor: str | None, closed_at: datetime | None = None) -> None:
    # 上报 counts when the event was reported (a 12345 work order imported later still falls in its month).
    when = cases.c.reported_at if fact == "reported" else literal(at, case_facts.c.at.type)
    query = select(
        cases.c.tenant, cases.c.id, literal(seq), literal(fact), when, cases.c.unit_code, cases.c.handler_unit,
        cases.c.lead, literal(actor, case_facts.c.actor.type), cases.c.reported_by, cases.c.event_class,
        cases.c.ref_class, cases.c.channel, cases.c.zone, cases.c.reported_at,
        literal(closed_at, case_facts.c.closed_at.type),
    ).where(and_(cases.c.tenant == tenant, cases.c.id == case_id))
    conn.execute(insert(case_facts).from_select(
        ["tenant", "case_id", "seq", "fact", "at", "unit_code", "handler_unit", "lead", "actor", "reporter",
         "event_class", "ref_class", "channel", "zone", "reported_at", "closed_at"], query))


def opening_rows(case_row: dict, actor: str) -> list[dict]:
    """The case_facts rows of a case being opened, from its ``cases`` row as a dict — for writers that
    batch their own INSERTs (web/api/intake.py) and must store exactly what :func:`record_step` stores."""
    get = case_row.get   # a dict display, not a comprehension over names: this runs for every intake
    base = {"tenant": get("tenant"), "unit_code": get("unit_code"), "handler_unit": get("handler_unit"),
            "lead": get("lead"), "event_class": get("event_class"), "ref_class": get("ref_class"),
            "channel": get("channel"), "zone": get("zone"), "reported_at": get("reported_at"),
            "case_id": case_row["id"], "reporter": get("reported_by"), "closed_at": None}
    now = case_row["updated_at"]
    rows = [{**base, "seq": 1, "fact": "reported", "at": case_row["reported_at"], "actor": actor},
            {**base, "seq": 1, "fact": "accepted", "at": now, "actor": actor}]
    if case_row.get("due_at") is not None:
        rows.append({**base, "seq": DUE_SEQ, "fact": DUE, "at": case_row["due_at"], "actor": None})
    return rows
