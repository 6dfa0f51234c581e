"""What the scores page shows to whom: each scheme's subjects within the viewer's scope, with the engine's
explanation lines; rankings only when the pack turns them on; appeals and anti-gaming flags.

Who sees what: admins and leaders / command centres see every subject in their scope; a grid worker sees
only their own unit; everybody else (departments, residents, other roles) has no scores page. Schemes about
departments or people are shown only to county-wide viewers, since those subjects have no place in a unit
scope. The engine computes; nothing here changes a point.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, select
from wangge.core.pack.model import Pack
from wangge.core.pack.sections.scoring import Scheme
from wangge.core.scoring import (
    Appeal,
    Flag,
    Period,
    Score,
    definition,
    find_flags,
    granted_appeals,
    score,
)
from wangge.core.store import Database
from wangge.core.store.tables import cases

from .auth import Actor, in_scope

SCOPE_KINDS = frozenset({"admin", "leader", "command_center"})   # every subject in scope
OWN_KINDS = frozenset({"worker"})                                 # their own unit only
PAGE_SIZE = 30        # subjects per page and scheme: each carries its explanation, so a page stays phone-sized
MAX_CASE_LINKS = 10   # per explanation line; the rest are counted, and `wangge score --json` lists them all
MAX_FLAGS = 50        # flags listed on the page; `wangge score flags` lists them all


FLAG_NAMES = {"self_close": "自报自结", "duplicate": "一事拆报", "bulk_deadline": "踩点集中结案"}
INPUT_NAMES = {"indicator": "指标", "numerator": "分子", "denominator": "分母", "ratio": "比率", "definition": "口径",
               "fact": "事实", "count": "计数", "points_each": "每件分值", "where": "过滤", "input": "输入",
               "values": "数据", "mean": "平均", "scale": "满分", "raters": "评分方", "max": "上限",
               "before": "调整前", "full": "基本分上限", "bonus_cap": "加分上限", "cap": "封顶"}


def describe_inputs(inputs: Mapping[str, Any]) -> str:
    """An explanation line's inputs as one line of text (the engine's own keys, named in Chinese)."""
    parts = []
    for key, value in inputs.items():
        if key in ("definition", "indicator"):
            continue   # the line names its indicator; definitions are listed once per scheme
        if value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, Mapping):
            value = "、".join(f"{k}: {v:g}" if isinstance(v, float) else f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, float):
            value = f"{value:g}"
        parts.append(f"{INPUT_NAMES.get(key, key)}: {value}")
    return ";".join(parts)


def access(actor: Actor) -> str | None:
    """``"scope"``, ``"own"`` or None (no scores page)."""
    if actor.role.kind in SCOPE_KINDS:
        return "scope"
    if actor.role.kind in OWN_KINDS and actor.unit is not None:
        return "own"
    return None


def below(pack: Pack, code: str) -> list[str]:
    """``code`` and every unit under it, top-down."""
    out, stack = [], [code]
    while stack:
        c = stack.pop()
        out.append(c)
        stack.extend(reversed(pack.grid.children.get(c, ())))
    return out


def county_wide(pack: Pack, actor: Actor) -> bool:
    return actor.unit is None or (len(pack.grid.roots) == 1 and actor.unit == pack.grid.roots[0])


@dataclass(frozen=True)
class SchemeView:
    scheme: Scheme
    scores: list[Score]
    ranked: bool
    note: str = ""                  # why some or all subjects are not shown
    first: int = 0                  # index of the first subject shown (pages of PAGE_SIZE)
    count: int = 0                  # subjects in the viewer's scope, on every page
    definitions: tuple[str, ...] = ()   # the definitions (口径) of the indicators the scheme uses


@dataclass(frozen=True)
class ScoresPage:
    schemes: list[SchemeView]
    appeals: list[Appeal]           # the granted appeals the scores were recomputed with (visible ones)
    hidden_appeals: int             # granted appeals on cases outside the viewer's scope
    flags: list[Flag] | None        # None: not shown to this viewer
    ranking: bool
    unit: str | None                # the unit the subjects are narrowed to


def _subjects(pack: Pack, sch: Scheme, actor: Actor, how: str, unit: str | None) -> tuple[list[str] | None, str]:
    """Subject codes to show (None: all of the scheme), and a note when that is fewer than the scheme has."""
    if sch.subject in ("department", "reporter", "actor"):
        if how == "scope" and county_wide(pack, actor):
            return None, ""
        return [], "部门和个人的考核只对全县范围的账号显示。"
    if how == "own":
        own = actor.unit if actor.unit and pack.grid.units[actor.unit].level == sch.subject else None
        return ([own] if own else []), ("网格员只看本网格的得分。" if own else "本方案不考核您所在的单元。")
    root = unit or actor.unit
    codes = below(pack, root) if root else [c for r in pack.grid.roots for c in below(pack, r)]
    return [c for c in codes if pack.grid.units[c].level == sch.subject], ""


def _definitions(pack: Pack, sch: Scheme) -> tuple[str, ...]:
    used = dict.fromkeys(r.indicator for r in sch.rules() if r.indicator in pack.indicators)
    return tuple(definition(pack.indicators[i]) for i in used)   # type: ignore[index]


def scheme_view(db: Database, tenant: str, pack: Pack, sch: Scheme, actor: Actor, how: str, unit: str | None,
                period: Period, page: int = 1) -> SchemeView:
    ranked = bool(pack.scoring and pack.scoring.ranking)
    wanted, note = _subjects(pack, sch, actor, how, unit)
    defs = _definitions(pack, sch)
    if wanted == []:
        return SchemeView(sch, [], ranked, note, definitions=defs)
    # Ranks are county-wide whoever looks, so score every subject and show the viewer's; without ranking only
    # the viewer's subjects are computed.
    got = score(db, tenant, pack, period, scheme=sch.id, explain=True,
                subjects=None if ranked or wanted is None else wanted)
    if wanted is not None:
        keep = set(wanted)
        got = [s for s in got if s.subject in keep]
    if ranked:
        got.sort(key=lambda s: (s.rank or 0, s.subject))
    first = min(max(page - 1, 0) * PAGE_SIZE, max(len(got) - 1, 0) // PAGE_SIZE * PAGE_SIZE)
    return SchemeView(sch, got[first:first + PAGE_SIZE], ranked, note, first, len(got), defs)


def visible_case_ids(db: Database, tenant: str, pack: Pack, actor: Actor, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` of cases the viewer's scope covers (where they happened or are handled)."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    if county_wide(pack, actor):
        return set(wanted)
    with db.engine.connect() as conn:
        rows = conn.execute(select(cases.c.id, cases.c.unit_code, cases.c.handler_unit, cases.c.reported_by).where(
            and_(cases.c.tenant == tenant, cases.c.id.in_(wanted)))).all()
    return {r.id for r in rows if r.reported_by == actor.username or in_scope(pack, actor, r.unit_code)
            or in_scope(pack, actor, r.handler_unit)}


def scores_page(db: Database, tenant: str, pack: Pack, actor: Actor, period: Period, unit: str | None,
                page: int = 1) -> ScoresPage:
    how = access(actor)
    assert how is not None
    schemes = list(pack.scoring.schemes.values()) if pack.scoring is not None else []
    views = [scheme_view(db, tenant, pack, sch, actor, how, unit, period, page) for sch in schemes]
    with db.engine.connect() as conn:
        granted = list(granted_appeals(conn, tenant))
    seen = visible_case_ids(db, tenant, pack, actor, [a.case_id for a in granted])
    appeals = [a for a in granted if a.case_id in seen]
    flags = None
    if actor.is_admin:
        found = find_flags(db, tenant, pack, period)
        ok = visible_case_ids(db, tenant, pack, actor, [c for f in found for c in f.case_ids])
        # a scoped admin sees a flag only with the cases in their scope
        flags = [replace(f, case_ids=tuple(c for c in f.case_ids if c in ok))
                 for f in found if any(c in ok for c in f.case_ids)]
    return ScoresPage(views, appeals, len(granted) - len(appeals), flags,
                      bool(pack.scoring and pack.scoring.ranking), unit)
