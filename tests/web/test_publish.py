"""The pack browser's dry run (nothing stored) and publishing (atomic, audited, version bump enforced);
the CLI commands that create users. Runs on SQLite and, when configured, PostgreSQL."""
from __future__ import annotations

import json
import re
import time

from click.testing import CliRunner
from sqlalchemy import func, select

from wangge.core.store.tables import audit_log, cases, pack_versions, users
from wangge.examples import COUNTIES
from wangge.web import cli

from .conftest import PENGLI, Browser, app_of, staff


def _events(pack) -> str:  # type: ignore[no-untyped-def]
    grid = next(u for u in pack.grid.units.values() if u.level == "grid")
    cls = pack.events.subclasses()[0].id
    good = {"id": "e1", "class": cls, "channel": "grid_patrol", "unit": grid.code,
            "reported_at": "2026-03-02T09:30:00+08:00", "title": "试运行事件"}
    return json.dumps(good, ensure_ascii=False) + "\nnot json\n" + json.dumps({**good, "id": "e2", "unit": "nope"})


def _count(db, table) -> int:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_dry_run_routes_without_storing_and_publish_is_audited(deployment):  # type: ignore[no-untyped-def]
    staff(deployment)
    app = app_of(deployment)
    b = Browser(app).login("admin")
    pack = deployment.pack(PENGLI)
    before = _count(deployment.database, cases)
    pack_yaml = (COUNTIES / PENGLI / "pack.yaml").read_text(encoding="utf-8")
    bumped = pack_yaml.replace(f"version: {pack.version}", "version: 1.9.0", 1)
    assert bumped != pack_yaml
    r = b.client.post(f"/{PENGLI}/pack/dryrun", data={"csrf": b.token(), "events": _events(pack)},
                      files={"pack_files": ("pack.yaml", bumped.encode(), "application/yaml")})
    assert r.status_code == 200, r.text[:2000]
    assert "试运行事件" in r.text and "不是有效的 JSON" in r.text and "nope" in r.text
    assert _count(deployment.database, cases) == before          # a dry run stores no case
    draft = re.search(r'name="draft" value="([0-9a-f]{64})"', r.text).group(1)
    assert b.post(f"/{PENGLI}/pack/publish", {"draft": draft}).status_code == 400   # not confirmed
    r = b.post(f"/{PENGLI}/pack/publish", {"draft": draft, "confirm": "yes", "note": "调整"})
    assert r.status_code == 303
    assert deployment.pack(PENGLI).version == "1.9.0"
    versions = b.get(f"/{PENGLI}/pack?tab=versions").text
    assert "1.9.0(现行)" in versions and "pack.publish" in versions
    with deployment.database.engine.connect() as conn:
        row = conn.execute(select(audit_log.c.actor, audit_log.c.detail).where(
            audit_log.c.tenant == PENGLI, audit_log.c.action == "pack.publish")).one()
    assert row.actor == "admin" and row.detail["version"] == "1.9.0"
    # The same version again is refused, and nothing is written.
    n = _count(deployment.database, pack_versions)
    assert b.post(f"/{PENGLI}/pack/publish", {"draft": draft, "confirm": "yes"}).status_code == 409
    assert _count(deployment.database, pack_versions) == n
    # New cases are opened under the published version.
    worker = Browser(app).login("worker")
    grid = re.search(r'<option value="(\d+)" selected>', worker.get(f"/{PENGLI}/report").text).group(1)
    r = worker.post(f"/{PENGLI}/report", {"title": "新版本事件", "class": pack.events.subclasses()[0].id, "unit": grid})
    assert "1.9.0" in worker.get(r.headers["location"]).text


def test_a_broken_draft_shows_its_problems_and_cannot_be_published(deployment):  # type: ignore[no-untyped-def]
    staff(deployment)
    b = Browser(app_of(deployment)).login("admin")
    r = b.post(f"/{PENGLI}/pack/dryrun", {"paste_name": "grid.yaml", "paste_text": "grid:\n  levels: 3\n"})
    assert r.status_code == 400 and "不能发布" in r.text and 'name="draft"' not in r.text
    assert b.post(f"/{PENGLI}/pack/publish", {"draft": "0" * 64, "confirm": "yes"}).status_code == 409
    assert b.post(f"/{PENGLI}/pack/dryrun", {"paste_name": "../../etc/x.yaml", "paste_text": "a: 1"}).status_code == 400


def test_only_administrators_see_the_pack_browser(deployment):  # type: ignore[no-untyped-def]
    staff(deployment)
    app = app_of(deployment)
    for name in ("worker", "command", "resident"):
        b = Browser(app).login(name)
        assert b.get(f"/{PENGLI}/pack").status_code == 403
        assert b.post(f"/{PENGLI}/pack/dryrun", {"events": ""}).status_code == 403
        assert b.post(f"/{PENGLI}/pack/publish", {"draft": "0" * 64, "confirm": "yes"}).status_code == 403


def test_cli_creates_the_first_administrator_and_users(deployment, tmp_path):  # type: ignore[no-untyped-def]
    runner = CliRunner()
    args = ["--pack", str(COUNTIES / PENGLI), "--db", deployment.database.url, "--data-dir", str(tmp_path / "d")]
    r = runner.invoke(cli.admin, ["create", PENGLI, "chief", *args, "--password-stdin"], input="long-password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.users, ["add", PENGLI, "w9", "--role", "grid_worker", "--unit", "371602008001", *args,
                                  "--password-stdin"], input="long-password\n")
    assert r.exit_code != 0 and "层级" in r.output    # a grid worker belongs to a grid, not a community
    r = runner.invoke(cli.users, ["add", PENGLI, "w9", "--role", "grid_worker", "--unit", "37160200800101", *args,
                                  "--password-stdin"], input="long-password\n")
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.admin, ["create", PENGLI, "weak", *args, "--password-stdin"], input="short\n")
    assert r.exit_code == 1
    with deployment.database.engine.connect() as conn:
        rows = dict(conn.execute(select(users.c.username, users.c.role).where(users.c.tenant == PENGLI)).all())
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "chief")).scalar_one()
    assert rows == {"chief": "admin", "w9": "grid_worker"}
    assert "long-password" not in stored and stored.startswith("scrypt$")
    Browser(app_of(deployment)).login("chief", "long-password")


def test_a_version_published_by_another_process_comes_into_force_without_a_request_waiting(  # type: ignore[no-untyped-def]
        deployment, tmp_path, monkeypatch):
    from wangge.web import packs
    from wangge.web.deployment import open_deployment

    monkeypatch.setattr(packs, "CURRENT_TTL", 0.05)
    other = open_deployment([COUNTIES / PENGLI], deployment.database.url, "t" * 32, tmp_path / "other",
                            database=deployment.database)      # another portal process on the same database
    assert deployment.pack(PENGLI).version == other.pack(PENGLI).version
    old = deployment.pack(PENGLI).version
    pack_yaml = (COUNTIES / PENGLI / "pack.yaml").read_text(encoding="utf-8")
    draft = other.registry.draft(PENGLI, {"pack.yaml": pack_yaml.replace(f"version: {old}", "version: 1.9.1", 1)})
    other.registry.publish(PENGLI, draft.digest, "admin")
    assert other.pack(PENGLI).version == "1.9.1"                 # the publishing process: at once
    time.sleep(0.1)
    assert deployment.pack(PENGLI).version == old                # the answer it had, while a thread asks again
    deadline = time.monotonic() + 5
    while deployment.pack(PENGLI).version != "1.9.1":
        assert time.monotonic() < deadline
        time.sleep(0.02)
