"""A real headless Chromium (Debian's, never downloaded) fills a form with skip logic and submits it."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from wangge.core.store.tables import submissions
from wangge.forms import forms_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed")]


@pytest.fixture
def server(packs, database, tmp_path):  # type: ignore[no-untyped-def]
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = forms_app([packs["binzhou-pengli"]], database, secret="browser", uploads=tmp_path / "up")
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture
def browser(tmp_path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chrome'}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_fill_with_skip_logic_and_submit(server, browser, packs, database):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    pack = packs["binzhou-pengli"]
    wait = WebDriverWait(browser, 10)
    browser.get(f"{server}/{pack.id}/event_report")
    wait.until(lambda d: "wg-js" in d.find_element(By.TAG_NAME, "html").get_attribute("class"))
    handling = browser.find_element(By.CSS_SELECTOR, '[data-name="handling"]')
    assert not handling.is_displayed()

    # submitting empty: the browser shows the error summary and does not post
    browser.find_element(By.CSS_SELECTOR, 'button[value="submit"]').click()
    summary = wait.until(EC.visibility_of_element_located((By.ID, "wg-summary")))
    assert "事件名称:此项为必填" in summary.text and browser.current_url.endswith("/event_report")

    browser.find_element(By.ID, "f-title").send_keys("楼道堆物")
    browser.find_element(By.ID, "f-category-1").click()
    assert browser.find_element(By.ID, "f-category-1").is_selected()
    browser.execute_script("document.getElementById('f-occurred_at').value = '2024-05-01T08:30';")
    browser.find_element(By.ID, "f-address").send_keys("3号楼")
    chain = [u.code for u in reversed(list(pack.grid.ancestors(next(u.code for u in pack.grid.units.values() if u.level == "grid"))))]
    Select(browser.find_element(By.ID, "f-grid_unit-township")).select_by_value(chain[0])
    wait.until(lambda d: len(Select(d.find_element(By.ID, "f-grid_unit-village")).options) > 1)
    Select(browser.find_element(By.ID, "f-grid_unit-village")).select_by_value(chain[1])
    wait.until(lambda d: len(Select(d.find_element(By.ID, "f-grid_unit-grid")).options) > 1)
    Select(browser.find_element(By.ID, "f-grid_unit-grid")).select_by_value(chain[2])
    browser.find_element(By.ID, "f-description").send_keys("楼道内堆放纸箱")

    # live constraint
    people = browser.find_element(By.ID, "f-people_involved")
    people.clear()
    people.send_keys("-3")
    browser.find_element(By.ID, "f-address").click()
    err = wait.until(EC.visibility_of_element_located((By.ID, "f-people_involved-error")))
    assert "涉及人数应在 0 到 100000 之间" in err.text
    people.clear()
    people.send_keys("2")

    # skip logic: answering 是 shows the follow-up question, which becomes required
    browser.find_element(By.ID, "f-handled_on_site-true").click()
    wait.until(lambda d: handling.is_displayed())
    browser.find_element(By.ID, "f-handling").send_keys("已当场清理")
    browser.find_element(By.CSS_SELECTOR, 'button[value="submit"]').click()
    try:
        wait.until(lambda d: "已提交" in d.page_source)
    except TimeoutException:  # say what the page complained about
        raise AssertionError(browser.find_element(By.ID, "wg-summary").text) from None

    with database.engine.connect() as conn:
        row = conn.execute(select(submissions.c.data)).one()
    values = row.data["values"]
    assert values["handling"] == "已当场清理" and values["people_involved"] == 2 and values["grid_unit"] == chain[2]
