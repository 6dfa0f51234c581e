"""Cases over the store: open, act, list, show — each change in ONE transaction.

A change writes the case row (guarded by its ``seq`` for optimistic concurrency), one appended
``transitions`` row, its ``deadlines`` rows and its ``outbox`` rows together or not at all. A case is pinned
to the pack version it was opened under (``versions.py``); acting on it later uses that version's workflow.
"""
from __future__ import annotations

import operator
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType, SimpleNamespace
from typing import Any

from sqlalchemy import JSON, Connection, Table, and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..events import Event, parse_event
from ..pack.model import Pack
from ..pack.sections.workflow import rules_for
from ..scoring.facts import opening_rows, record_step
from ..store import Database
from ..store.db import json_text
from ..store.tables import case_facts, cases, deadlines, outbox, transitions
from ..workcal import CalendarError, as_shanghai
from ..workflow import Actor, CaseView, Outcome, WorkflowError, allowed_actions, apply
from .versions import pinned, publish

# Called inside the transaction that wrote step ``seq`` of a case: (conn, tenant, case id, seq). Plugins'
# observers (core/outbox.plugin_observer) use it so what they ask to send is stored with the change.
Observer = Callable[[Connection, str, str, int], None]


class CaseNotFound(LookupError):
    pass


class ConcurrentUpdate(Exception):
    """The case changed since it was read (its seq moved on); reload and try again."""


@dataclass
class PackCache:
    """Compiled pinned packs by (tenant, pack id, version) for one process or worker (not global)."""

    packs: dict[tuple[str, str, str], Pack] = field(default_factory=dict)

    def get(self, conn: Connection, tenant: str, pack_id: str, version: str, current: Pack | None = None) -> Pack:
        if current is not None and current.id == pack_id and current.version == version:
            return current
        key = (tenant, pack_id, version)
        if key not in self.packs:
            self.packs[key] = pinned(conn, tenant, pack_id, version)
        return self.packs[key]


@dataclass(frozen=True)
class Step:
    """One row of a case's history."""

    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    rule: str | None
    pack_version: str
    note: str
    data: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at.isoformat(), "actor": self.actor, "role": self.role,
                "action": self.action, "from": self.from_state, "to": self.to_state, "rule": self.rule,
                "pack_version": self.pack_version, "note": self.note, "data": dict(self.data)}


@dataclass(frozen=True)
class Case:
    tenant: str
    id: str
    pack_id: str
    pack_version: str
    external_id: str | None
    state: str
    level: str
    unit_code: str
    handler_unit: str | None
    lead: str | None
    assist: tuple[str, ...]
    priority: int
    reported_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    reported_by: str
    supervised: bool
    seq: int
    event: Mapping[str, Any]
    decision: Mapping[str, Any]
    vars: Mapping[str, Any]
    history: tuple[Step, ...] = ()

    def view(self) -> CaseView:
        entered = self.vars.get("entered_at")
        return CaseView(id=self.id, state=self.state, level=self.level, unit_code=self.unit_code,
                        handler_unit=self.handler_unit, lead=self.lead, assist=self.assist,
                        reported_by=self.reported_by, event=self.event, decision=self.decision,
                        entered_at=as_shanghai(datetime.fromisoformat(entered)) if entered else self.reported_at,
                        due_at=self.due_at, priority=self.priority, supervised=self.supervised, vars=self.vars)

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("tenant", "id", "pack_id", "pack_version", "external_id", "state",
                                             "level", "unit_code", "handler_unit", "lead", "priority",
                                             "reported_by", "supervised", "seq")}
        out.update({"assist": list(self.assist), "reported_at": self.reported_at.isoformat(),
                    "due_at": self.due_at.isoformat() if self.due_at else None,
                    "closed_at": self.closed_at.isoformat() if self.closed_at else None,
                    "event": dict(self.event), "decision": dict(self.decision), "vars": dict(self.vars),
                    "history": [s.to_json() for s in self.history]})
        return out


def _dt(value: datetime | None) -> datetime | None:
    return as_shanghai(value) if value is not None else None


