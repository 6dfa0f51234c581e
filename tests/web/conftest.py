"""Portal fixtures: a deployment of real example counties on a real database, and signed-in clients."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from wangge.examples import COUNTIES
from wangge.web.app import create_app
from wangge.web.auth import add_user
from wangge.web.deployment import Deployment, open_deployment

PENGLI = "binzhou-pengli"
OTHER = "taiyuan-loufan"
PASSWORD = "correct-horse-9"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF field"
    return match.group(1)


class Browser:
    """A TestClient with one session, that signs in and posts forms with the page's CSRF token."""

    def __init__(self, app, county: str = PENGLI):  # type: ignore[no-untyped-def]
        self.client = TestClient(app, follow_redirects=False)
        self.county = county
        self._token: str | None = None

    def login(self, username: str, password: str = PASSWORD) -> "Browser":
        page = self.client.get(f"/{self.county}/login")
        r = self.client.post(f"/{self.county}/login", data={"csrf": csrf_of(page.text), "username": username,
                                                            "password": password})
        assert r.status_code == 303, r.text
        self._token = None
        return self

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_of(self.client.get(f"/{self.county}/login").text)
        return self._token

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(path, data={"csrf": self.token(), **(data or {})}, **kw)


@pytest.fixture(scope="module")
def module_deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """Two counties on SQLite, shared by a module's read-mostly tests (fast)."""
    tmp = tmp_path_factory.mktemp("portal")
    return open_deployment([COUNTIES / PENGLI, COUNTIES / OTHER], f"sqlite:///{tmp / 'w.sqlite'}", "s" * 32,
                           tmp / "data")


@pytest.fixture
def deployment(database, tmp_path: Path) -> Deployment:  # type: ignore[no-untyped-def]
    """A fresh deployment per test on the ``database`` fixture (SQLite, and PostgreSQL when configured)."""
    return open_deployment([COUNTIES / PENGLI, COUNTIES / OTHER], database.url, "t" * 32, tmp_path / "data",
                           database=database)


def staff(deployment: Deployment, county: str = PENGLI) -> dict[str, tuple[str, str | None]]:
    """One user per kind of role the journey needs: username → (role, unit)."""
    pack = deployment.pack(county)
    grid = next(u for u in pack.grid.units.values() if u.level == pack.grid.levels[-1].id)
    top = pack.grid.roots[0]
    command = next(r for r in pack.grid.roles if r.kind == "command_center")
    command_unit = pack.grid.ancestor_at(grid.code, command.level)
    worker = next(r for r in pack.grid.roles if r.kind == "worker")
    users = {"admin": ("admin", None), "worker": (worker.id, grid.code),
             "command": (command.id, command_unit.code if command_unit else top), "resident": ("resident", grid.code)}
    for name, (role, unit) in users.items():
        add_user(deployment.database, pack, county, name, PASSWORD, role, unit)
    return users


def app_of(deployment: Deployment):  # type: ignore[no-untyped-def]
    return create_app(deployment)


def street_class(pack) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """An event class the pack routes straight to the street 指挥中心 for dispatch (state ``registered``, a
    department as lead): ``(class id, lead department)``."""
    from wangge.core.events import parse_event
    from wangge.core.routing import Router
    from wangge.web import engine

    router = Router.from_pack(pack)
    grid = next(u for u in pack.grid.units.values() if u.level == pack.grid.levels[-1].id)
    for cls in pack.events.subclasses():
        event = parse_event({"id": "probe", "class": cls.id, "channel": next(iter(pack.channels)), "unit": grid.code,
                             "reported_at": "2026-03-02T09:30:00+08:00"}, pack)
        decision = engine.plain(router.decide(event))
        if decision.get("state") == "registered" and decision.get("lead") in pack.departments:
            return cls.id, decision["lead"]
    pytest.skip("the pack routes no class straight to the street for dispatch")
