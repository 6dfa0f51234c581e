"""Score inputs from outside the case history: 第三方满意度 surveys and 条块双向考核 ratings, imported from
CSV (columns ``subject,value[,rater][,note]``) or JSON (a list of such objects) for one period."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import and_, delete, insert

from ..pack.model import Pack
from ..store import Database
from ..store.tables import score_inputs
from ..workcal import as_shanghai
from .period import Period


class InputError(ValueError):
    pass


@dataclass(frozen=True)
class InputRow:
    subject: str
    rater: str
    value: float
    note: str = ""


def read_inputs(path: Path, default_rater: str) -> list[InputRow]:
    text = Path(path).read_text(encoding="utf-8-sig")
    if Path(path).suffix.lower() == ".json":
        raw = json.loads(text)
        if not isinstance(raw, list):
            raise InputError("JSON 须是对象列表 [{subject, value, rater?, note?}]")
    else:
        raw = list(csv.DictReader(io.StringIO(text)))
    rows = []
    for i, r in enumerate(raw, start=1):
        try:
            rows.append(InputRow(str(r["subject"]).strip(), str(r.get("rater") or default_rater).strip(),
                                 float(r["value"]), str(r.get("note") or "")))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"第 {i} 行: 须有 subject 和数值 value ({exc})") from None
    return rows


def import_inputs(db: Database, tenant: str, pack: Pack, period: Period, kind: str, rows: list[InputRow],
                  by: str, *, now: datetime | None = None) -> int:
    """Replace the period's inputs of this kind from these raters (idempotent re-import); returns the count."""
    unknown = [r.subject for r in rows if r.subject not in pack.grid.units and r.subject not in pack.departments]
    if unknown:
        raise InputError(f"未知的被评对象(须是单元编码或部门 id): {', '.join(sorted(set(unknown))[:10])}")
    now = as_shanghai(now or datetime.now().astimezone())
    with db.engine.begin() as conn:
        for rater in sorted({r.rater for r in rows}):
            conn.execute(delete(score_inputs).where(and_(
                score_inputs.c.tenant == tenant, score_inputs.c.period == period.label, score_inputs.c.kind == kind,
                score_inputs.c.rater == rater)))
        if rows:
            conn.execute(insert(score_inputs), [dict(tenant=tenant, period=period.label, kind=kind, subject=r.subject,
                                                     rater=r.rater, value=r.value, imported_at=now, imported_by=by,
                                                     note=r.note) for r in rows])
    return len(rows)
