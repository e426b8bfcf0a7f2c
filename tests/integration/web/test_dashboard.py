"""The dashboard in a real headless browser: Debian's chromium driven through chromium-driver.

It shows the virtual service and its real servers; a real server whose backend dies turns
red within its checker's schedule; an admin's Drain button sets its weight to 0 in the live
table; the page fits a phone's width.  The test writes the screenshots under docs/.  Skipped,
saying why, where chromium, chromium-driver or selenium are missing (.ci/run installs them).
"""

from __future__ import annotations

import base64
import shutil
import time
from pathlib import Path

import pytest

from tests.integration.daemon.daemon_helpers import Director, free_port, http_get, wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
DOCS = Path(__file__).parents[3] / "docs"
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)"),
    pytest.mark.skipif(DRIVER is None, reason="no chromedriver (apt-get install chromium-driver)"),
]

CHECK = """        TCP_CHECK {
            connect_timeout 0.5
            retry 1
            delay_before_retry 0.2
        }"""
CONFIG = """
virtual_server 127.0.0.1 {vport} {{
    delay_loop 0.5
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 127.0.0.1 {p1} {{
        weight 2
{check}
    }}
    real_server 127.0.0.1 {p2} {{
        weight 1
{check}
    }}
}}
"""
# The longest a dead server can take to be declared down: a probe just missed (delay_loop),
# then the failing probe and its retry (connect_timeout + delay_before_retry each), plus one
# dashboard poll (1 s) and the time a loaded machine adds.
SCHEDULE = 0.5 + 2 * (0.5 + 0.2) + 1.0
SLACK = 8.0


def browser(width: int, height: int, auth: str):  # type: ignore[no-untyped-def]
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    # Basic credentials on every request the page makes (what the browser's own prompt does).
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": auth}})
    return driver


def row(driver, server: str) -> dict[str, str] | None:  # type: ignore[no-untyped-def]
    """A real server's row as the page shows it now (read in one go: the page redraws every
    second, so elements found earlier go stale)."""
    return driver.execute_script(  # type: ignore[no-any-return]
        """const r = document.querySelector(`tr[data-server="${arguments[0]}"]`);
        if (!r) return null;
        return {class: r.className, text: r.innerText,
                weight: r.querySelector('[data-field="weight"]').textContent,
                button: (r.querySelector("button") || {}).dataset?.action || ""};""",
        server,
    )


def click(driver, server: str, action: str) -> None:  # type: ignore[no-untyped-def]
    """Click the row's button like a user, again if a redraw replaced it meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    selector = f'tr[data-server="{server}"] button[data-action="{action}"]'
    for _ in range(5):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            continue
    raise AssertionError(f"could not click {action} of {server}")


def test_dashboard_follows_health_and_drains(backends, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    p1, p2 = backends.start("rs1"), backends.start("rs2")
    vport, http = free_port(), free_port()
    users = tmp_path / "users"
    users.write_text("admin ops s3cret\n")
    config = CONFIG.format(vport=vport, p1=p1, p2=p2, check=CHECK)
    flags = ("--http", f"127.0.0.1:{http}", "--http-users", str(users))
    d = Director(tmp_path, config, flags=flags)
    auth = "Basic " + base64.b64encode(b"ops:s3cret").decode()
    rs1, rs2 = f"127.0.0.1:{p1}", f"127.0.0.1:{p2}"
    driver = browser(1100, 800, auth)
    try:
        for _ in range(6):
            http_get(vport)
        driver.get(f"http://127.0.0.1:{http}/")
        assert wait_for(lambda: row(driver, rs1) is not None and row(driver, rs2) is not None)
        service = driver.find_element(By.CSS_SELECTOR, f'[data-service="TCP:127.0.0.1:{vport}"]')
        assert "wrr" in service.text
        first = row(driver, rs1)
        assert first is not None and "UP" in first["text"] and first["class"] == "up"
        assert first["weight"] == "2" and first["button"] == "drain"
        assert driver.find_element(By.ID, "who").text == "ops (admin)"

        died = time.monotonic()
        backends.stop("rs1")
        assert wait_for(lambda: (row(driver, rs1) or {}).get("class") == "down", SCHEDULE + SLACK)
        took = time.monotonic() - died
        assert "DOWN" in (row(driver, rs1) or {})["text"]
        assert took < SCHEDULE + SLACK, took
        assert wait_for(
            lambda: any(
                "DOWN by TCP_CHECK" in li.text
                for li in driver.find_elements(By.CSS_SELECTOR, "#events li")
            )
        )

        click(driver, rs2, "drain")
        assert wait_for(lambda: (row(driver, rs2) or {}).get("class") == "drain")
        drained = row(driver, rs2)
        assert drained is not None and drained["weight"] == "0" and drained["button"] == "restore"
        listed = [x.split() for x in d.ipvsadm("-Ln").stdout.splitlines() if rs2 in x]
        assert listed[0][3] == "0"  # the live table, as `ipvsadm -L` shows it
        driver.save_screenshot(str(DOCS / "dashboard.png"))

        driver.set_window_size(412, 915)  # a phone
        time.sleep(1.2)  # one poll at the new size
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= driver.execute_script("return window.innerWidth"), width
        # Every column, the Restore button included, fits without scrolling the table.
        overflow = driver.execute_script(
            "return [...document.querySelectorAll('.service')]"
            ".map(e => e.scrollWidth - e.clientWidth)"
        )
        assert overflow and max(overflow) <= 0, overflow
        driver.save_screenshot(str(DOCS / "dashboard-phone.png"))
    finally:
        driver.quit()
        d.stop()