def _case(row: Any, history: tuple[Step, ...] = ()) -> Case:
    return Case(tenant=row.tenant, id=row.id, pack_id=row.pack_id, pack_version=row.pack_version,
                external_id=row.external_id, state=row.state, level=row.level, unit_code=row.unit_code,
                handler_unit=row.handler_unit, lead=row.lead, assist=tuple(row.assist or ()),
                priority=row.priority, reported_at=as_shanghai(row.reported_at), due_at=_dt(row.due_at),
                closed_at=_dt(row.closed_at), reported_by=row.reported_by, supervised=bool(row.supervised),
                seq=row.seq, event=MappingProxyType(dict(row.event)), decision=MappingProxyType(dict(row.decision)),
                vars=MappingProxyType(dict(row.vars or {})), history=history)


def decision_json(decision: Any) -> dict[str, Any]:
    """A routing Decision (``core.routing``) or a mapping of the same fields, as stored JSON."""
    if hasattr(decision, "to_json"):
        return dict(decision.to_json())
    if isinstance(decision, Mapping):
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in decision.items()}
    raise TypeError(f"not a routing decision: {decision!r}")


def _now(now: datetime | None) -> datetime:
    return as_shanghai(now or datetime.now().astimezone())


def _select_case(conn: Connection, tenant: str, case_id: str) -> Any:
    row = conn.execute(select(cases).where(and_(cases.c.tenant == tenant, cases.c.id == case_id))).first()
    if row is None:
        raise CaseNotFound(f"没有案件 {case_id}(租户 {tenant})")
    return row


# ---------------------------------------------------------------- open


def open_case(db: Database, tenant: str, pack: Pack, event: Event | Mapping[str, Any], decision: Any, actor: Actor,
              *, now: datetime | None = None, observe: Observer | None = None) -> Case:
    """Store a routed event as a case (idempotent by ``event.external_id``: the same work order twice
    returns the first case)."""
    now = _now(now)
    if not isinstance(event, Event):
        event = parse_event(event, pack)
    if pack.workflow is None:
        raise WorkflowError("NO_WORKFLOW", f"规则包 {pack.id} 没有声明工作流程 (workflow:)")
    if event.external_id:
        existing = _by_external_id(db, tenant, event.external_id)
        if existing is not None:
            return existing
    try:
        with db.engine.begin() as conn:
            case = _insert_case(conn, tenant, pack, event, decision_json(decision), actor, now)
            if observe is not None:
                observe(conn, tenant, case.id, case.seq)
            return case
    except IntegrityError:
        # Two intakes of the same work order raced; the unique (tenant, external_id) index kept one.
        existing = _by_external_id(db, tenant, event.external_id) if event.external_id else None
        if existing is None:
            raise
        return existing


def _by_external_id(db: Database, tenant: str, external_id: str) -> Case | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(cases).where(and_(cases.c.tenant == tenant,
                                                    cases.c.external_id == external_id))).first()
    return _case(row) if row is not None else None


