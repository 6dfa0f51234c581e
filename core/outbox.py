"""The outbox: every notification is a stored row first, delivered later with retries.

Why: a case change and the notification it causes must commit together (:func:`enqueue` runs in the
caller's transaction), and a slow, failing or hung receiver — or plugin — must never lose the case nor
hold up intake. Delivery (:func:`deliver_due`) is a separate pass, run by a worker or ``wangge outbox
deliver``:

1. **claim** due rows: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a guarded ``UPDATE … WHERE
   attempts = <seen>`` on SQLite, so two workers never run the same attempt. Claiming counts the attempt
   and pushes ``next_at`` out by a lease, so a worker that dies mid-send leaves the row due again later.
2. **send** outside any transaction, each message in its own thread under ``attempt_timeout``; a hung
   sender is recorded as a timeout and abandoned, the others go on.
3. **record** the outcome: ``sent``; or back to ``pending`` with exponential backoff and jitter (bounded
   by ``max_delay``); or ``dead`` after ``max_attempts`` — ``last_error`` keeps why.

Delivery is at least once: receivers deduplicate by the message id (the webhook sends it as
``X-Wangge-Delivery``).
"""
from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Connection, and_, or_, select, update

from .hooks import ObserverResult, OutboxMessage, Sender
from .store.tables import outbox

log = logging.getLogger(__name__)

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_ERROR = 2000  # characters of an error kept in last_error


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.5  # the share of each delay that is random (0 = none, 1 = full jitter)

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: base·2^(n−1), capped, with jitter below it."""
        raw = min(self.max_delay.total_seconds(), self.base_delay.total_seconds() * 2 ** max(attempts - 1, 0))
        spread = raw * self.jitter
        # Jitter only shortens the wait, so the cap holds and many failing rows do not retry in lockstep.
        return timedelta(seconds=raw - spread * (rng or random).random())


DEFAULT_POLICY = RetryPolicy()


def stored_time(moment: datetime | None) -> datetime:
    """Times are stored in Asia/Shanghai, as everywhere in the store: SQLite keeps no offset, so rows
    written by the cases service and by this module must agree on one zone or due rows would misorder."""
    from .workcal import as_shanghai

    if moment is None:
        return as_shanghai(datetime.now(timezone.utc))
    if moment.tzinfo is None:
        raise ValueError("outbox times must carry a time zone")
    return as_shanghai(moment)


def enqueue(conn: Connection, tenant: str, kind: str, target: str, payload: Mapping[str, Any],
            case_id: str | None = None, *, now: datetime | None = None) -> str:
    """Store one message in the caller's transaction (``conn``); it is delivered only if that commits."""
    now = stored_time(now)
    message_id = str(uuid.uuid4())
    conn.execute(outbox.insert().values(
        tenant=tenant, id=message_id, case_id=case_id, kind=kind, target=target, payload=dict(payload),
        status=PENDING, attempts=0, next_at=now, last_error="", created_at=now))
    return message_id


def enqueue_observed(conn: Connection, tenant: str, observed: ObserverResult, case_id: str | None = None,
                     *, now: datetime | None = None) -> list[str]:
    """Store what the ``wangge_case_event`` observers asked to send (see :func:`wangge.core.hooks.case_event`)."""
    return [enqueue(conn, tenant, r.kind, r.target, r.payload, case_id, now=now) for _, r in observed.requests]


def observe_case_change(conn: Connection, tenant: str, pm: Any, context: Any, case_id: str,
                        seq: int | None = None, *, timeout: float = 2.0, now: datetime | None = None) -> ObserverResult:
    """Show a case change to the plugins' ``wangge_case_event`` observers and store what they ask to send.

    Call it in the transaction that wrote the change (then the notifications commit with it), right after
    the ``transitions`` row ``seq`` (default: the latest) is written. Never raises for a plugin's failure.
    """
    from .hooks import case_event
    from .store.tables import cases, transitions

    case = conn.execute(select(cases).where(cases.c.tenant == tenant, cases.c.id == case_id)).mappings().one()
    query = select(transitions).where(transitions.c.tenant == tenant, transitions.c.case_id == case_id)
    query = query.where(transitions.c.seq == seq) if seq is not None else query.order_by(transitions.c.seq.desc())
    transition = conn.execute(query.limit(1)).mappings().one()
    observed = case_event(pm, context, dict(case), dict(transition), timeout=timeout)
    enqueue_observed(conn, tenant, observed, case_id, now=now)
    return observed


