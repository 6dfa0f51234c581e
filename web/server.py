"""Running the portal: uvicorn, in one process or several, after readying what every request would
otherwise build first.

Shared by ``wangge serve`` and bench/intake.py, so the benchmark measures the processes users run.
Several worker processes (``--workers``) use several cores; they share nothing but the database, as the
portal is built for (pack versions, API tokens and sessions are read from it or signed, never kept only
in one process's memory).
"""
from __future__ import annotations

import gc
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from wangge.core.workcal import CalendarError

from .deployment import Deployment

SPEC_ENV = "WANGGE_PORTAL_SPEC"


def ready(deployment: Deployment | None = None) -> None:
    """Compile each county's router now, then move every object alive (packs, routers, templates,
    modules) out of the garbage collector's view.

    Why freeze: a loaded pack is some 100,000 objects that live as long as the process. Each full
    collection walked all of them — 68 ms on the 2-core bench machine, paid by whichever request
    triggered it, and the intake p99 (60 ms) was exactly those pauses. Frozen objects are never
    scanned; a pack published later is simply collected as usual."""
    if deployment is not None:
        for slug in deployment.counties:
            deployment.router(slug)
    gc.collect()
    gc.freeze()


def calendar_warnings(deployment: Deployment, today: date, horizon: int = 60) -> list[str]:
    """One warning per county whose pack's calendar does not know the year that begins within
    ``horizon`` days: deadlines reaching into it cannot be computed (see docs/calendar.md)."""
    ahead = today + timedelta(days=horizon)
    if ahead.year == today.year:
        return []
    warnings = []
    for slug in deployment.counties:
        try:
            deployment.pack(slug).calendar.is_workday(date(ahead.year, 1, 1))
        except CalendarError:
            warnings.append(f"{slug}: 工作日历不含 {ahead.year} 年:期限跨入该年时,新案件立案不设期限,"
                            f"设定期限的操作被拒绝。请在规则包中加入 calendar.years.{ahead.year}"
                            f"(全部节假日与调休上班日) (the calendar does not know {ahead.year})")
    return warnings


def run(app: Any, deployment: Deployment | None, *, host: str, port: int, **options: Any) -> None:
    """Serve ``app`` from this process."""
    import uvicorn  # noqa: PLC0415  (keeps `wangge --help` fast)

    ready(deployment)
    uvicorn.run(app, host=host, port=port, **options)


def run_workers(factory: str, environ: Mapping[str, str], workers: int, *, host: str, port: int,
                **options: Any) -> None:
    """Serve from ``workers`` processes sharing one listening socket. Each is started afresh (not forked)
    and builds its app by calling ``factory`` ("module:function"), which finds what it needs in
    ``environ``, added to this process's environment for them."""
    import uvicorn  # noqa: PLC0415

    os.environ.update(environ)
    uvicorn.run(factory, factory=True, workers=workers, host=host, port=port, **options)


@dataclass(frozen=True)
class PortalSpec:
    """What a worker process needs to build the same portal as ``wangge serve`` did."""

    packs: tuple[str, ...]   # pack folders; empty: every example county
    db_url: str
    data_dir: str
    https_only: bool = False

    def environ(self) -> dict[str, str]:
        return {SPEC_ENV: json.dumps(asdict(self), ensure_ascii=False)}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> PortalSpec:
        data = json.loads(environ[SPEC_ENV])
        return cls(tuple(data["packs"]), data["db_url"], data["data_dir"], bool(data["https_only"]))


def portal_app() -> Any:
    """The portal of a worker process (uvicorn factory ``wangge.web.server:portal_app``). The parent has
    migrated the database and recorded the pack versions already; the session secret comes from
    ``$WANGGE_SECRET`` or the data folder, as in the parent."""
    from wangge.core.store import open_database  # noqa: PLC0415

    from .app import create_app  # noqa: PLC0415
    from .deployment import open_deployment  # noqa: PLC0415

    spec = PortalSpec.from_environ(os.environ)
    deployment = open_deployment([Path(p) for p in spec.packs], spec.db_url, None, Path(spec.data_dir),
                                 database=open_database(spec.db_url, upgrade=False))
    app = create_app(deployment, https_only=spec.https_only)
    ready(deployment)
    return app
