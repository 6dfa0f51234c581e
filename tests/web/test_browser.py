"""The main journey in headless Chromium (Debian's package; nothing downloaded): a grid worker reports an
event that the pack routes to the street, the street 指挥中心 dispatches it, the lead department handles it,
the 指挥中心 closes it, and the dashboard's 结案率 moves."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from wangge.examples import COUNTIES

from .conftest import street_class

CHROMIUM = Path("/usr/bin/chromium")
DRIVER = Path("/usr/bin/chromedriver")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed")]

PENGLI = "binzhou-pengli"
PASSWORD = "journey-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):  # type: ignore[no-untyped-def]
    import uvicorn

    from wangge.web.app import create_app
    from wangge.web.auth import add_user
    from wangge.web.deployment import open_deployment

    deployment = open_deployment([COUNTIES / PENGLI], f"sqlite:///{tmp_path / 'j.sqlite'}", "j" * 32, tmp_path / "d")
    pack = deployment.pack(PENGLI)
    grid = next(u for u in pack.grid.units.values() if u.level == "grid")
    add_user(deployment.database, pack, PENGLI, "wangwu", PASSWORD, "grid_worker", grid.code, "王五")
    street = pack.grid.ancestor_at(grid.code, "township").code
    add_user(deployment.database, pack, PENGLI, "zhihui", PASSWORD, "command", street, "指挥中心")
    cls, lead = street_class(pack)
    dept = pack.departments[lead]
    add_user(deployment.database, pack, PENGLI, "bumen", PASSWORD, f"dept:{lead}",
             pack.grid.ancestor_at(grid.code, dept.level).code if pack.grid.level(dept.level) else None)
    port = _free_port()
    config = uvicorn.Config(create_app(deployment), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started
    yield f"http://127.0.0.1:{port}", cls
    srv.should_exit = True
    thread.join(5)


@pytest.fixture
def driver(tmp_path):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                f"--user-data-dir={tmp_path / 'chrome'}", "--window-size=412,915"):
        options.add_argument(arg)
    d = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    d.implicitly_wait(5)
    yield d
    d.quit()


def test_report_dispatch_handle_close_moves_the_indicator(server, driver):  # type: ignore[no-untyped-def]
    server, cls = server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def submit(button) -> None:  # type: ignore[no-untyped-def]
        """Click and wait for the next page, so no element of the old page is used afterwards."""
        driver.execute_script("window.__oldPage = true")
        button.click()
        WebDriverWait(driver, 10).until(lambda d: d.execute_script(
            "return window.__oldPage === undefined && document.readyState === 'complete'"))

    def login(user: str) -> None:
        driver.get(f"{server}/{PENGLI}/login")
        driver.find_element(By.NAME, "username").send_keys(user)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        submit(driver.find_element(By.CSS_SELECTOR, "form button[type=submit]"))
        assert "/todo" in driver.current_url

    def logout() -> None:
        submit(driver.find_element(By.CSS_SELECTOR, "form.who button"))

    def act(action: str) -> None:
        driver.get(case_url)
        submit(driver.find_element(By.CSS_SELECTOR, f"button[value='{action}']"))
        assert driver.current_url == case_url, driver.page_source[:500]

    def closing_rate() -> str:
        driver.get(f"{server}/{PENGLI}/dashboard")
        return driver.find_element(By.CSS_SELECTOR, "[data-indicator=jiean_rate] .n").text

    # 1. The grid worker reports an event from a phone-sized window.
    login("wangwu")
    submit(driver.find_element(By.LINK_TEXT, "上报"))
    driver.find_element(By.NAME, "title").send_keys("小区门口井盖缺失")
    Select(driver.find_element(By.NAME, "class")).select_by_value(cls)
    driver.find_element(By.NAME, "description").send_keys("东门,已设置临时围挡")
    submit(driver.find_element(By.CSS_SELECTOR, "#report button[type=submit]"))
    assert "已上报" in driver.page_source
    case_url = driver.current_url.split("?")[0]
    logout()

    # 2. The street 指挥中心 sees it in 待办 (routed to the street) and dispatches it.
    login("zhihui")
    assert "小区门口井盖缺失" in driver.page_source
    before = closing_rate()
    act("dispatch")
    logout()

    # 3. The lead department finds it in its 待办 and reports it handled.
    login("bumen")
    assert "小区门口井盖缺失" in driver.page_source
    act("feedback")
    logout()

    # 4. The 指挥中心 checks and closes it; the indicator moves.
    login("zhihui")
    act("close")
    assert "核查结案" in driver.find_element(By.CSS_SELECTOR, ".timeline").text
    after = closing_rate()
    assert after == "100.00%" and after != before   # the engine's display: two decimals