def plugin_observer(pm: Any, context: Any, *, timeout: float = 2.0) -> Callable[[Connection, str, str, int], None]:
    """An observer for the cases service (``observe=``): shows each stored step to the plugins and stores
    what they ask to send in the same transaction."""

    def observe(conn: Connection, tenant: str, case_id: str, seq: int) -> None:
        observe_case_change(conn, tenant, pm, context, case_id, seq, timeout=timeout)

    return observe


@dataclass(frozen=True)
class Outcome:
    id: str
    tenant: str
    kind: str
    attempt: int
    status: str          # sent, pending (will retry) or dead
    error: str = ""
    next_at: datetime | None = None


@dataclass(frozen=True)
class DeliveryReport:
    outcomes: tuple[Outcome, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def sent(self) -> int:
        return self.count(SENT)

    @property
    def retrying(self) -> int:
        return self.count(PENDING)

    @property
    def dead(self) -> int:
        return self.count(DEAD)


SenderLookup = Mapping[str, Sender] | Callable[[str, str], Sender | None]


def deliver_due(db: Any, senders: SenderLookup, now: datetime | None = None, *, worker_id: str = "",
                limit: int = 50, attempt_timeout: float = 10.0, policy: RetryPolicy = DEFAULT_POLICY,
                tenant: str | None = None, rng: random.Random | None = None,
                kinds: Mapping[str, Collection[str]] | None = None) -> DeliveryReport:
    """One delivery pass over up to ``limit`` due messages; returns what happened to each.

    ``senders`` maps a kind to its sender, or is a function ``(tenant, kind) -> sender`` when senders
    differ by county; then ``kinds`` (county → the kinds it has senders for) says which messages the pass
    may claim. Messages of a kind nobody sends stay pending, untouched, until a plugin sending them is
    enabled; without ``kinds`` a function's pass claims every kind and records a missing sender as a failed
    attempt. ``tenant`` restricts the pass to one county. Never raises for a sender's failure.
    """
    now = stored_time(now)
    worker_id = worker_id or f"w-{uuid.uuid4().hex[:12]}"
    # The lease outlives the attempt's time limit, so a row is re-claimed only when its worker is gone.
    lease = timedelta(seconds=max(attempt_timeout * 2, attempt_timeout + 30))
    deliverable = _deliverable(senders, kinds)
    if deliverable is False:
        return DeliveryReport()
    claimed = _claim(db, now, worker_id, limit, lease, tenant, deliverable)
    if not claimed:
        return DeliveryReport()
    lookup = senders if callable(senders) else (lambda _t, kind: senders.get(kind))  # type: ignore[union-attr]
    results = _send_all(claimed, lookup, attempt_timeout)
    outcomes = []
    with db.engine.begin() as conn:
        for message, error in zip(claimed, results):
            outcomes.append(_record(conn, message, error, now, worker_id, policy, rng))
    return DeliveryReport(tuple(outcomes))


def _deliverable(senders: SenderLookup, kinds: Mapping[str, Collection[str]] | None) -> Any:
    """The condition on outbox rows that have a sender; None: every row; False: no row."""
    if kinds is not None:
        per_county = [and_(outbox.c.tenant == t, outbox.c.kind.in_(sorted(ks))) for t, ks in kinds.items() if ks]
        return or_(*per_county) if per_county else False
    if isinstance(senders, Mapping):
        return outbox.c.kind.in_(sorted(senders)) if senders else False
    return None


def _claim(db: Any, now: datetime, worker_id: str, limit: int, lease: timedelta,
           tenant: str | None, deliverable: Any = None) -> list[OutboxMessage]:
    due = and_(outbox.c.status == PENDING, outbox.c.next_at <= now)
    if tenant is not None:
        due = and_(outbox.c.tenant == tenant, due)
    if deliverable is not None:
        due = and_(due, deliverable)
    query = (select(outbox.c.tenant, outbox.c.id, outbox.c.kind, outbox.c.target, outbox.c.payload,
                    outbox.c.case_id, outbox.c.attempts)
             .where(due).order_by(outbox.c.next_at).limit(limit))
    claimed: list[OutboxMessage] = []
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            query = query.with_for_update(skip_locked=True)
        for row in conn.execute(query).all():
            guard = [outbox.c.tenant == row.tenant, outbox.c.id == row.id]
            if not postgres:
                # SQLite has no row locks: only the worker whose UPDATE still sees the row as it was read wins.
                guard += [outbox.c.status == PENDING, outbox.c.attempts == row.attempts]
            result = conn.execute(update(outbox).where(*guard).values(
                attempts=row.attempts + 1, next_at=now + lease, claimed_by=worker_id))
            if result.rowcount == 1:
                claimed.append(OutboxMessage(row.id, row.tenant, row.kind, row.target, row.payload,
                                             row.case_id, row.attempts + 1))
    return claimed


def _send_all(messages: list[OutboxMessage], lookup: Callable[[str, str], Sender | None],
              timeout: float) -> list[str]:
    """Send every message concurrently, each under ``timeout``; the error text per message ('' = sent)."""
    errors = [""] * len(messages)
    threads: list[threading.Thread | None] = []
    for i, message in enumerate(messages):
        sender = lookup(message.tenant, message.kind)
        if sender is None:
            errors[i] = f'没有 "{message.kind}" 类消息的发送器;请在规则包中启用提供它的插件 (no sender for kind)'
            threads.append(None)
            continue
        errors[i] = "running"
        thread = threading.Thread(target=_run_one, args=(sender, message, errors, i), daemon=True,
                                  name=f"outbox-{message.kind}-{message.id[:8]}")
        thread.start()
        threads.append(thread)
    deadline = _monotonic() + timeout
    for i, thread in enumerate(threads):
        if thread is None:
            continue
        thread.join(max(0.0, deadline - _monotonic()))
        if thread.is_alive():
            # Python cannot stop a thread: the hung send is abandoned (daemon) and counted as failed.
            errors[i] = f"发送超时 (attempt timed out after {timeout:g} s)"
    return list(errors)


def _run_one(sender: Sender, message: OutboxMessage, errors: list[str], i: int) -> None:
    try:
        sender.send(message)
    except BaseException as exc:  # any failure of a plugin is recorded, never raised into the worker
        errors[i] = f"{type(exc).__name__}: {exc}"[:MAX_ERROR] or type(exc).__name__
        return
    if errors[i] == "running":  # not yet declared timed out
        errors[i] = ""


def _monotonic() -> float:
    import time

    return time.monotonic()


def _record(conn: Connection, message: OutboxMessage, error: str, now: datetime, worker_id: str,
            policy: RetryPolicy, rng: random.Random | None) -> Outcome:
    # Only the attempt we claimed may record its result: a late answer after a re-claim changes nothing.
    mine = [outbox.c.tenant == message.tenant, outbox.c.id == message.id, outbox.c.claimed_by == worker_id,
            outbox.c.attempts == message.attempt]
    if not error:
        conn.execute(update(outbox).where(*mine).values(status=SENT, sent_at=now, last_error="", claimed_by=None))
        return Outcome(message.id, message.tenant, message.kind, message.attempt, SENT)
    text = f"第 {message.attempt} 次: {error}"[:MAX_ERROR]
    if message.attempt >= policy.max_attempts:
        conn.execute(update(outbox).where(*mine).values(status=DEAD, last_error=text, claimed_by=None))
        log.error("outbox %s (%s → %s) 投递失败已放弃: %s", message.id, message.kind, message.target, text)
        return Outcome(message.id, message.tenant, message.kind, message.attempt, DEAD, text)
    next_at = now + policy.delay(message.attempt, rng)
    conn.execute(update(outbox).where(*mine).values(status=PENDING, next_at=next_at, last_error=text,
                                                    claimed_by=None))
    return Outcome(message.id, message.tenant, message.kind, message.attempt, PENDING, text, next_at)


def requeue(db: Any, tenant: str, message_id: str, now: datetime | None = None) -> bool:
    """Give a dead message a fresh set of attempts (after the receiver is fixed)."""
    now = stored_time(now)
    with db.engine.begin() as conn:
        result = conn.execute(update(outbox).where(outbox.c.tenant == tenant, outbox.c.id == message_id,
                                                   outbox.c.status == DEAD)
                              .values(status=PENDING, attempts=0, next_at=now))
    return result.rowcount == 1


@dataclass(frozen=True)
class Stored:
    """A row of the outbox as tests and the portal read it."""

    id: str
    tenant: str
    kind: str
    target: str
    payload: Mapping[str, Any]
    status: str
    attempts: int
    next_at: datetime
    last_error: str
    case_id: str | None = None
    sent_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def messages(db: Any, tenant: str, *, case_id: str | None = None, status: str | None = None) -> list[Stored]:
    query = select(outbox).where(outbox.c.tenant == tenant)
    if case_id is not None:
        query = query.where(outbox.c.case_id == case_id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    with db.engine.connect() as conn:
        rows = conn.execute(query.order_by(outbox.c.created_at, outbox.c.id)).all()
    return [Stored(r.id, r.tenant, r.kind, r.target, r.payload, r.status, r.attempts, r.next_at, r.last_error,
                   r.case_id, r.sent_at) for r in rows]
