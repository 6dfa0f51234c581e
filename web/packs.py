"""Pack versions of each county: the one in force, drafts, the dry run and atomic, audited publishing.

A version's content is the pack's own files (``{"files": {name: text}}``) stored in ``pack_versions``;
the version in force is the newest one published. The folder a county was started from is recorded as a
version the first time it is seen, so cases always pin a version that can be read back.

Files are materialised into ``<data dir>/packs/<county>/<digest>/`` (content-addressed, written once) for the
loader; a *draft* is such a folder that is not (yet) a published version. Loaded packs are cached by digest
per registry — one registry per deployment, never a module global.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from wangge.core.cases import versions as stored
from wangge.core.events import EventError, parse_event
from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.core.pack.problems import PackError, Problem
from wangge.core.pack.source import pack_files
from wangge.core.routing import Router, RoutingError
from wangge.core.store import Database
from wangge.core.store.tables import pack_versions

from . import audit, engine

MAX_FILE = 2_000_000  # bytes per pack file accepted from the browser


@dataclass(frozen=True)
class Version:
    pack_id: str
    version: str
    digest: str
    published_at: datetime
    published_by: str


@dataclass(frozen=True)
class Draft:
    digest: str                   # of the files: names the draft folder (not the version digest)
    files: Mapping[str, str]
    pack: Pack | None
    problems: tuple[Problem, ...] = ()


class PublishError(ValueError):
    pass


def folder_files(path: Path) -> dict[str, str]:
    """A pack folder (or single file) as ``{relative name: text}``."""
    if path.is_file():
        return {path.name: path.read_text(encoding="utf-8")}
    return {p.relative_to(path).as_posix(): p.read_text(encoding="utf-8") for p in pack_files(path)}


def digest_of(files: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name].encode() + b"\0")
    return h.hexdigest()


def safe_name(name: str) -> str | None:
    """A file name a draft may hold: relative, no '..', a YAML suffix."""
    p = PurePosixPath(name.replace("\\", "/").strip())
    if not p.parts or p.is_absolute() or ".." in p.parts or any(part.startswith(".") for part in p.parts):
        return None
    return p.as_posix() if p.suffix in (".yaml", ".yml") else None


CURRENT_TTL = 2.0  # seconds a process trusts its answer to "which version is in force?"


class PackRegistry:
    """The packs of one deployment's counties, read from ``pack_versions`` and cached by digest."""

    def __init__(self, database: Database, sources: Mapping[str, Path], initial: Mapping[str, Pack],
                 data_dir: Path):
        self._db = database
        self._sources = dict(sources)
        self._initial = dict(initial)
        self._dir = data_dir / "packs"
        self._lock = threading.Lock()
        self._packs: dict[tuple[str, str], Pack] = {}
        self._current: dict[str, tuple[str, Pack]] = {}
        self._checked: dict[str, tuple[float, Pack]] = {}
        self._renewing: set[str] = set()
        self._routers: dict[str, tuple[Pack, Router]] = {}

    # -- reading
    def record_initial(self, slug: str) -> str | None:
        """Record the folder's pack as a version unless that pack id + version is stored already.

        Returns a warning when the stored version has other content (the folder changed without a new
        version number): the stored one stays in force, as published versions never change."""
        pack = self._initial[slug]
        files = folder_files(self._sources[slug])
        with self._db.engine.begin() as conn:
            row = conn.execute(select(pack_versions.c.digest).where(
                pack_versions.c.tenant == slug, pack_versions.c.pack_id == pack.id,
                pack_versions.c.version == pack.version)).first()
            if row is not None:
                if row.digest != pack.digest:
                    return (f"{slug}: 规则包 {pack.id} {pack.version} 的文件与已发布的内容不同,仍使用已发布的版本;"
                            f"修改后请提高版本号 (folder differs from the published version; bump the version)")
                return None
            try:
                with conn.begin_nested():
                    digest = self._insert(conn, slug, pack, files, "system", "")
                    audit.record(conn, slug, "system", "pack.record",
                                 {"pack_id": pack.id, "version": pack.version, "digest": digest})
            except IntegrityError:
                pass  # another process recorded it first
        return None

    @staticmethod
    def _insert(conn: Any, slug: str, pack: Pack, files: Mapping[str, str], actor: str, note: str) -> str:
        """One pack_versions row in the cases service's format (core/cases/versions.py: manifest, lineage,
        merged, digest over those) plus the pack's own files, so a new draft can start from it."""
        content = stored.content_of(pack)
        digest = stored.digest_of(content)
        conn.execute(pack_versions.insert().values(
            tenant=slug, pack_id=pack.id, version=pack.version, digest=digest,
            published_at=datetime.now(timezone.utc), published_by=actor,
            content={**content, "files": dict(files), "note": note}))
        return digest

    def versions(self, slug: str) -> list[Version]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(pack_versions.c.pack_id, pack_versions.c.version, pack_versions.c.digest,
                                       pack_versions.c.published_at, pack_versions.c.published_by)
                                .where(pack_versions.c.tenant == slug)
                                .order_by(pack_versions.c.published_at.desc())).all()
        return [Version(*r) for r in rows]

    def current(self, slug: str) -> Pack:
        """The pack in force: the newest published version this portal can read (else the folder's).

        Asked on every request, so the answer is reused. Once it is ``CURRENT_TTL`` seconds old a thread of
        its own asks the database again while requests go on with it: no request waits for that query (on
        PostgreSQL, a pool checkout, its ping and the query held the event loop long enough to put a slow
        batch into every other second of the intake bench). A version published by this process is in
        force at once, one published by another process within about ``CURRENT_TTL``."""
        checked = self._checked.get(slug)
        if checked is None:
            return self._renew(slug)
        if time.monotonic() - checked[0] >= CURRENT_TTL:
            self._renew_soon(slug, checked)
        return checked[1]

    def _renew(self, slug: str) -> Pack:
        pack = self._newest(slug)
        self._checked[slug] = (time.monotonic(), pack)
        return pack

    def _renew_soon(self, slug: str, seen: tuple[float, Pack]) -> None:
        with self._lock:
            if slug in self._renewing:
                return
            self._renewing.add(slug)
        threading.Thread(target=self._renew_in_background, args=(slug, seen), daemon=True,
                         name=f"wangge-pack-{slug}").start()

    def _renew_in_background(self, slug: str, seen: tuple[float, Pack]) -> None:
        try:
            pack = self._newest(slug)
        except Exception:  # noqa: BLE001 — the database is away: keep the answer, ask again after the TTL
            pack = seen[1]
        with self._lock:
            self._renewing.discard(slug)
            if self._checked.get(slug) is seen:   # not replaced meanwhile (e.g. by this process publishing)
                self._checked[slug] = (time.monotonic(), pack)

    def router(self, slug: str) -> Router:
        """The compiled router of the county's pack in force, built once per pack version (compiling a
        routing section indexes every rule: far too much work to repeat for each report)."""
        pack = self.current(slug)
        cached = self._routers.get(slug)
        if cached is None or cached[0] is not pack:
            cached = self._routers[slug] = (pack, Router.from_pack(pack))
        return cached[1]

    def _newest(self, slug: str) -> Pack:
        with self._db.engine.connect() as conn:
            row = conn.execute(select(pack_versions.c.pack_id, pack_versions.c.version, pack_versions.c.digest)
                               .where(pack_versions.c.tenant == slug)
                               .order_by(pack_versions.c.published_at.desc()).limit(1)).first()
        if row is None:
            return self._initial[slug]
        initial = self._initial[slug]
        if (row.pack_id, row.version) == (initial.id, initial.version):
            return initial
        cached = self._current.get(slug)
        if cached is not None and cached[0] == row.digest:
            return cached[1]
        with self._db.engine.connect() as conn:
            content = conn.execute(select(pack_versions.c.content).where(
                pack_versions.c.tenant == slug, pack_versions.c.pack_id == row.pack_id,
                pack_versions.c.version == row.version)).scalar_one()
        try:
            files = content.get("files") if isinstance(content, dict) else None
            if files:
                pack = self._load(slug, digest_of(files), files)
            else:  # written by another component without files: compile the stored merged tree
                pack = stored.compile_snapshot(row.digest, json.dumps(content, ensure_ascii=False, sort_keys=True))
        except (PackError, KeyError):
            return initial
        with self._lock:
            self._current[slug] = (row.digest, pack)
        return pack

    def current_files(self, slug: str) -> dict[str, str]:
        pack = self.current(slug)
        with self._db.engine.connect() as conn:
            row = conn.execute(select(pack_versions.c.content).where(
                pack_versions.c.tenant == slug, pack_versions.c.pack_id == pack.id,
                pack_versions.c.version == pack.version)).first()
        if row and isinstance(row[0], dict) and row[0].get("files"):
            return dict(row[0]["files"])
        return folder_files(self._sources[slug])

    # -- drafts
    def draft(self, slug: str, replace: Mapping[str, str], remove: tuple[str, ...] = ()) -> Draft:
        """The current files with ``replace`` written over them (and ``remove`` dropped), loaded."""
        files = self.current_files(slug)
        for name in remove:
            files.pop(name, None)
        files.update(replace)
        digest = digest_of(files)
        try:
            return Draft(digest, files, self._load(slug, digest, files))
        except PackError as exc:
            return Draft(digest, files, None, exc.problems)

    def load_draft(self, slug: str, digest: str) -> Draft:
        folder = self._dir / slug / digest
        if len(digest) != 64 or not all(c in "0123456789abcdef" for c in digest) or not folder.is_dir():
            raise PublishError("草稿不存在,请重新试运行 (draft not found; run the dry run again)")
        files = folder_files(folder)
        try:
            return Draft(digest, files, self._load(slug, digest, files))
        except PackError as exc:
            return Draft(digest, files, None, exc.problems)

    def publish(self, slug: str, draft_id: str, actor: str, note: str = "") -> Version:
        """Store the draft as a new version and its audit row in one transaction: all or nothing."""
        draft = self.load_draft(slug, draft_id)
        if draft.pack is None:
            raise PublishError(f"规则包有 {len(draft.problems)} 个错误,不能发布 (the pack has errors)")
        pack = draft.pack
        if pack.id != self._initial[slug].id:
            raise PublishError(f"规则包 id {pack.id} 与本县 {self._initial[slug].id} 不一致 (pack id changed)")
        try:
            with self._db.engine.begin() as conn:
                digest = self._insert(conn, slug, pack, draft.files, actor, note)
                audit.record(conn, slug, actor, "pack.publish",
                             {"pack_id": pack.id, "version": pack.version, "digest": digest, "note": note,
                              "files": sorted(draft.files)})
        except IntegrityError as exc:
            raise PublishError(f"版本 {pack.version} 已发布过,请在 pack.yaml 中提高版本号 "
                               f"(version already published; bump it)") from exc
        with self._lock:
            self._checked.pop(slug, None)
        return self.versions(slug)[0]

    def _load(self, slug: str, digest: str, files: Mapping[str, str]) -> Pack:
        key = (slug, digest)
        with self._lock:
            if key in self._packs:
                return self._packs[key]
        folder = self._dir / slug / digest
        if not folder.is_dir():
            tmp = folder.with_name(digest + ".tmp")
            for name, text in files.items():
                target = tmp / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            try:
                tmp.rename(folder)  # atomic: a half-written folder is never loaded
            except OSError:
                pass  # another thread or process wrote the same content first
        source = self._sources[slug]
        pack = PackLoader((source.parent,)).load(folder)
        with self._lock:
            self._packs[key] = pack
        return pack


