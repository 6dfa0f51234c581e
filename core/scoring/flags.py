"""Anti-gaming flags, found in SQL: self-report-and-self-close loops, one event split into duplicates, and
closing in bulk just before the deadline. A flag is a prompt for a person to look, never a deduction."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, extract, func, select

from ..pack.model import Pack
from ..pack.sections.scoring import Flags
from ..store import Database
from ..store.tables import case_facts
from ..workcal import as_shanghai
from .period import Period


@dataclass(frozen=True)
class Flag:
    kind: str                    # self_close | duplicate | bulk_deadline
    subject: str                 # the person or unit it is about
    case_ids: tuple[str, ...]
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "case_ids": list(self.case_ids), "detail": self.detail}


def _seconds(conn: Connection, later: Any, earlier: Any) -> Any:
    """Seconds between two timestamp columns, in the database's own arithmetic."""
    if conn.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return extract("epoch", later - earlier)


def find_flags(db: Database, tenant: str, pack: Pack, period: Period) -> list[Flag]:
    settings = pack.scoring.flags if pack.scoring is not None else Flags()
    start, end = as_shanghai(period.start), as_shanghai(period.end)
    cf = case_facts.c
    in_period = [cf.tenant == tenant, cf.at >= start, cf.at < end]
    out: list[Flag] = []
    with db.engine.connect() as conn:
        # 1. The same person reported and closed the case within N minutes.
        rows = conn.execute(select(cf.case_id, cf.actor).where(and_(
            *in_period, cf.fact == "closed", cf.actor == cf.reporter,
            _seconds(conn, cf.at, cf.reported_at) <= settings.self_close_minutes * 60))).all()
        by_actor: dict[str, list[str]] = defaultdict(list)
        for case_id, actor in rows:
            by_actor[actor].append(case_id)
        out += [Flag("self_close", actor, tuple(sorted(ids)),
                     f"{actor} 自己上报、自己结案 {len(ids)} 件(间隔不超过 {settings.self_close_minutes:g} 分钟)")
                for actor, ids in sorted(by_actor.items())]
        # 2. Same class, same unit, reported within T minutes of the previous one: one event split up?
        window = dict(partition_by=(cf.unit_code, cf.event_class), order_by=cf.at)
        inner = select(cf.case_id, cf.unit_code, cf.event_class, cf.at,
                       func.lag(cf.at).over(**window).label("prev_at"),
                       func.lag(cf.case_id).over(**window).label("prev_id")).where(
            and_(*in_period, cf.fact == "reported")).subquery()
        pairs = conn.execute(select(inner.c.unit_code, inner.c.event_class, inner.c.prev_id, inner.c.case_id).where(
            and_(inner.c.prev_at.isnot(None),
                 _seconds(conn, inner.c.at, inner.c.prev_at) <= settings.duplicate_minutes * 60))
            .order_by(inner.c.unit_code, inner.c.event_class, inner.c.at)).all()
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for unit, cls, prev_id, case_id in pairs:
            ids = groups[(unit, cls)]
            ids += [c for c in (prev_id, case_id) if c not in ids]
        out += [Flag("duplicate", unit, tuple(ids),
                     f"{unit} 同类事件({cls}){len(ids)} 件在 {settings.duplicate_minutes:g} 分钟内相继上报,可能一事拆报")
                for (unit, cls), ids in sorted(groups.items())]
        # 3. Closed in the last X% of the time limit, many on one day by one handler: closing to the clock.
        late = conn.execute(select(cf.case_id, cf.lead, cf.handler_unit, cf.closed_at).where(and_(
            cf.tenant == tenant, cf.fact == "due", cf.closed_at >= start, cf.closed_at < end,
            cf.closed_at <= cf.at, cf.reported_at.isnot(None),
            _seconds(conn, cf.at, cf.closed_at) <= settings.last_fraction * _seconds(conn, cf.at, cf.reported_at)))).all()
        bulk: dict[tuple[str, str], list[str]] = defaultdict(list)
        for case_id, lead, handler, closed_at in late:
            bulk[(lead or handler or "?", as_shanghai(closed_at).date().isoformat())].append(case_id)
        out += [Flag("bulk_deadline", who, tuple(sorted(ids)),
                     f"{who} 在 {day} 于时限最后 {settings.last_fraction:.0%} 内集中结案 {len(ids)} 件")
                for (who, day), ids in sorted(bulk.items()) if len(ids) >= settings.bulk_min]
    return out


