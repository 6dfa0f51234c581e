"""Event intake: parse → route → open case → audit, idempotent by ``external_id``, with group commit.

The rows written are exactly those of :func:`wangge.core.cases.service.open_case` (case, its first
history row — the audit record of the intake —, the ``handle`` deadline and the outbox notifications);
``tests/api/test_intake_parity.py`` opens the same event both ways and compares the stored rows. Intake
builds them itself for speed, measured in bench/intake.py:

* ``open_case`` recomputes the pack's publication digest (the whole merged pack serialised and hashed) for
  every case — about 1.5 ms; intake publishes once per county and process, then remembers it;
* ``open_case`` builds each INSERT with ``.values(**row)``, which SQLAlchemy cannot cache (≈0.8 ms with
  the JSON columns); intake passes rows as parameters to cached statements (``executemany``);
* one transaction per request makes the commit the cost of every request. Requests arriving together are
  written by one transaction (group commit, as databases group WAL flushes); each still gets its answer
  only after its rows are committed. If a batch fails (e.g. another process took the same
  ``external_id`` in between), its items are retried one by one so one item cannot fail its neighbours.

On PostgreSQL a batch is written through psycopg's asynchronous connections (:class:`AsyncWrites`),
so the loop goes on taking in requests while the database works — unless a plugin observing case changes
is enabled in one of the batch's counties (it needs the SQLAlchemy transaction) or the batch is the first of
its pack version in this process (it publishes the version).

On SQLite the batch is written on the event loop thread, not in a worker thread, on purpose: a worker thread
must win the GIL back from the busy loop after every database call, and with CPython's 5 ms switch
interval that convoy made a 0.3 ms batch take 2.6 ms (measured: 1,080 req/s, p99 165 ms). Written inline,
the loop pauses for the batch while new requests wait in the socket buffers and form the next batch.

With several worker processes on one SQLite file (``wangge serve --workers``), batches take turns through
the database's writer lock (``Database.writer_lock``, a lock file). A process that finds it taken does
not wait in it: it goes on taking in requests, which join its next batch, and looks again every
``TURN_POLL``.

The batch writer keeps no background task: the first request that finds no writer running starts one on
the current event loop, and it ends when nothing is pending (so it works under any server or test client).
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import DataError, IntegrityError

from wangge.core.cases.service import (
    NewCase,
    RecordsetInsert,
    new_case_rows,
    recordset_insert,
    rows_by_table,
    time_ordered_id,
    write_new_cases,
)
from wangge.core.cases.versions import publish
from wangge.core.events import Event, EventError, parse_event
from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.store.tables import cases
from wangge.core.workflow import Actor

from .auth import Principal, denied_unit
from .errors import ApiError, invalid
from .ports import RouterPort, router_port
from .timefmt import iso
from .timefmt import now as clock

OPEN_ACTION = "open"           # the cases service's name for the first history row
ASYNC_BATCHES = 2   # PostgreSQL batches in flight at once per process
TURN_POLL = 0.0005   # seconds between looks at the writer lock while another process writes
RESULT_COLUMNS = (cases.c.id, cases.c.state, cases.c.level, cases.c.handler_unit, cases.c.lead, cases.c.due_at,
                  cases.c.external_id)


@dataclass(frozen=True)
class Outcome:
    """The answer to one intake: the case (new or, for a repeated ``external_id``, the existing one)."""

    case_id: str
    event_id: str
    duplicate: bool
    state: str
    level: str
    handler_unit: str | None
    lead: str | None
    due_at: datetime | None
    external_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "event_id": self.event_id, "duplicate": self.duplicate,
                "state": self.state, "level": self.level, "handler_unit": self.handler_unit, "lead": self.lead,
                "due_at": iso(self.due_at), "external_id": self.external_id}


@dataclass(frozen=True)
class Prepared:
    """A validated, routed event with the rows that open its case."""

    tenant: str
    pack: Pack
    actor: str
    event: Event
    rows: NewCase

    @property
    def case_row(self) -> Mapping[str, Any]:
        return self.rows.case


def in_subtree(pack: Pack, unit: str, ancestor: str) -> bool:
    return any(u.code == ancestor for u in pack.grid.ancestors(unit))


def no_workflow(pack: Pack) -> ApiError:
    return ApiError(409, "NO_WORKFLOW", f"规则包 {pack.id} 没有声明工作流程 (workflow:),不能立案 (the pack has no workflow)")


@dataclass(frozen=True)
class CountyIntake:
    """Intake for one county: everything up to the rows is pure and runs on the event loop."""

    tenant: str
    pack: Pack
    router: RouterPort

    @classmethod
    def for_pack(cls, tenant: str, pack: Pack) -> CountyIntake:
        return cls(tenant, pack, router_port(pack))

    def prepare(self, raw: Any, principal: Principal | None, actor: Actor) -> Prepared:
        pack = self.pack
        try:
            event = parse_event(raw, pack)
        except EventError as exc:
            raise invalid(exc.errors, "事件内容有误,请按字段修改后重新上报 (invalid event)") from None
        if principal is not None and principal.unit and not in_subtree(pack, event.unit, principal.unit):
            raise denied_unit(principal, event.unit)
        if pack.workflow is None:
            raise no_workflow(pack)
        return self.build_rows(event, self.router.decide(event), actor, clock())

    def build_rows(self, event: Event, decision: dict[str, Any], actor: Actor, now: datetime) -> Prepared:
        rows = new_case_rows(self.tenant, self.pack, event, decision, actor, now, case_id=time_ordered_id())
        return Prepared(self.tenant, self.pack, actor.id, event, rows)


def outcome_tenant(items: list[Prepared], outcome: Outcome) -> str:
    return next(p.tenant for p in items if p.rows.case["id"] == outcome.case_id)


def _outcome_new(p: Prepared) -> Outcome:
    row = p.case_row
    return Outcome(row["id"], p.event.id, False, row["state"], row["level"], row["handler_unit"], row["lead"],
                   row["due_at"], row["external_id"])


def _outcome_existing(p: Prepared, row: Mapping[str, Any]) -> Outcome:
    return Outcome(row["id"], p.event.id, True, row["state"], row["level"], row["handler_unit"], row["lead"],
                   row["due_at"], row["external_id"])


def _existing(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    by_tenant: dict[str, list[str]] = defaultdict(list)
    for tenant, ext in keys:
        by_tenant[tenant].append(ext)
    found: dict[tuple[str, str], Mapping[str, Any]] = {}
    for tenant, ids in by_tenant.items():
        rows = conn.execute(select(*RESULT_COLUMNS).where(cases.c.tenant == tenant, cases.c.external_id.in_(ids)))
        for row in rows.mappings():
            found[(tenant, row["external_id"])] = row
    return found


def write_batch(conn: Connection, items: list[Prepared], published: set[tuple[str, str, str]],
                check: bool = True) -> list[Outcome]:
    """Open the cases of ``items`` on ``conn`` (one transaction); repeated external ids resolve to one case.

    ``published`` holds the (tenant, pack id, version) already published by this process; the caller adds
    to it only after the transaction commits. ``check=False`` skips the look-up of stored external ids and
    lets the unique index (tenant, external_id) catch a repeat instead (the caller then retries with
    ``check=True``): repeats are rare, so the common batch saves a query."""
    for key, p in {(p.tenant, p.pack.id, p.pack.version): p for p in items}.items():
        if key not in published:
            publish(conn, p.tenant, p.pack, p.case_row["updated_at"], p.actor)
    keys = {(p.tenant, p.event.external_id) for p in items if p.event.external_id}
    outcomes, new = settle(items, _existing(conn, keys) if keys and check else {})
    write_new_cases(conn, new)
    return outcomes


def settle(items: list[Prepared], existing: dict[tuple[str, str], Mapping[str, Any]],
           ) -> tuple[list[Outcome], list[NewCase]]:
    """Each item's outcome and the cases to open: an external id stored already (``existing``) or earlier
    in the batch answers with that case."""
    outcomes: list[Outcome] = []
    new: list[NewCase] = []
    for p in items:
        key = (p.tenant, p.event.external_id) if p.event.external_id else None
        if key is not None and key in existing:
            outcomes.append(_outcome_existing(p, existing[key]))
            continue
        if key is not None:
            existing[key] = p.case_row      # a second copy in the same batch is a duplicate of this one
        new.append(p.rows)
        outcomes.append(_outcome_new(p))
    return outcomes, new


@dataclass
class GroupWriter:
    """Commits prepared intakes in batches (see module docstring). One per database and process."""

    database: Database
    max_batch: int = 128
    observe: Any = None   # the cases service's observer: plugins see each new case in its transaction
    _pending: list[tuple[Prepared, asyncio.Future]] = field(default_factory=list, repr=False)
    _task: asyncio.Task | None = field(default=None, repr=False)
    _published: set[tuple[str, str, str]] = field(default_factory=set, repr=False)
    _held: Connection | None = field(default=None, repr=False)
    _async: AsyncWrites | None = field(default=None, repr=False)

    async def submit(self, item: Prepared) -> Outcome:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        await asyncio.sleep(0)   # let the requests already readable join this batch
        lock = self.database.writer_lock
        while self._pending:
            writes = self._async_writes()
            if writes is not None:
                batch = await writes.start(self)
                if batch:
                    writes.run(self, batch)
                continue
            if not lock.acquire(blocking=False):
                # Another worker process is writing the same SQLite file: take in requests meanwhile (they
                # join this batch) rather than sleep in the lock.
                await asyncio.sleep(TURN_POLL)
                continue
            batch = self._take()
            try:
                outcomes: list[Outcome | Exception] | Exception = self._write([p for p, _ in batch])
            except Exception as exc:  # noqa: BLE001 — every waiter must get an answer, even an error
                outcomes = exc
            finally:
                lock.release()
            answer(batch, outcomes)

    def _take(self) -> list[tuple[Prepared, asyncio.Future]]:
        batch, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
        return batch

    def _async_writes(self) -> AsyncWrites | None:
        """PostgreSQL batches are written without blocking the event loop (:class:`AsyncWrites`) unless a
        plugin observes case changes in one of their counties (it reads and writes in the transaction through
        SQLAlchemy) or their pack version is not yet published by this process."""
        if self.database.dialect != "postgresql":
            return None
        for p, _ in self._pending[:self.max_batch]:
            if self._watched(p.tenant) or (p.tenant, p.pack.id, p.pack.version) not in self._published:
                return None
        loop = asyncio.get_running_loop()
        if self._async is None or self._async.loop is not loop:
            self._async = AsyncWrites(loop, asyncio.Semaphore(ASYNC_BATCHES))
        return self._async

    def _watched(self, tenant: str) -> bool:
        if self.observe is None:
            return False
        watches = getattr(self.observe, "watches", None)   # a plain callable observer watches every county
        return True if watches is None else bool(watches(tenant))

    def commit(self, items: list[Prepared]) -> list[Outcome | Exception]:
        """Write ``items`` now (blocking); for synchronous callers. An item whose rows the database refuses
        has the error in place of its outcome; the others are stored."""
        with self.database.writer_lock.held():
            return self._write(items)

    def commit_each(self, items: list[Prepared]) -> list[Outcome | Exception]:
        """Write each of ``items`` in a transaction of its own (blocking), as :meth:`commit` does once their
        batch has failed: for a batch known to fail as a whole."""
        with self.database.writer_lock.held():
            return [self._alone(p) for p in items]

    def _write(self, items: list[Prepared]) -> list[Outcome | Exception]:
        """Write ``items``; the caller holds the database's writer lock (one batch at a time per process and,
        on a SQLite file, across processes: SQLite has one writer)."""
        try:
            return self._transaction(items, check=False)
        except (IntegrityError, DataError):
            # A repeated external id (stored earlier, or twice in this batch is handled in write_batch;
            # or another process took it / published the same pack version meanwhile), or a row the
            # database refuses: settle each item on its own, looking stored ids up, so one item cannot
            # fail its neighbours.
            return [self._alone(p) for p in items]

    def _alone(self, item: Prepared) -> Outcome | Exception:
        try:
            return self._one(item)
        except Exception as exc:  # noqa: BLE001 — the database refuses this item's rows: its answer is the error
            return exc

    def _transaction(self, items: list[Prepared], check: bool = True) -> list[Outcome]:
        with self._connection() as conn, conn.begin():
            outcomes = write_batch(conn, items, self._published, check)
            if self.observe is not None:
                for outcome in outcomes:
                    if not outcome.duplicate:
                        self.observe(conn, outcome_tenant(items, outcome), outcome.case_id, 1)
        self._published.update((p.tenant, p.pack.id, p.pack.version) for p in items)
        return outcomes

    def _connection(self) -> contextlib.AbstractContextManager[Connection]:
        """On SQLite the writer keeps one connection for its life, as the bare bench endpoint does: checking
        one out of the pool and back for every batch (reset, events, fairy bookkeeping) was 35 µs of each
        case's 290 µs write (bench/intake.py, mean batch 12). Elsewhere a pooled connection per batch keeps
        the pool's liveness checks for a database server that may restart."""
        if self.database.dialect != "sqlite":
            return self.database.engine.connect()
        if self._held is None:
            self._held = self.database.engine.connect()
        return contextlib.nullcontext(self._held)

    def close(self) -> None:
        """Give the kept connection back to the pool (the writer opens another if used again)."""
        with self.database.writer_lock.held():
            held, self._held = self._held, None
        if held is not None:
            held.close()

    async def aclose(self) -> None:
        """Close the asynchronous PostgreSQL connections too (on the loop that opened them)."""
        self.close()
        if self._async is not None:
            await self._async.aclose()

    def _one(self, item: Prepared) -> Outcome:
        try:
            return self._transaction([item])[0]
        except IntegrityError:
            return self._transaction([item])[0]   # the other writer has committed by now: a duplicate