def time_ordered_id() -> str:
    """A UUID version 7 (RFC 9562: 48-bit Unix ms time, then random bits), same text form as uuid4.

    Why not uuid4: case ids lead the primary keys of cases, transitions and deadlines. Random ids scatter
    every batch over the whole B-tree, so each commit dirties (and SQLite's WAL rewrites) a page per row
    and index; time-ordered ids append to the right edge. Measured on SQLite: commit of a 9-case batch
    2.9 ms with uuid4."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & (2**48 - 1)) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | (rand & (2**62 - 1))
    h = f"{value:032x}"   # str(uuid.UUID(int=value)) without building the UUID object: 4 ids per case
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"



@dataclass(frozen=True)
class NewCase:
    """Every row that opening one case writes, built without touching the database, so a batched writer
    (the HTTP intake) stores exactly what :func:`open_case` stores."""

    case: dict[str, Any]
    history: dict[str, Any]
    deadline: dict[str, Any] | None
    outbox: tuple[dict[str, Any], ...]
    facts: tuple[dict[str, Any], ...]


def new_case_rows(tenant: str, pack: Pack, event: Event, decision: dict[str, Any], actor: Actor, now: datetime,
                  *, case_id: str | None = None) -> NewCase:
    # Runs for every intake (web/api/intake.py): rows are dict displays, not dict(**kwargs), and values the
    # rows share are computed once (same keys, order and values; InsertPlan.parameters memoises by identity).
    wf = pack.workflow
    assert wf is not None
    get = decision.get
    state = get("state")
    if state not in wf.states:
        state = wf.initial
    units = pack.grid.units
    unit = units[event.unit]
    cls = pack.events.classes[event.event_class]
    handler = get("unit")
    if handler not in units:
        handler = event.unit
    level = get("level") or units[handler].level
    reported_at = as_shanghai(event.reported_at)
    try:
        due, note = _decision_due(pack, decision, reported_at), ""
    except CalendarError as exc:
        # A year the calendar does not know: the report is still taken (a citizen's event is never refused
        # for it); the case opens without a deadline and its history says why. Never a guessed deadline.
        due, note = None, f"无法计算办理期限 (no deadline): {exc.message}"
    closed = wf.states[state].kind in ("closed", "terminal")
    case_id = case_id or time_ordered_id()
    lead = get("lead")
    case = {
        "tenant": tenant, "id": case_id, "pack_id": pack.id, "pack_version": pack.version,
        "external_id": event.external_id, "channel": event.channel, "event_class": event.event_class,
        "ref_class": cls.maps_to, "unit_code": event.unit, "zone": unit.zone, "state": state, "level": level,
        "handler_unit": handler, "lead": lead or None, "assist": list(get("assist") or ()),
        "priority": int(get("priority") or 0), "reported_at": reported_at, "due_at": None if closed else due,
        "closed_at": now if closed else None, "reported_by": event.reporter or actor.id, "event": event.to_json(),
        "decision": decision, "seq": 1, "supervised": False, "vars": {"entered_at": now.isoformat()},
        "updated_at": now}
    deadline = None
    if due is not None and not closed:
        try:
            deadline = {"tenant": tenant, "case_id": case_id, "kind": "handle",
                        **_deadline_values(pack, "handle", due, state)}
        except CalendarError as exc:   # the deadline stands; only its escalation steps cannot be timed
            note = f"无法安排升级 (escalation not scheduled): {exc.message}"
    # The decision itself is on the case row; the history row names the rules that made it.
    history = {
        "tenant": tenant, "case_id": case_id, "seq": 1, "at": now, "actor": actor.id, "role": actor.role,
        "action": "open", "from_state": None, "to_state": state, "rule": matched_rules(decision),
        "pack_version": pack.version, "note": note, "data": {"facts": ["reported", "accepted"]}}
    targets = [f"department:{lead}"] if lead else []
    targets += [str(t) for t in get("notify") or ()]
    notices = _outbox_rows(tenant, case_id, targets, {"event": "opened", "state": state, "title": event.title}, now)
    return NewCase(case, history, deadline, notices, tuple(opening_rows(case, actor.id)))


def matched_rules(decision: Mapping[str, Any]) -> str | None:
    """``table/rule`` of every routing rule that matched, for the history row's ``rule`` column."""
    names = [f"{step['table']}/{step['rule']}" for step in decision.get("trace") or ()
             if (type(step) is dict or isinstance(step, Mapping)) and step.get("matched") and step.get("rule")]
    return ",".join(names)[:128] or None


def write_new_cases(conn: Connection, items: Sequence[NewCase]) -> None:
    """Insert the rows of ``items`` (one executemany per table). Caller owns the transaction.

    Rows go to the driver as tuples through a per-(table, dialect) :class:`InsertPlan` instead of
    ``conn.execute(insert(table), rows)``: SQLAlchemy's executemany re-derives the parameters of every row
    (``construct_params``, a bind-processor lookup per value): 140 µs of the 230 µs per case of a 16-case
    SQLite batch (bench/intake.py micro-timing). The plan applies the same bind processors, so the stored
    values are byte-identical."""
    memo: dict[tuple[str, int], Any] = {}   # lives while ``items`` keep every value alive (see parameters)
    for table, rows in rows_by_table(items):
        plan = insert_plan(conn, table, tuple(rows[0]))
        conn.exec_driver_sql(plan.sql, plan.parameters(rows, memo))


def rows_by_table(items: Sequence[NewCase]) -> list[tuple[Table, list[dict[str, Any]]]]:
    """The rows of ``items`` per table, in the order they are inserted (cases first: the others refer to
    them); tables with no rows are left out."""
    tables = ((cases, [i.case for i in items]), (transitions, [i.history for i in items]),
              (deadlines, [i.deadline for i in items if i.deadline is not None]),
              (outbox, [row for i in items for row in i.outbox]),
              (case_facts, [row for i in items for row in i.facts]))
    return [(table, rows) for table, rows in tables if rows]


