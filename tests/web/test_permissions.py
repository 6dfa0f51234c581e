"""The permission matrix, role × unit × county, generated from the pack's own roles and units.

The oracle here is written independently of the portal's code: a unit is in a user's scope when the user's
unit is on its path to the top (or the user has no unit); residents have no dashboard; departments do not
report; a case is readable by whoever's scope holds the unit it happened in (departments: the cases they lead
or assist), and 指挥派遣 (dispatch) of a case routed to the street may be taken by command-centre kinds within
their scope (cn.base workflow as merged into 彭李's pack).
"""
from __future__ import annotations

import re

import pytest

from wangge.web.auth import all_roles, add_user

from wangge.core.cases import get_case

from .conftest import OTHER, PASSWORD, PENGLI, Browser, app_of, staff, street_class


def _subtree(pack, code):  # type: ignore[no-untyped-def]
    if code is None:
        return set(pack.grid.units)
    out, stack = set(), [code]
    while stack:
        c = stack.pop()
        out.add(c)
        stack.extend(pack.grid.children.get(c, ()))
    return out


@pytest.fixture(scope="module")
def world(module_deployment):  # type: ignore[no-untyped-def]
    """One user per role of 彭李 (grid roles, departments, admin, resident), each at the unit of its level
    on the path of the first grid."""
    deployment = module_deployment
    pack = deployment.pack(PENGLI)
    staff(deployment)
    grids = [u for u in pack.grid.units.values() if u.level == "grid"]
    first = grids[0]
    users = {}
    for role in all_roles(pack):
        if role.kind == "admin":
            unit = None
        elif role.kind == "resident":
            unit = first.code
        elif role.level is None:
            unit = None
        else:
            unit = pack.grid.ancestor_at(first.code, role.level).code
        name = "u_" + re.sub(r"\W", "_", role.id)
        add_user(deployment.database, pack, PENGLI, name, PASSWORD, role.id, unit)
        users[name] = (role, unit)
    app = app_of(deployment)
    sessions = {name: Browser(app).login(name) for name in users}
    return deployment, pack, app, users, sessions, first, grids[-1]


def test_matrix_covers_every_role(world):  # type: ignore[no-untyped-def]
    _, pack, _, users, *_ = world
    roles = {role.id for role, _ in users.values()}
    assert roles >= {r.id for r in pack.grid.roles} | {"dept:" + d for d in pack.departments} | {"admin", "resident"}
    assert len(pack.grid.units) == 102


def test_reads_dashboard_every_role_every_unit(world):  # type: ignore[no-untyped-def]
    _, pack, _, users, sessions, *_ = world
    wrong = []
    for name, (role, home) in users.items():
        scope = _subtree(pack, home)
        for code in pack.grid.units:
            allowed = role.kind != "resident" and code in scope
            status = sessions[name].get(f"/{PENGLI}/dashboard?unit={code}").status_code
            if status != (200 if allowed else 403):
                wrong.append((role.id, home, code, status))
    assert not wrong, wrong[:10]


def test_writes_report_every_role_every_unit(world):  # type: ignore[no-untyped-def]
    """A report with an empty title: allowed users get the form back (400), others 403 before validation."""
    _, pack, _, users, sessions, *_ = world
    wrong = []
    for name, (role, home) in users.items():
        scope = _subtree(pack, home)
        for code in pack.grid.units:
            allowed = role.kind != "department" and code in scope
            status = sessions[name].post(f"/{PENGLI}/report", {"title": "", "unit": code}).status_code
            if status != (400 if allowed else 403):
                wrong.append((role.id, home, code, status))
    assert not wrong, wrong[:10]


def _report(admin: Browser, pack, unit: str, cls: str | None = None) -> str:  # type: ignore[no-untyped-def]
    r = admin.post(f"/{PENGLI}/report", {"title": f"矩阵 {unit}", "class": cls or pack.events.subclasses()[0].id,
                                         "unit": unit})
    assert r.status_code == 303, r.text
    return r.headers["location"].split("?")[0]


def test_cases_read_and_dispatch_every_role(world):  # type: ignore[no-untyped-def]
    deployment, pack, app, users, sessions, first, last = world
    cls, _lead = street_class(pack)
    admin = Browser(app).login("admin")
    community = pack.grid.units[first.code].parent
    targets = [first.code, last.code, community]
    cases = {t: _report(admin, pack, t, cls) for t in targets}
    wrong = []
    for name, (role, home) in users.items():
        scope = _subtree(pack, home)
        for target in targets:
            case = get_case(deployment.database, PENGLI, cases[target].rsplit("/", 1)[1])
            if role.kind == "department":
                can_read = role.id[5:] == case.lead or role.id[5:] in case.assist
            else:
                can_read = role.kind != "resident" and (target in scope or case.handler_unit in scope)
            page = sessions[name].get(cases[target])
            if page.status_code != (200 if can_read else 403):
                wrong.append(("read", role.id, target, page.status_code))
            can_dispatch = role.kind == "command_center" and target in scope
            seq = re.search(r'name="seq" value="(\d+)"', page.text) if page.status_code == 200 else None
            r = sessions[name].post(cases[target] + "/act", {"action": "dispatch",
                                                             "seq": seq.group(1) if seq else "1"})
            if r.status_code != (303 if can_dispatch else 403):
                wrong.append(("dispatch", role.id, target, r.status_code))
            if r.status_code == 303:
                cases[target] = _report(admin, pack, target, cls)  # a fresh case for the next role
    assert not wrong, wrong[:10]


def test_cross_county_isolation(world, module_deployment):  # type: ignore[no-untyped-def]
    deployment, pack, app, users, sessions, first, _ = world
    other = deployment.pack(OTHER)
    add_user(deployment.database, other, OTHER, "admin", "another-password", "admin", None)
    a = sessions["u_admin"]
    for path in ("todo", "report", "dashboard", "pack", "users"):
        r = a.get(f"/{OTHER}/{path}")
        assert r.status_code == 303 and r.headers["location"].startswith(f"/{OTHER}/login"), path
    case_url = _report(Browser(app).login("admin"), pack, first.code)
    case_id = case_url.rsplit("/", 1)[1]
    b = Browser(app, OTHER).login("admin", "another-password")
    assert b.get(f"/{OTHER}/cases/{case_id}").status_code == 403   # a case of 彭李 is not found in 娄烦
    assert "矩阵" not in b.get(f"/{OTHER}/cases?closed=1").text
    # The same user name in two counties is two users: 彭李's password does not open 娄烦.
    page = Browser(app, OTHER)
    page.client.get(f"/{OTHER}/login")
    r = page.client.post(f"/{OTHER}/login", data={"csrf": page.token(), "username": "admin", "password": PASSWORD})
    assert r.status_code == 401
    # Signing into 娄烦 does not sign into 彭李's pages with 娄烦's role.
    assert b.get(f"/{PENGLI}/pack").status_code == 303
