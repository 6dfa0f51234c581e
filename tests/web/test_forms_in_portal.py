"""The pack's forms inside the portal: same session, same CSRF token, stored under the county's tenant."""
from __future__ import annotations

from sqlalchemy import select

from wangge.core.store.tables import submissions

from .conftest import PENGLI, Browser, app_of, csrf_of, staff


def test_forms_need_a_signed_in_user_of_that_county(deployment):
    staff(deployment)
    pack = deployment.pack(PENGLI)
    anonymous = Browser(app_of(deployment))
    r = anonymous.get(f"/forms/{pack.id}/event_report")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/{PENGLI}/login?next=")
    assert anonymous.get("/forms/no.such.pack/event_report").status_code == 404


def test_a_grid_worker_fills_the_event_report_with_the_portal_token(deployment):
    staff(deployment)
    pack = deployment.pack(PENGLI)
    browser = Browser(app_of(deployment)).login("worker")
    page = browser.get(f"/forms/{pack.id}/event_report")
    assert page.status_code == 200 and "事件上报表" in page.text
    token = csrf_of(page.text)
    assert token == browser.token(), "the form carries the portal's own session token"

    empty = browser.client.post(f"/forms/{pack.id}/event_report", data={"csrf": token})
    assert empty.status_code in (200, 422) and "必填" in empty.text

    forged = browser.client.post(f"/forms/{pack.id}/event_report", data={"csrf": "forged", "title": "x"})
    assert forged.status_code == 403
    with deployment.database.engine.connect() as conn:
        assert conn.execute(select(submissions)).first() is None, "nothing stored from rejected posts"


def test_a_valid_report_is_stored_under_the_county_and_the_user(deployment):
    import importlib

    forms_conftest = importlib.import_module("tests.forms.conftest")
    staff(deployment)
    pack = deployment.pack(PENGLI)
    browser = Browser(app_of(deployment)).login("worker")
    token = csrf_of(browser.get(f"/forms/{pack.id}/event_report").text)
    data = forms_conftest.post_data(pack, "event_report", forms_conftest.VALID["event_report"])
    r = browser.client.post(f"/forms/{pack.id}/event_report", data={**data, "csrf": token})
    assert r.status_code == 303, r.text
    with deployment.database.engine.connect() as conn:
        row = conn.execute(select(submissions)).one()
    assert (row.tenant, row.submitted_by, row.form_id) == (PENGLI, "worker", "event_report")


def test_the_menu_links_to_the_county_forms(deployment):
    staff(deployment)
    pack = deployment.pack(PENGLI)
    browser = Browser(app_of(deployment)).login("worker")
    todo = browser.get(f"/{PENGLI}/todo").text
    assert f'href="/forms/{pack.id}/"' in todo
    index = browser.get(f"/forms/{pack.id}/")
    assert index.status_code == 200 and "/event_report" in index.text