@dataclass(frozen=True)
class InsertPlan:
    """``INSERT INTO table (keys…)`` for one dialect: its SQL with positional parameters, and for each
    position needing one the column type's bind processor as (position, processor, kind, None passes as is).
    ``kind`` names the processor's behaviour (type and arguments), shared by columns of the same type."""

    sql: str
    keys: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any], str, bool], ...]

    def parameters(self, rows: Sequence[Mapping[str, Any]], memo: dict[tuple[str, int], Any]) -> list[tuple[Any, ...]]:
        """The rows as driver tuples. ``memo`` maps (processor kind, id of a value) to the processed value for
        the duration of one write: a case's rows share their ``now``, ``reported_at`` and payload objects
        (18 datetimes per case, 3 distinct), and SQLite's DATETIME processor alone cost 29 µs per case.
        Keyed by identity, not equality: equal instants in other zones format differently."""
        keys = self.keys
        get = operator.itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
        if not self.processors:
            return [get(row) for row in rows]
        out = []
        for row in rows:
            values = list(get(row))
            for i, process, kind, none_passes in self.processors:
                value = values[i]
                if value is None and none_passes:
                    continue
                key = (kind, id(value))
                done = memo.get(key, memo)
                if done is memo:
                    done = memo[key] = process(value)
                values[i] = done
            out.append(tuple(values))
        return out


PLANS_KEY = "wangge.insert_plans"


def insert_plan(conn: Connection, table: Table, keys: tuple[str, ...]) -> InsertPlan:
    """The plan for ``keys`` of ``table`` on ``conn``'s dialect, built once per pooled DBAPI connection
    (kept in ``conn.info``, SQLAlchemy's place for per-connection user data; nothing module-global)."""
    return cached_plan(conn.info.setdefault(PLANS_KEY, {}), conn.dialect, table, keys)


def cached_plan(plans: dict[tuple[str, tuple[str, ...]], InsertPlan], dialect: Any, table: Table,
                keys: tuple[str, ...]) -> InsertPlan:
    """The plan for ``keys`` of ``table`` from ``plans``, built and kept there the first time."""
    plan = plans.get((table.name, keys))
    if plan is None:
        plan = plans[(table.name, keys)] = _build_plan(dialect, table, keys)
    return plan


def _check_keys(table: Table, keys: tuple[str, ...]) -> None:
    unknown = [k for k in keys if k not in table.c]
    if unknown:
        raise ValueError(f"{table.name}: no column {', '.join(unknown)}")
    missing = [c.key for c in table.c if c.default is not None and c.key not in keys]
    if missing:  # SQLAlchemy would fill these defaults; the row builders must spell them out instead
        raise ValueError(f"{table.name}: rows must give {', '.join(missing)}")


def _build_plan(dialect: Any, table: Table, keys: tuple[str, ...]) -> InsertPlan:
    _check_keys(table, keys)
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    sql = compiled.string
    if dialect.positional:
        order = tuple(compiled.positiontup or ())
    else:  # pyformat (psycopg): %(name)s[::CAST] → %s, keeping SQLAlchemy's casts
        order = tuple(re.findall(r"%\((\w+)\)s", sql))
        sql = re.sub(r"%\((\w+)\)s", "%s", sql)
    if sorted(order) != sorted(keys):
        raise ValueError(f"{table.name}: unexpected INSERT parameters {order}")
    processors = []
    for i, key in enumerate(order):
        impl = table.c[key].type.dialect_impl(dialect)
        process = impl.bind_processor(dialect)
        if process is not None:
            processors.append((i, process, f"{type(impl).__qualname__}:{impl!r}", process(None) is None))
    return InsertPlan(sql, order, tuple(processors))


