"""The serving processes: readied before the first request (routers compiled, startup objects frozen),
and several worker processes sharing one database (``wangge serve --workers``)."""
from __future__ import annotations

import gc
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from wangge.core.store import open_database
from wangge.core.store.tables import cases
from wangge.web.api.auth import create_token
from wangge.web.deployment import open_deployment
from wangge.web.server import PortalSpec, calendar_warnings, portal_app, ready


def test_ready_compiles_every_router_and_freezes_what_is_alive(module_deployment):  # type: ignore[no-untyped-def]
    registry = module_deployment.registry
    try:
        ready(module_deployment)
        frozen = gc.get_freeze_count()
        routers = {slug: module_deployment.router(slug) for slug in module_deployment.counties}
    finally:
        gc.unfreeze()   # the test process goes on collecting as usual
    assert frozen > 10_000   # the packs, compiled routers and modules
    for slug, router in routers.items():
        assert router is registry.router(slug)          # compiled once, before any request
        assert router.pack is module_deployment.pack(slug)


def test_ready_without_a_deployment_still_freezes():  # type: ignore[no-untyped-def]
    try:
        ready()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_serve_warns_when_the_calendar_does_not_know_next_year(module_deployment):  # type: ignore[no-untyped-def]
    assert calendar_warnings(module_deployment, date(2098, 6, 1)) == []    # the year's end is not near
    warnings = calendar_warnings(module_deployment, date(2098, 11, 22))     # 2099 begins within 60 days
    assert len(warnings) == len(module_deployment.counties)
    assert all("2099" in w and "calendar.years.2099" in w for w in warnings)
    assert calendar_warnings(module_deployment, date(2025, 12, 1)) == []    # 2026 is known


ALPHA = Path(__file__).parents[1] / "api" / "fixtures" / "alpha"
EVENT = {"class": "srhj_baolu", "channel": "grid_patrol", "unit": "14010100101",
         "reported_at": "2026-03-02T09:30:00+08:00", "title": "楼道堆放杂物"}


def test_a_worker_builds_the_portal_its_parent_describes(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    open_deployment([ALPHA], url, "w" * 32, tmp_path / "data").database.dispose()   # what the parent does
    spec = PortalSpec((str(ALPHA),), url, str(tmp_path / "data"), https_only=True)
    assert PortalSpec.from_environ(spec.environ()) == spec
    for key, value in spec.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("WANGGE_SECRET", "w" * 32)
    try:
        app = portal_app()
    finally:
        gc.unfreeze()
    with TestClient(app) as client:
        assert client.get("/alpha/").status_code == 200
        assert client.get("/healthz").text == "ok"
    app.state.deployment.database.dispose()


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
def test_serve_with_two_workers_takes_reports_in_both_into_one_sqlite_file(tmp_path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    wangge = [sys.executable, "-c", "from wangge.core.cli import main; main()"]
    proc = subprocess.Popen([*wangge, "serve", str(ALPHA), "--workers", "2", "--db", url, "--port", str(port),
                             "--data-dir", str(tmp_path / "data")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.2)
        assert len(_children(proc.pid)) >= 2
        db = open_database(url, upgrade=False)
        token = create_token(db, "alpha", "workers", ["events:write"])[1]
        answers = [httpx.post(f"{base}/alpha/api/v1/events", json={**EVENT, "id": f"w-{i}", "external_id": f"W-{i}"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=10) for i in range(24)]
        assert [a.status_code for a in answers] == [201] * 24
        with db.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 24
        db.dispose()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
