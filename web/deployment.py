"""A deployment: the counties served by one portal, each isolated under its own path and tenant id.

``open_deployment`` is what ``wangge serve`` and the tests use: it loads the packs, opens (and migrates) the
database, records each folder pack as a version, and finds the session secret. A county's *current* pack is
the newest published version (``deployment.pack(slug)``), which may be newer than the folder it started from.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.model import Pack
from wangge.core.routing import Router
from wangge.core.store import Database, open_database

from .packs import PackRegistry

SECRET_ENV = "WANGGE_SECRET"
SECRET_FILE = "session-secret"


@dataclass(frozen=True)
class County:
    """One county served by the portal: its URL slug (also its tenant id) and the pack it was started with."""

    slug: str
    pack: Pack
    source: Path


@dataclass(frozen=True)
class Deployment:
    counties: Mapping[str, County]
    database: Database
    secret: bytes
    data_dir: Path = field(default_factory=lambda: Path("wangge-data"))
    registry: PackRegistry | None = None

    def __post_init__(self) -> None:
        if self.registry is None:
            # Frozen, so the registry (which owns a per-deployment pack cache) is attached once, here.
            object.__setattr__(self, "registry", PackRegistry(
                self.database, {s: c.source for s, c in self.counties.items()},
                {s: c.pack for s, c in self.counties.items()}, self.data_dir))

    def county(self, slug: str) -> County | None:
        return self.counties.get(slug)

    def router(self, slug: str) -> Router:
        """The compiled router of the county's pack in force."""
        assert self.registry is not None
        return self.registry.router(slug)

    def pack(self, slug: str) -> Pack:
        """The county's pack in force now (the newest published version)."""
        assert self.registry is not None
        return self.registry.current(slug)


def county_slug(path: Path) -> str:
    """The URL path segment and tenant id of a county pack: its folder name (e.g. binzhou-pengli)."""
    return path.name if path.is_dir() else path.stem


def load_counties(paths: list[Path]) -> dict[str, County]:
    loader = PackLoader()
    counties: dict[str, County] = {}
    for p in paths:
        slug = county_slug(p)
        if slug in counties:
            raise ValueError(f"两个规则包使用同一路径名 {slug} (two packs share the URL name {slug})")
        counties[slug] = County(slug, loader.load(p), p)
    return counties


def example_paths() -> list[Path]:
    """Every example county folder (``wangge.examples.COUNTIES``), in name order."""
    from wangge.examples import COUNTIES  # noqa: PLC0415  (data package, only needed here)

    return sorted(p for p in COUNTIES.iterdir() if p.is_dir() and (p / "pack.yaml").exists())


def resolve_secret(explicit: str | None, data_dir: Path) -> bytes:
    """``--secret``, else ``$WANGGE_SECRET``, else a random secret kept in ``<data dir>/session-secret``
    (created on first start, readable only by its owner) — never a constant in the code."""
    value = explicit or os.environ.get(SECRET_ENV)
    if value:
        return value.encode()
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def open_deployment(paths: list[Path] | None = None, db_url: str = "sqlite:///wangge.sqlite",
                    secret: str | None = None, data_dir: Path | None = None,
                    database: Database | None = None) -> Deployment:
    """Load the packs (every example county when ``paths`` is empty), open and migrate the database."""
    data_dir = Path(data_dir or "wangge-data")
    counties = load_counties(list(paths or example_paths()))
    db = database or open_database(db_url)
    deployment = Deployment(counties, db, resolve_secret(secret, data_dir), data_dir)
    assert deployment.registry is not None
    for slug in counties:
        deployment.registry.record_initial(slug)
    return deployment
