"""CSRF on every form endpoint; hostile text in every field rendered inert; sessions and passwords."""
from __future__ import annotations

import hashlib
import re

import pytest

from wangge.web.auth import hash_password, verify_password

from .conftest import PASSWORD, PENGLI, Browser, app_of, staff, street_class

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>\'`${7*7}{{7*7}}'


@pytest.fixture(scope="module")
def app(module_deployment):  # type: ignore[no-untyped-def]
    staff(module_deployment)
    return app_of(module_deployment)


FORMS = ["login", "logout", "report", "cases/x/act", "pack/dryrun", "pack/publish", "users"]


@pytest.mark.parametrize("path", FORMS)
def test_missing_or_wrong_csrf_token_is_refused(app, path):  # type: ignore[no-untyped-def]
    b = Browser(app).login("admin")
    url = f"/{PENGLI}/{path}"
    assert b.client.post(url, data={"title": "x"}).status_code == 403
    assert b.client.post(url, data={"csrf": "forged", "title": "x"}).status_code == 403
    assert b.client.post(url, files={"csrf": (None, "forged")}).status_code == 403       # multipart too
    assert b.client.post(url, json={"csrf": b.token()}).status_code == 403               # JSON carries no form token


def test_token_of_another_session_is_refused(app):  # type: ignore[no-untyped-def]
    a, b = Browser(app).login("admin"), Browser(app).login("worker")
    r = b.client.post(f"/{PENGLI}/report", data={"csrf": a.token(), "title": "x"})
    assert r.status_code == 403


def test_header_token_works_for_scripts(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("worker")
    r = b.client.post(f"/{PENGLI}/report", data={"title": ""}, headers={"X-CSRF-Token": b.token()})
    assert r.status_code == 400  # past the CSRF check, stopped by validation


def test_hostile_text_in_every_event_field_is_escaped(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("worker")
    pack = app.state.deployment.pack(PENGLI)
    form = b.get(f"/{PENGLI}/report").text
    grid = re.search(r'<option value="(\d+)" selected>', form).group(1)
    fields = {"title": HOSTILE[:110], "description": HOSTILE, "location_text": HOSTILE[:190],
              "class": street_class(pack)[0], "unit": grid}
    r = b.post(f"/{PENGLI}/report", fields)
    assert r.status_code == 303, r.text
    case_url = r.headers["location"].split("?")[0]
    command = Browser(app).login("command")
    pages = [b.get(case_url).text, b.get(f"/{PENGLI}/todo").text, b.get(f"/{PENGLI}/cases").text,
             command.get(case_url).text, command.get(f"/{PENGLI}/todo").text]
    # Invalid values echo back into the form too.
    bad = b.post(f"/{PENGLI}/report", {**fields, "class": HOSTILE[:50], "people": HOSTILE[:20], "lat": HOSTILE[:20],
                                       "unit": grid})
    assert bad.status_code == 400
    pages.append(bad.text)
    # A note on an action lands in the timeline.
    page = command.get(case_url).text
    seq = re.search(r'name="seq" value="(\d+)"', page).group(1)
    assert command.post(case_url + "/act", {"action": "dispatch", "seq": seq, "note": HOSTILE}).status_code == 303
    pages.append(command.get(case_url).text)
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]


def test_hostile_text_in_admin_forms_is_escaped(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("admin")
    r = b.post(f"/{PENGLI}/users", {"username": "evil", "display_name": HOSTILE, "role": HOSTILE, "unit": HOSTILE,
                                    "password": "x"})
    assert r.status_code == 400 and "<script>alert" not in r.text
    r = b.post(f"/{PENGLI}/users", {"username": "evil2", "display_name": HOSTILE, "role": "admin",
                                    "password": "long-enough-1"})
    assert r.status_code == 303
    assert "<script>alert" not in b.get(f"/{PENGLI}/users").text
    dry = b.client.post(f"/{PENGLI}/pack/dryrun", data={"csrf": b.token(), "events": HOSTILE + "\n" +
                                                         '{"id": "' + HOSTILE.replace('"', "'") + '"}',
                                                         "paste_name": HOSTILE, "paste_text": HOSTILE})
    assert "<script>alert" not in dry.text and "<img src=x" not in dry.text


def test_passwords_use_scrypt_with_a_salt_per_user():  # type: ignore[no-untyped-def]
    one, two = hash_password(PASSWORD), hash_password(PASSWORD)
    assert one.startswith("scrypt$16384$8$1$") and one != two
    assert verify_password(PASSWORD, one) and not verify_password("wrong", one)
    assert not verify_password(PASSWORD, "md5$" + hashlib.md5(PASSWORD.encode()).hexdigest())


def test_tampered_session_cookie_is_ignored(app):  # type: ignore[no-untyped-def]
    b = Browser(app).login("worker")
    cookie = b.client.cookies.get("wangge_session")
    assert cookie
    forged = Browser(app)
    forged.client.cookies.set("wangge_session", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"))
    assert forged.get(f"/{PENGLI}/todo").status_code == 303