@dataclass
class AsyncWrites:
    """PostgreSQL batches of one writer on one event loop, written through psycopg's asynchronous connections
    so the loop goes on taking in and preparing requests meanwhile; at most ``ASYNC_BATCHES`` at once, each on
    its own connection (kept for the next batch). A batch is one statement (:class:`RecordsetInsert`: each
    table's rows as one JSON array) on a connection in autocommit mode, so it costs one round trip and its
    own implicit transaction: all of it is stored or none.

    Why: written inline, each batch held the loop for its ~5 ms round trips and commit (13–25 ms when
    slow), and every request that arrived meanwhile waited for the loop, then for its own batch: intake p99
    27–35 ms with two workers (bench/intake.py). A writer thread was slower still (GIL hand-offs). The
    stored values are those of the synchronous path (tests/api/test_insert_plan.py compares them); a batch
    meeting a stored external id is settled item by item on that path."""

    loop: asyncio.AbstractEventLoop
    slots: asyncio.Semaphore
    idle: list[Any] = field(default_factory=list)        # psycopg.AsyncConnection
    running: set[asyncio.Task] = field(default_factory=set)
    statements: dict[tuple[tuple[str, tuple[str, ...]], ...], RecordsetInsert] = field(default_factory=dict)

    async def start(self, writer: GroupWriter) -> list[tuple[Prepared, asyncio.Future]]:
        """Wait for a free slot, then take the next batch (requests arriving meanwhile join it)."""
        await self.slots.acquire()
        batch = writer._take()
        if not batch:
            self.slots.release()
        return batch

    def run(self, writer: GroupWriter, batch: list[tuple[Prepared, asyncio.Future]]) -> None:
        task = self.loop.create_task(self._answer(writer, batch))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _answer(self, writer: GroupWriter, batch: list[tuple[Prepared, asyncio.Future]]) -> None:
        try:
            outcomes: list[Outcome | Exception] | Exception = await self.write(writer, [p for p, _ in batch])
        except Exception as exc:  # noqa: BLE001 — every waiter must get an answer, even an error
            outcomes = exc
        finally:
            self.slots.release()
        answer(batch, outcomes)

    async def write(self, writer: GroupWriter, items: list[Prepared]) -> list[Outcome | Exception]:
        import psycopg  # noqa: PLC0415  (only with PostgreSQL)

        outcomes, new = settle(items, {})
        by_table = rows_by_table(new)
        statement = recordset_insert(self.statements, by_table)
        conn = await self._connection(writer.database)
        try:
            await conn.execute(statement.sql, statement.parameters(by_table))
        except (psycopg.IntegrityError, psycopg.DataError):
            self.idle.append(conn)
            return writer.commit_each(items)   # e.g. a stored external id: settled item by item
        except BaseException:
            await conn.close()
            raise
        self.idle.append(conn)
        if writer.database.maintenance is not None:   # the engine's commit event does not see this commit
            writer.database.maintenance.committed()
        return outcomes

    async def _connection(self, database: Database) -> Any:
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed:
                return conn
        import psycopg  # noqa: PLC0415

        cargs, cparams = database.engine.dialect.create_connect_args(database.engine.url)
        return await psycopg.AsyncConnection.connect(*cargs, **cparams, autocommit=True)

    async def aclose(self) -> None:
        idle, self.idle = self.idle, []
        for conn in idle:
            await conn.close()


def answer(batch: list[tuple[Prepared, asyncio.Future]], outcomes: list[Outcome | Exception] | Exception) -> None:
    """Give each waiter its outcome, or its error (its own, or the whole batch's)."""
    for i, (_, future) in enumerate(batch):
        if future.done():
            continue
        result = outcomes if isinstance(outcomes, Exception) else outcomes[i]
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)


async def intake(county: CountyIntake, writer: GroupWriter, raw: Any, principal: Principal | None,
                 actor: Actor) -> Outcome:
    prepared = county.prepare(raw, principal, actor)
    return await writer.submit(prepared)


__all__ = ["ApiError", "CountyIntake", "GroupWriter", "Outcome", "Prepared", "intake", "write_batch"]
