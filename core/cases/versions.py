"""Published pack versions: cases stay pinned to the version they were routed under.

Publishing stores the pack's merged content and its digest in ``pack_versions``. Acting on a case loads
the version the case names, never the newest one, so publishing v2 cannot change how an open v1 case
continues. Compiling a stored version is a pure function of its digest and content, so it is memoised
(an LRU cache keyed by digest — the same digest always compiles to the same objects).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from ..pack.loader import compile_pack
from ..pack.model import Pack
from ..pack.problems import PackError, Position, Problem
from ..store.tables import pack_versions


class VersionConflict(Exception):
    """The same pack id and version was published before with different content."""


def content_of(pack: Pack) -> dict[str, Any]:
    """What is stored for a published version: everything the loader compiled the pack from."""
    return pack.content


def digest_of(content: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(content, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def publish(conn: Connection, tenant: str, pack: Pack, now: datetime, by: str = "") -> str:
    """Store ``pack`` as a published version (idempotent); VersionConflict if the version was already
    published with other content — a changed pack needs a new version number."""
    content, digest = pack.content, pack.digest
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
    """Compile a stored version with the loader's own compiler. Pure in (digest, content): safe to memoise
    and share between threads."""
    content = json.loads(content_json)
    problems: list[Problem] = []
    pack = compile_pack(content["manifest"], tuple(content.get("lineage", ())), content["merged"],
                        content.get("reference"), problems, root=Path(f"pack_versions/{digest}"),
                        where=Position(f"pack_versions:{digest[:12]}"))
    if problems:
        raise PackError(problems)
    return pack
