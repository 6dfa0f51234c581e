"""申诉 from the case page: an admin excludes a case from indicators and scores, or re-judges it (facts added
or removed), and may withdraw the appeal. The engine records who, when and why of a filing in ``appeals``;
the withdrawal's who and why, which that table has no room for, go to the audit log — so does the filing,
so the audit page tells the whole story in one place."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from starlette.datastructures import FormData
from wangge.core.scoring import (
    FACT_NAMES,
    Appeal,
    AppealError,
    file_appeal,
    withdraw_appeal,
)
from wangge.core.store import Database
from wangge.core.store.tables import appeals as appeals_table
from wangge.core.store.tables import audit_log
from wangge.core.workcal import as_shanghai

from . import audit
from .auth import Actor

REASON_LIMIT = 2000
# Facts a re-judgement may add or remove (a person decides on what happened, not on the derived 应结案 row).
REJUDGE_FACTS = {k: v for k, v in FACT_NAMES.items() if k not in ("due", "due_closed")}


@dataclass(frozen=True)
class AppealForm:
    kind: str
    reason: str
    add: tuple[str, ...]
    remove: tuple[str, ...]


def read_form(form: FormData) -> AppealForm:
    """The appeal form's fields; ``add`` / ``remove`` are multi-selects."""
    return AppealForm(str(form.get("kind", "")), str(form.get("reason", "")).strip(),
                      tuple(str(f) for f in form.getlist("add") if f), tuple(str(f) for f in form.getlist("remove") if f))


def who(actor: Actor) -> str:
    return f"{actor.username}({actor.role.name})"


def file(db: Database, tenant: str, case_id: str, actor: Actor, form: AppealForm) -> Appeal:
    """File a granted appeal; AppealError (a message for the page) when the request is not a valid one."""
    if len(form.reason) > REASON_LIMIT:
        raise AppealError(f"理由最多 {REASON_LIMIT} 字")
    if form.kind == "exclude" and (form.add or form.remove):
        raise AppealError("排除不计的申诉不增减事实;要改判请选择“改判”")
    bad = [f for f in (*form.add, *form.remove) if f not in REJUDGE_FACTS]
    if bad:
        raise AppealError(f"不能改判的事实: {', '.join(bad)}")
    appeal = file_appeal(db, tenant, case_id, form.kind, who(actor), form.reason, form.add, form.remove)
    with db.engine.begin() as conn:
        audit.record(conn, tenant, actor.username, "appeal.file",
                     {"appeal": appeal.id, "case": case_id, "kind": appeal.kind, "add": list(appeal.add),
                      "remove": list(appeal.remove), "reason": appeal.reason})
    return appeal


def withdraw(db: Database, tenant: str, case_id: str, appeal_id: str, actor: Actor, reason: str) -> None:
    """Withdraw a granted appeal of this case (not one of another case, whatever the form says)."""
    reason = reason.strip()
    if not reason:
        raise AppealError("撤回申诉须写明理由")
    if len(reason) > REASON_LIMIT:
        raise AppealError(f"理由最多 {REASON_LIMIT} 字")
    mine = {a.id: a for a in case_appeals(db, tenant, case_id)}
    if appeal_id not in mine or mine[appeal_id].status != "granted":
        raise AppealError("本案件没有这条有效的申诉")
    withdraw_appeal(db, tenant, appeal_id)
    with db.engine.begin() as conn:
        audit.record(conn, tenant, actor.username, "appeal.withdraw",
                     {"appeal": appeal_id, "case": case_id, "by": who(actor), "reason": reason})


def case_appeals(db: Database, tenant: str, case_id: str) -> list[Appeal]:
    """Every appeal of a case, granted and withdrawn, oldest first."""
    t = appeals_table.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(appeals_table).where(and_(t.tenant == tenant, t.case_id == case_id))
                            .order_by(t.at, t.id)).all()
    return [Appeal(r.id, r.case_id, r.kind, tuple(r.add_facts or ()), tuple(r.remove_facts or ()), r.by,
                   as_shanghai(r.at), r.reason, r.status) for r in rows]


def withdrawals(db: Database, tenant: str, case_id: str) -> dict[str, dict[str, Any]]:
    """appeal id → who withdrew it, when and why (from the audit log; the detail is JSON, so the case is
    matched here — withdrawals are rare, a county has few)."""
    t = audit_log.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(t.at, t.detail).where(and_(t.tenant == tenant, t.action == "appeal.withdraw"))).all()
    return {r.detail.get("appeal"): {**r.detail, "at": r.at} for r in rows
            if isinstance(r.detail, dict) and r.detail.get("case") == case_id}