@dataclass(frozen=True)
class RecordsetInsert:
    """PostgreSQL: all the rows of a batch of new cases in ONE statement, each table's rows passed as one
    JSON array and turned into rows by the server (``json_populate_recordset``), one data-modifying ``WITH``
    clause per table. Foreign keys are checked at the end of the statement, when every clause's rows exist.

    Why: psycopg sends an executemany row by row (a Bind/Execute and a socket flush each) and an intake case
    is about nine rows: 250–300 µs of the asynchronous writer's CPU per case in batches of four, against
    60–95 µs this way (one ``orjson.dumps`` per table, one prepared statement per batch; bench/intake.py).

    Stored values are those of :class:`InsertPlan`: the server parses the ISO datetimes orjson writes with
    their offsets; a ``json`` column keeps the text of its value as written, which is :func:`json_text`'s
    (same serializer, same options); a Python ``None`` in a JSON column is stored as JSON ``null`` as
    SQLAlchemy stores it, unless the column's type says ``none_as_null``; a column a row leaves out is NULL
    (none of these tables has a server default)."""

    sql: str
    tables: tuple[tuple[str, tuple[str, ...]], ...]

    def parameters(self, by_table: Sequence[tuple[Table, list[dict[str, Any]]]]) -> list[str]:
        """The rows of ``by_table`` (the one this statement was made for) as its JSON arguments."""
        return [json_text(rows) for _, rows in by_table]


def recordset_insert(statements: dict[tuple[tuple[str, tuple[str, ...]], ...], RecordsetInsert],
                     by_table: Sequence[tuple[Table, list[dict[str, Any]]]]) -> RecordsetInsert:
    """The statement for ``by_table`` (:func:`rows_by_table`'s answer) from ``statements``, built and kept
    there the first time; keyed by each table's name and the keys of its first row."""
    key = tuple((table.name, tuple(rows[0])) for table, rows in by_table)
    statement = statements.get(key)
    if statement is None:
        statement = statements[key] = _build_recordset(by_table, key)
    return statement


def _build_recordset(by_table: Sequence[tuple[Table, list[dict[str, Any]]]],
                     key: tuple[tuple[str, tuple[str, ...]], ...]) -> RecordsetInsert:
    clauses = []
    for i, ((table, _), (_, keys)) in enumerate(zip(by_table, key)):
        _check_keys(table, keys)
        columns = ", ".join(f'"{k}"' for k in keys)
        values = ", ".join(_recordset_value(table, k) for k in keys)
        clauses.append(f'w{i} AS (INSERT INTO "{table.name}" ({columns}) '
                       f'SELECT {values} FROM json_populate_recordset(NULL::"{table.name}", %s::json) AS r)')
    return RecordsetInsert("WITH " + ", ".join(clauses) + " SELECT 1", key)


def _recordset_value(table: Table, key: str) -> str:
    column = table.c[key]
    if isinstance(column.type, JSON) and not column.type.none_as_null:
        return f"""coalesce(r."{key}", 'null'::json)"""
    return f'r."{key}"'


def _insert_case(conn: Connection, tenant: str, pack: Pack, event: Event, decision: dict[str, Any], actor: Actor,
                 now: datetime) -> Case:
    publish(conn, tenant, pack, now, actor.id)
    new = new_case_rows(tenant, pack, event, decision, actor, now)
    write_new_cases(conn, [new])
    return _case(SimpleNamespace(**new.case))


def _decision_due(pack: Pack, decision: Mapping[str, Any], start: datetime) -> datetime | None:
    if decision.get("due"):
        return as_shanghai(datetime.fromisoformat(str(decision["due"])))
    if decision.get("time_limit"):
        return pack.calendar.deadline(start, str(decision["time_limit"]))
    return None


# ---------------------------------------------------------------- act


def act(db: Database, tenant: str, pack: Pack | None, case_id: str, action: str, actor: Actor, note: str = "",
        data: Mapping[str, Any] | None = None, *, now: datetime | None = None, expected_seq: int | None = None,
        cache: PackCache | None = None, observe: Observer | None = None) -> Case:
    """Take ``action`` on a case as ``actor``. Uses the workflow of the version the case is pinned to
    (``pack`` is used only when it is that version). WorkflowError when not allowed; ConcurrentUpdate when
    the case changed meanwhile (or since ``expected_seq``)."""
    now = _now(now)
    cache = cache or PackCache()
    with db.engine.begin() as conn:
        row = _select_case(conn, tenant, case_id)
        if expected_seq is not None and row.seq != expected_seq:
            raise ConcurrentUpdate(f"案件 {case_id} 已被他人更新(seq {row.seq} ≠ {expected_seq}),请刷新后重试")
        case_pack = cache.get(conn, tenant, row.pack_id, row.pack_version, pack)
        case = _case(row)
        outcome = apply(case_pack, case.view(), action, actor, now, note, data)
        store_outcome(conn, case_pack, case, outcome, actor, note, dict(data or {}), now)
        stored = _case(_select_case(conn, tenant, case_id))
        if observe is not None:
            observe(conn, tenant, case_id, stored.seq)
        return stored


