"""申诉 (appeals): a case excluded from indicators and scores, or re-judged (facts added or removed), recorded
with who, when and why. Scores are always recomputed from the facts and the granted appeals, so granting or
withdrawing an appeal changes the next report and the report lists the appeals it applied."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, insert, select, update

from ..pack.sections.indicators import FACTS
from ..store import Database
from ..store.tables import appeals, cases
from ..workcal import as_shanghai

KINDS = ("exclude", "rejudge")


class AppealError(ValueError):
    pass


@dataclass(frozen=True)
class Appeal:
    id: str
    case_id: str
    kind: str                     # exclude | rejudge
    add: tuple[str, ...]
    remove: tuple[str, ...]
    by: str
    at: datetime
    reason: str
    status: str = "granted"

    def describe(self) -> str:
        what = "不计入考核" if self.kind == "exclude" else "改判:" + "、".join(
            [f"+{f}" for f in self.add] + [f"−{f}" for f in self.remove])
        return f"申诉 {self.id[:8]} 案件 {self.case_id}: {what}({self.by} 于 {self.at:%Y-%m-%d %H:%M},理由: {self.reason})"

    def to_json(self) -> dict:
        return {"id": self.id, "case_id": self.case_id, "kind": self.kind, "add": list(self.add),
                "remove": list(self.remove), "by": self.by, "at": self.at.isoformat(), "reason": self.reason,
                "status": self.status}


def file_appeal(db: Database, tenant: str, case_id: str, kind: str, by: str, reason: str,
                add: Iterable[str] = (), remove: Iterable[str] = (), *, now: datetime | None = None) -> Appeal:
    """Record a granted appeal on a case (the 政法委 decision); raises AppealError for a bad request."""
    add, remove = tuple(add), tuple(remove)
    if kind not in KINDS:
        raise AppealError(f"申诉类型须是 {'/'.join(KINDS)}")
    if not reason.strip() or not by.strip():
        raise AppealError("申诉须写明处理人 (--by) 和理由 (--reason)")
    if kind == "rejudge" and not (add or remove):
        raise AppealError("改判须给出要增加 (--add) 或去掉 (--remove) 的事实")
    unknown = [f for f in (*add, *remove) if f not in FACTS]
    if unknown:
        raise AppealError(f"未知的事实: {', '.join(unknown)}(可用: {', '.join(FACTS)})")
    now = as_shanghai(now or datetime.now().astimezone())
    appeal = Appeal(str(uuid.uuid4()), case_id, kind, add, remove, by, now, reason)
    with db.engine.begin() as conn:
        if conn.execute(select(cases.c.id).where(and_(cases.c.tenant == tenant, cases.c.id == case_id))).first() is None:
            raise AppealError(f"没有案件 {case_id}(租户 {tenant})")
        conn.execute(insert(appeals).values(tenant=tenant, id=appeal.id, case_id=case_id, kind=kind,
                                            add_facts=list(add), remove_facts=list(remove), status="granted",
                                            by=by, at=now, reason=reason))
    return appeal


def withdraw_appeal(db: Database, tenant: str, appeal_id: str) -> None:
    with db.engine.begin() as conn:
        done = conn.execute(update(appeals).where(and_(appeals.c.tenant == tenant, appeals.c.id == appeal_id))
                            .values(status="withdrawn")).rowcount
    if not done:
        raise AppealError(f"没有申诉 {appeal_id}")


def granted_appeals(conn: Connection, tenant: str) -> tuple[Appeal, ...]:
    """Granted appeals of a county in filing order (few: they are decided one by one by people)."""
    rows = conn.execute(select(appeals).where(and_(appeals.c.tenant == tenant, appeals.c.status == "granted"))
                        .order_by(appeals.c.at, appeals.c.id)).all()
    return tuple(Appeal(r.id, r.case_id, r.kind, tuple(r.add_facts or ()), tuple(r.remove_facts or ()), r.by,
                        as_shanghai(r.at), r.reason, r.status) for r in rows)