# ---------------------------------------------------------------- dry run

@dataclass(frozen=True)
class DryRunRow:
    line: int
    raw: str
    event: Any = None
    errors: Mapping[str, str] | None = None
    decision: Any = None          # the routing Decision
    decision_view: Mapping[str, Any] | None = None


def dry_run(pack: Pack, text: str, limit: int = 500) -> list[DryRunRow]:
    """Parse JSONL events and route each through ``pack`` (a draft) without storing anything."""
    router = Router.from_pack(pack)
    rows: list[DryRunRow] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(rows) >= limit:
            rows.append(DryRunRow(n, "", errors={"$": f"最多试运行 {limit} 条 (at most {limit} events)"}))
            break
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(DryRunRow(n, line, errors={"$": f"不是有效的 JSON: {exc.msg} (第 {exc.colno} 列)"}))
            continue
        try:
            event = parse_event(raw, pack)
        except EventError as exc:
            rows.append(DryRunRow(n, line, errors=exc.errors))
            continue
        try:
            decision = router.decide(event)
        except RoutingError as exc:  # a UNIQUE/ANY table the draft breaks: show it, as wangge route does
            rows.append(DryRunRow(n, line, event, errors={"$": exc.message}))
            continue
        rows.append(DryRunRow(n, line, event, None, decision, engine.decision_view(decision)))
    return rows
