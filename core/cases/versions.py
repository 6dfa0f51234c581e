"""Published pack versions: cases stay pinned to the version they were routed under.

Publishing stores the pack's merged content and its digest in ``pack_versions``. Acting on a case loads
the version the case names, never the newest one, so publishing v2 cannot change how an open v1 case
continues. Compiling a stored version is a pure function of its digest and content, so it is memoised
(an LRU cache keyed by digest — the same digest always compiles to the same objects).
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from ..pack.context import Context
from ..pack.model import Duties, Pack, Reference, frozen_map
from ..pack.problems import PackError, Position, Problem
from ..pack.sections.duties import compile_departments, compile_duties
from ..pack.sections.events import compile_channels, compile_classification
from ..pack.sections.grid import compile_grid
from ..pack.sections.manifest import compile_manifest
from ..pack.sections.workflow import compile_escalation, compile_workflow
from ..store.tables import pack_versions
from ..workcal import WorkCalendar


class VersionConflict(Exception):
    """The same pack id and version was published before with different content."""


def plain(value: Any) -> Any:
    """The merged tree as plain JSON (dates as ISO text, keys as text)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def content_of(pack: Pack) -> dict[str, Any]:
    m = pack.manifest
    manifest = {"id": m.id, "name": m.name, "region": m.region, "version": m.version, "name_en": m.name_en,
                "description": m.description, "reference": m.reference,
                "effective": m.effective.isoformat() if m.effective else None}
    return {"manifest": manifest, "lineage": list(pack.lineage), "merged": plain(pack.merged)}


def digest_of(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def publish(conn: Connection, tenant: str, pack: Pack, now: datetime, by: str = "") -> str:
    """Store ``pack`` as a published version (idempotent); VersionConflict if the version was already
    published with other content — a changed pack needs a new version number."""
    content = content_of(pack)
    digest = digest_of(content)
    row = conn.execute(select(pack_versions.c.digest).where(and_(
        pack_versions.c.tenant == tenant, pack_versions.c.pack_id == pack.id,
        pack_versions.c.version == pack.version))).first()
    if row is not None:
        if row.digest != digest:
            raise VersionConflict(f"规则包 {pack.id} 版本 {pack.version} 已发布过不同的内容;修改后请提升版本号")
        return digest
    conn.execute(insert(pack_versions).values(tenant=tenant, pack_id=pack.id, version=pack.version, digest=digest,
                                              published_at=now, published_by=by, content=content))
    return digest


def pinned(conn: Connection, tenant: str, pack_id: str, version: str) -> Pack:
    """The compiled pack of a published version (cached by digest)."""
    row = conn.execute(select(pack_versions.c.digest, pack_versions.c.content).where(and_(
        pack_versions.c.tenant == tenant, pack_versions.c.pack_id == pack_id,
        pack_versions.c.version == version))).first()
    if row is None:
        raise LookupError(f"规则包 {pack_id} 版本 {version} 未在 {tenant} 发布")
    return compile_snapshot(row.digest, json.dumps(row.content, ensure_ascii=False, sort_keys=True))


@lru_cache(maxsize=64)
def compile_snapshot(digest: str, content_json: str) -> Pack:
    """Compile a stored version. Pure in (digest, content): safe to memoise and share between threads."""
    content = json.loads(content_json)
    merged = content["merged"]
    problems: list[Problem] = []
    ctx = Context(merged, Position(f"pack_versions:{digest[:12]}"), problems)
    calendar = WorkCalendar.from_spec(merged.get("calendar"))
    grid = compile_grid(merged.get("grid"), ctx)
    levels = [lv.id for lv in grid.levels]
    departments = compile_departments(merged.get("departments"), levels, ctx)
    events = compile_classification(merged.get("events"), ctx, None)
    channels = compile_channels(merged.get("channels"), ctx, None)
    workflow = compile_workflow(merged.get("workflow"), ctx, grid, departments, merged.get("forms"))
    escalation = compile_escalation(merged.get("escalation"), ctx, grid, departments, workflow)
    duties = compile_duties(merged.get("duties"), levels, departments, ctx) if merged.get("duties") else Duties()
    if problems:
        raise PackError(problems)
    manifest = compile_manifest(content["manifest"])
    return Pack(manifest=manifest, lineage=tuple(content.get("lineage", ())), root=Path(f"pack_versions/{digest}"),
                calendar=calendar, grid=grid, departments=frozen_map(departments), duties=duties, events=events,
                channels=frozen_map(channels), indicators=frozen_map(), reference=Reference(manifest.id, events, frozen_map(channels)),
                merged=merged, workflow=workflow, escalation=escalation)