def actions_for(db: Database, tenant: str, case_id: str, actor: Actor, pack: Pack | None = None,
                cache: PackCache | None = None) -> tuple[str, ...]:
    """The action ids ``actor`` may take on the case now (for to-do lists and the CLI)."""
    cache = cache or PackCache()
    with db.engine.connect() as conn:
        row = _select_case(conn, tenant, case_id)
        case_pack = cache.get(conn, tenant, row.pack_id, row.pack_version, pack)
    return tuple(t.id for t in allowed_actions(case_pack, _case(row).view(), actor))


def store_outcome(conn: Connection, pack: Pack, case: Case, outcome: Outcome, actor: Actor, note: str,
                  data: dict[str, Any], now: datetime, *, escalated: tuple[str, int] | None = None) -> None:
    """Write one outcome: case row (seq-guarded), history row, deadlines, outbox. Caller owns the transaction.

    ``escalated`` = (deadline kind, stage) when the outcome comes from an escalation rule: that deadline
    row advances to its next stage here, in the same transaction."""
    seq = case.seq + 1
    variables = dict(outcome.vars)
    if outcome.to_state != outcome.from_state:
        variables["entered_at"] = now.isoformat()
    handle = dict(outcome.deadlines).get("handle")
    due_at = None if outcome.closed else (handle or case.due_at)
    if "handle" in outcome.stopped or "all" in outcome.stopped:
        due_at = handle
    result = conn.execute(update(cases).where(and_(
        cases.c.tenant == case.tenant, cases.c.id == case.id, cases.c.seq == case.seq)).values(
        state=outcome.to_state, level=outcome.level, handler_unit=outcome.handler_unit, lead=outcome.lead,
        assist=list(outcome.assist), priority=outcome.priority, supervised=outcome.supervised, vars=variables,
        seq=seq, due_at=due_at, updated_at=now,
        closed_at=now if outcome.closed else (None if outcome.reopened else case.closed_at)))
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"案件 {case.id} 已被他人更新,请刷新后重试")
    conn.execute(insert(transitions).values(
        tenant=case.tenant, case_id=case.id, seq=seq, at=now, actor=actor.id, role=actor.role,
        action=outcome.action, from_state=outcome.from_state, to_state=outcome.to_state, rule=outcome.rule,
        pack_version=case.pack_version, note=note,
        data={"input": data, "facts": list(outcome.facts), "notify": list(outcome.notify),
              "lead": outcome.lead, "level": outcome.level}))
    record_step(conn, case.tenant, case.id, seq, now, actor.id, outcome.facts, lead=outcome.lead,
                handler_unit=outcome.handler_unit, deadline=handle, closed=outcome.closed,
                reopened=outcome.reopened)  # indicator facts, same transaction (core/scoring/facts.py)
    if escalated is not None:
        _advance(conn, pack, case, escalated[0], escalated[1], dict(outcome.deadlines).get(escalated[0]), now)
    for kind in outcome.stopped:
        cond = [deadlines.c.tenant == case.tenant, deadlines.c.case_id == case.id, deadlines.c.done.is_(False)]
        if kind != "all":
            cond.append(deadlines.c.kind == kind)
        conn.execute(update(deadlines).where(and_(*cond)).values(done=True, claimed_by=None))
    for kind, when in outcome.deadlines:
        if escalated is None or kind != escalated[0]:
            _set_deadline(conn, pack, case.tenant, case.id, kind, when, outcome.to_state)
    _outbox(conn, case.tenant, case.id, list(outcome.notify),
            {"event": outcome.action, "rule": outcome.rule, "from": outcome.from_state, "to": outcome.to_state,
             "supervised": outcome.supervised}, now)


def _first_due(pack: Pack, kind: str, deadline_at: datetime, stage: int = 0) -> datetime:
    """When stage ``stage`` of the escalation of this deadline fires (the deadline itself if no ``after``)."""
    rules = rules_for(pack.escalation, kind)
    if stage < len(rules) and rules[stage].after is not None:
        return pack.calendar.deadline(deadline_at, rules[stage].after)
    return deadline_at


