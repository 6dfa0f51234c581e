"""Escalation workers: claim due deadline rows, apply the pack's escalation rules, record them.

A tick reads only the due rows through the (tenant, done, due_at) index, so it costs in proportion to the
deadlines due, not to the open cases (bench/escalation.py). Several workers may tick at once:

* PostgreSQL: candidates are selected ``FOR UPDATE SKIP LOCKED`` so workers never wait on, or take, each
  other's rows;
* SQLite (one writer at a time): the claim is an ``UPDATE … WHERE claimed_by IS NULL`` guard, so a row
  two workers both saw is claimed by exactly one of them.

Each claimed row is then escalated in its own transaction together with the case change, the history row
(with the rule id) and the notifications; the row's stage advances in that same transaction, so a step is
applied exactly once. A claim whose worker died is taken over after ``lease``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from ..pack.sections.workflow import rules_for
from ..store import Database
from ..store.tables import deadlines, pack_versions
from ..workcal import as_shanghai
from ..workflow import SYSTEM, escalate
from .service import ConcurrentUpdate, Observer, PackCache, _case, _select_case, store_outcome

LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Claim:
    tenant: str
    case_id: str
    kind: str
    stage: int


@dataclass(frozen=True)
class TickReport:
    claimed: int
    escalated: int
    skipped: int
    conflicts: int


def tenants(db: Database) -> list[str]:
    """Counties with published packs (a small table); every case pins one of them."""
    with db.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(pack_versions.c.tenant).distinct()).all()]


def due_query(tenant: str, now: datetime, limit: int, stale: datetime):  # type: ignore[no-untyped-def]
    """Due, unfinished, unclaimed (or stale) rows of one county, oldest first — an index range scan."""
    return (select(deadlines.c.tenant, deadlines.c.case_id, deadlines.c.kind, deadlines.c.stage)
            .where(and_(deadlines.c.tenant == tenant, deadlines.c.done.is_(False), deadlines.c.due_at <= now,
                        or_(deadlines.c.claimed_by.is_(None), deadlines.c.claimed_at < stale)))
            .order_by(deadlines.c.due_at).limit(limit))


def claim_due(db: Database, now: datetime, limit: int, worker_id: str, *, tenant_ids: list[str] | None = None,
              lease: timedelta = LEASE) -> list[Claim]:
    """Claim up to ``limit`` due deadline rows for ``worker_id``."""
    now = as_shanghai(now)
    stale = now - lease
    claims: list[Claim] = []
    for tenant in tenant_ids if tenant_ids is not None else tenants(db):
        if len(claims) >= limit:
            break
        query = due_query(tenant, now, limit - len(claims), stale)
        with db.engine.begin() as conn:
            if db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            for row in conn.execute(query).all():
                key = and_(deadlines.c.tenant == row.tenant, deadlines.c.case_id == row.case_id,
                           deadlines.c.kind == row.kind, deadlines.c.stage == row.stage, deadlines.c.done.is_(False),
                           or_(deadlines.c.claimed_by.is_(None), deadlines.c.claimed_at < stale))
                if conn.execute(update(deadlines).where(key).values(claimed_by=worker_id, claimed_at=now)).rowcount:
                    claims.append(Claim(row.tenant, row.case_id, row.kind, row.stage))
    return claims


def process(db: Database, claim: Claim, worker_id: str, now: datetime, cache: PackCache,
            observe: Observer | None = None) -> str:
    """Apply one claimed step: "escalated", "skipped" (rule does not apply now) or "lost" (claim gone)."""
    now = as_shanghai(now)
    with db.engine.begin() as conn:
        key = and_(deadlines.c.tenant == claim.tenant, deadlines.c.case_id == claim.case_id,
                   deadlines.c.kind == claim.kind)
        held = conn.execute(select(deadlines.c.stage).where(and_(
            key, deadlines.c.claimed_by == worker_id, deadlines.c.stage == claim.stage,
            deadlines.c.done.is_(False)))).first()
        if held is None:
            return "lost"
        case = _case(_select_case(conn, claim.tenant, claim.case_id))
        pack = cache.get(conn, claim.tenant, case.pack_id, case.pack_version)
        rules = rules_for(pack.escalation, claim.kind)
        outcome = escalate(pack, case.view(), rules[claim.stage], claim.kind, now) if claim.stage < len(rules) else None
        if outcome is None:
            # Nothing to do now: move on to the next rule (or finish), recorded on the row only.
            _skip(conn, pack, claim, rules)
            return "skipped"
        store_outcome(conn, pack, case, outcome, SYSTEM, f"超期升级规则 {outcome.rule}", {"deadline": claim.kind},
                      now, escalated=(claim.kind, claim.stage))
        if observe is not None:
            observe(conn, claim.tenant, claim.case_id, case.seq + 1)
        return "escalated"


def _skip(conn, pack, claim: Claim, rules) -> None:  # type: ignore[no-untyped-def]
    from .service import _first_due  # noqa: PLC0415

    key = and_(deadlines.c.tenant == claim.tenant, deadlines.c.case_id == claim.case_id, deadlines.c.kind == claim.kind)
    if claim.stage + 1 >= len(rules):
        conn.execute(update(deadlines).where(key).values(done=True, stage=claim.stage + 1, claimed_by=None))
        return
    row = conn.execute(select(deadlines.c.deadline_at).where(key)).one()
    conn.execute(update(deadlines).where(key).values(
        stage=claim.stage + 1, claimed_by=None, claimed_at=None,
        due_at=_first_due(pack, claim.kind, as_shanghai(row.deadline_at), claim.stage + 1)))


def _release(db: Database, claim: Claim, worker_id: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(deadlines).where(and_(
            deadlines.c.tenant == claim.tenant, deadlines.c.case_id == claim.case_id, deadlines.c.kind == claim.kind,
            deadlines.c.claimed_by == worker_id)).values(claimed_by=None, claimed_at=None))


def tick(db: Database, now: datetime, worker_id: str, limit: int = 1000, *, cache: PackCache | None = None,
         tenant_ids: list[str] | None = None, observe: Observer | None = None) -> TickReport:
    """One escalation tick: claim what is due, escalate each claimed row once."""
    cache = cache or PackCache()
    claims = claim_due(db, now, limit, worker_id, tenant_ids=tenant_ids)
    counts = {"escalated": 0, "skipped": 0, "lost": 0, "conflict": 0}
    for claim in claims:
        try:
            counts[process(db, claim, worker_id, now, cache, observe)] += 1
        except ConcurrentUpdate:
            # Someone acted on the case meanwhile; give the row back so the next tick re-reads the case.
            _release(db, claim, worker_id)
            counts["conflict"] += 1
    return TickReport(len(claims), counts["escalated"], counts["skipped"], counts["conflict"])
