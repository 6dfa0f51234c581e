"""Every page and endpoint of the portal through Starlette's test client, and page weights."""
from __future__ import annotations

import re

import pytest

from wangge.web.auth import add_user

from .conftest import OTHER, PASSWORD, PENGLI, Browser, app_of, csrf_of, staff


@pytest.fixture(scope="module")
def app(module_deployment):  # type: ignore[no-untyped-def]
    staff(module_deployment)
    return app_of(module_deployment)


def test_landing_lists_every_county(app):  # type: ignore[no-untyped-def]
    r = Browser(app).get("/")
    assert r.status_code == 200
    assert "滨州市滨城区彭李街道" in r.text and f'href="/{OTHER}/"' in r.text
    assert Browser(app).get("/healthz").text == "ok"


def test_county_home_login_and_logout(app):  # type: ignore[no-untyped-def]
    b = Browser(app)
    assert b.get(f"/{PENGLI}/").status_code == 200
    assert b.get("/no-such-county/").status_code == 404
    page = b.get(f"/{PENGLI}/login")
    bad = b.client.post(f"/{PENGLI}/login", data={"csrf": csrf_of(page.text), "username": "admin", "password": "nope"})
    assert bad.status_code == 401 and "不正确" in bad.text
    b.login("admin")
    assert b.get(f"/{PENGLI}/").headers["location"] == f"/{PENGLI}/todo"
    assert b.post(f"/{PENGLI}/logout").status_code == 303
    assert b.get(f"/{PENGLI}/todo").status_code == 303  # signed out: back to the login page


def test_signed_out_pages_redirect_to_login(app):  # type: ignore[no-untyped-def]
    b = Browser(app)
    for path in ("todo", "report", "cases", "dashboard", "scores", "compare", "pack", "pack/dryrun", "users", "cases/x"):
        r = b.get(f"/{PENGLI}/{path}")
        assert r.status_code == 303 and r.headers["location"].startswith(f"/{PENGLI}/login?next="), path


def test_login_never_redirects_off_site(app):  # type: ignore[no-untyped-def]
    b = Browser(app)
    page = b.get(f"/{PENGLI}/login?next=//evil.example/")
    r = b.client.post(f"/{PENGLI}/login", data={"csrf": csrf_of(page.text), "username": "admin",
                                                "password": PASSWORD, "next": "https://evil.example/"})
    assert r.headers["location"] == f"/{PENGLI}/todo"


def test_every_admin_page_renders(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("admin")
    paths = ["todo", "report", "cases", "cases?closed=1", "dashboard", "dashboard?period=2026-Q1", "scores",
             "compare", "users", "pack/dryrun"]
    paths += [f"pack?tab={t}" for t in ("grid", "duties", "events", "routing", "workflow", "scoring", "versions")]
    for path in paths:
        r = b.get(f"/{PENGLI}/{path}")
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
    unit = "371602008001"
    assert b.get(f"/{PENGLI}/pack?tab=grid&unit={unit}").status_code == 200
    assert b.get(f"/{PENGLI}/dashboard?unit={unit}").status_code == 200
    assert "<svg" in b.get(f"/{PENGLI}/pack?tab=workflow").text


def test_static_assets_are_local(app):  # type: ignore[no-untyped-def]
    b = Browser(app)
    for asset in ("/static/app.css", "/static/app.js"):
        assert b.get(asset).status_code == 200
    html = Browser(app).login("worker").get(f"/{PENGLI}/report").text
    assert not re.search(r'(src|href)="(https?:)?//', html), "no CDN or external asset"


def test_report_and_case_pages(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("worker")
    form = b.get(f"/{PENGLI}/report")
    assert form.status_code == 200 and "上报事件" in form.text
    pack = app.state.deployment.pack(PENGLI)
    grid = re.search(r'<option value="(\d+)" selected>', form.text).group(1)
    cls = pack.events.subclasses()[0].id
    r = b.post(f"/{PENGLI}/report", {"title": "井盖缺失", "class": cls, "unit": grid, "urgency": "urgent",
                                     "people": "2", "description": "东门口", "lat": "37.4", "lon": "118.0"})
    assert r.status_code == 303, r.text
    case_url = r.headers["location"].split("?")[0]
    page = b.get(case_url)
    assert page.status_code == 200 and "井盖缺失" in page.text and "办理过程" in page.text and "流转依据" in page.text
    assert "井盖缺失" in b.get(f"/{PENGLI}/todo").text  # 我上报的在办事件
    assert "井盖缺失" in b.get(f"/{PENGLI}/cases").text
    missing = b.post(f"/{PENGLI}/report", {"title": "", "class": "nope", "unit": grid})
    assert missing.status_code == 400 and 'aria-invalid="true"' in missing.text
    assert b.get(f"/{PENGLI}/cases/does-not-exist").status_code == 403


def _weight(b: Browser, path: str) -> int:
    page = b.get(path)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)
    return len(page.content) + sum(len(b.get(a).content) for a in assets)


def test_page_weights(app):  # type: ignore[no-untyped-def]
    """Form pages under 60 KB and the dashboard under 200 KB, with their CSS and JS."""
    admin = Browser(app).login("admin")
    assert _weight(Browser(app).login("worker"), f"/{PENGLI}/report") < 60_000
    assert _weight(admin, f"/{PENGLI}/report") < 60_000      # the widest scope: every unit of the county
    assert _weight(admin, f"/{PENGLI}/dashboard") < 200_000
    assert _weight(Browser(app).login("command"), f"/{PENGLI}/dashboard") < 200_000


def test_users_page_adds_a_user(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("admin")
    r = b.post(f"/{PENGLI}/users", {"username": "leader1", "role": "grid_leader", "unit": "371602008001",
                                    "password": "long-enough-1"})
    assert r.status_code == 303
    assert "leader1" in b.get(f"/{PENGLI}/users").text
    wrong_level = b.post(f"/{PENGLI}/users", {"username": "leader2", "role": "grid_leader", "unit": "371602008",
                                              "password": "long-enough-1"})
    assert wrong_level.status_code == 400 and "层级" in wrong_level.text
    Browser(app).login("leader1", "long-enough-1")


def test_resident_and_department_pages(app):  # type: ignore[no-untyped-def]
    deployment = app.state.deployment
    pack = deployment.pack(PENGLI)
    add_user(deployment.database, pack, PENGLI, "paichusuo", PASSWORD, "dept:paichusuo", "371602008")
    dept = Browser(app).login("paichusuo")
    assert dept.get(f"/{PENGLI}/todo").status_code == 200
    assert dept.get(f"/{PENGLI}/report").status_code == 403
    resident = Browser(app).login("resident")
    assert resident.get(f"/{PENGLI}/report").status_code == 200
    assert resident.get(f"/{PENGLI}/dashboard").status_code == 403
    assert resident.get(f"/{PENGLI}/pack").status_code == 403