def _deadline_values(pack: Pack, kind: str, when: datetime, state: str) -> dict[str, Any]:
    when = as_shanghai(when)
    return {"due_at": _first_due(pack, kind, when), "deadline_at": when, "stage": 0, "done": False,
            "claimed_by": None, "claimed_at": None, "state": state}


def _set_deadline(conn: Connection, pack: Pack, tenant: str, case_id: str, kind: str, when: datetime,
                  state: str) -> None:
    key = and_(deadlines.c.tenant == tenant, deadlines.c.case_id == case_id, deadlines.c.kind == kind)
    values = _deadline_values(pack, kind, when, state)
    if conn.execute(update(deadlines).where(key).values(**values)).rowcount == 0:
        conn.execute(insert(deadlines).values(tenant=tenant, case_id=case_id, kind=kind, **values))


def _advance(conn: Connection, pack: Pack, case: Case, kind: str, stage: int, new_deadline: datetime | None,
             now: datetime) -> None:
    """Move an escalated deadline row to its next stage, or finish it when no rule is left."""
    key = and_(deadlines.c.tenant == case.tenant, deadlines.c.case_id == case.id, deadlines.c.kind == kind)
    row = conn.execute(select(deadlines.c.deadline_at).where(key)).one()
    deadline_at = as_shanghai(new_deadline) if new_deadline else as_shanghai(row.deadline_at)
    rules = rules_for(pack.escalation, kind)
    if stage + 1 >= len(rules):
        conn.execute(update(deadlines).where(key).values(done=True, stage=stage + 1, claimed_by=None,
                                                           deadline_at=deadline_at))
        return
    conn.execute(update(deadlines).where(key).values(
        stage=stage + 1, deadline_at=deadline_at, due_at=_first_due(pack, kind, deadline_at, stage + 1),
        claimed_by=None, claimed_at=None))


def _outbox_rows(tenant: str, case_id: str, targets: list[str], payload: dict[str, Any],
                 now: datetime) -> tuple[dict[str, Any], ...]:
    # Time-ordered ids, as for cases (see time_ordered_id): random uuid4 keys put each outbox row on its own
    # page of the primary key.
    return tuple([{"tenant": tenant, "id": time_ordered_id(), "case_id": case_id, "kind": "notify", "target": target,
                   "payload": payload, "status": "pending", "attempts": 0, "next_at": now, "last_error": "",
                   "created_at": now}
                  for target in dict.fromkeys(targets)])


def _outbox(conn: Connection, tenant: str, case_id: str, targets: list[str], payload: dict[str, Any],
            now: datetime) -> None:
    rows = list(_outbox_rows(tenant, case_id, targets, payload, now))
    if rows:
        conn.execute(insert(outbox), rows)


# ---------------------------------------------------------------- read


def get_case(db: Database, tenant: str, case_id: str) -> Case:
    with db.engine.connect() as conn:
        row = _select_case(conn, tenant, case_id)
        steps = conn.execute(select(transitions).where(and_(
            transitions.c.tenant == tenant, transitions.c.case_id == case_id)).order_by(transitions.c.seq)).all()
    history = tuple(Step(s.seq, as_shanghai(s.at), s.actor, s.role, s.action, s.from_state, s.to_state, s.rule,
                         s.pack_version, s.note, MappingProxyType(dict(s.data or {}))) for s in steps)
    return _case(row, history)


def list_query(tenant: str, state: str | None = None, overdue_at: datetime | None = None, limit: int = 100) -> Any:
    """The SELECT behind :func:`list_cases` (exposed so tests can EXPLAIN it)."""
    query = select(cases).where(cases.c.tenant == tenant)
    if state:
        query = query.where(cases.c.state == state)
    if overdue_at is not None:
        query = query.where(and_(cases.c.due_at < as_shanghai(overdue_at), cases.c.closed_at.is_(None)))
        return query.order_by(cases.c.due_at).limit(limit)
    return query.order_by(cases.c.reported_at.desc()).limit(limit)


def list_cases(db: Database, tenant: str, state: str | None = None, overdue: bool = False,
               now: datetime | None = None, limit: int = 100) -> list[Case]:
    with db.engine.connect() as conn:
        rows = conn.execute(list_query(tenant, state, _now(now) if overdue else None, limit)).all()
    return [_case(r) for r in rows]
