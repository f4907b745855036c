"""The control room in a real browser: `outreach ui` serves it, headless Chromium (Debian's
`chromium` and `chromium-driver`, scripts/install_system_packages.sh) opens every page.

OUTREACH_UPDATE_SCREENSHOTS=1 also copies the screenshots into docs/screenshots/ (the README's).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from control_room.app import PAGES
from tests.python.cli_runner import PROJECT_DIR
from tests.python.control_room.test_configurator import B_LOWERED_TO, B_ROW, brands_moving_from_c_to_b

STARTUP_SECONDS = 60
PAGE_SECONDS = 60
WHATIF_SECONDS = 180  # dbt in the sandbox: about 10 s alone, longer on a busy CI machine
# the data editor's grid (glide-data-grid): rows of 35 px under a header of the same height
GRID_ROW_PIXELS = 35
GRID_PAUSE_SECONDS = 0.3
SCREENSHOTS = PROJECT_DIR / "docs" / "screenshots"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"`outreach ui` exited with {server.returncode}"
        try:
            if requests.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)  # polling the server's start, not a fixed wait
    raise AssertionError(f"`outreach ui` did not answer on {url} within {STARTUP_SECONDS}s")


@pytest.fixture
def ui_server(ui_warehouse: Path) -> Iterator[str]:
    """A real `outreach ui` on a free port; it and its Streamlit child are stopped afterwards."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in ("PIPELINE_MODE", "OUTREACH_UI_PASSWORD")}
    server = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--duckdb", str(ui_warehouse), "ui", "--port", str(port)],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: the launcher and Streamlit stop together
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        pytest.fail("chromium and chromedriver are needed: run scripts/install_system_packages.sh (make setup does)")
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1600"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)  # no driver download
    try:
        yield driver
    finally:
        driver.quit()


def page_finished(driver: WebDriver, title: str) -> bool:
    app = driver.find_element(By.CSS_SELECTOR, '[data-testid="stApp"]')
    headings = [heading.text for heading in driver.find_elements(By.CSS_SELECTOR, "h1")]
    return app.get_attribute("data-test-script-state") == "notRunning" and title in headings


def charts_drawn(driver: WebDriver) -> bool:
    """Vega-Lite draws after the script ends: every chart has its canvas."""
    charts = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')
    return all(chart.find_elements(By.CSS_SELECTOR, "canvas, svg") for chart in charts)


def test_every_page_opens_in_a_real_browser(ui_server: str, browser: WebDriver, tmp_path: Path) -> None:
    for index, (_file, title, url_path) in enumerate(PAGES):
        browser.get(f"{ui_server}/{url_path if index else ''}")  # the default page is the root
        WebDriverWait(browser, PAGE_SECONDS).until(lambda driver, title=title: page_finished(driver, title))
        dialogs = browser.find_elements(By.CSS_SELECTOR, '[role="dialog"]')
        assert not dialogs, f"{title}: {[dialog.text for dialog in dialogs]}"  # e.g. "Page not found"
        exceptions = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')
        assert not exceptions, f"{title}: {[exception.text for exception in exceptions]}"
        WebDriverWait(browser, PAGE_SECONDS).until(charts_drawn)
        screenshot = tmp_path / f"{url_path}.png"  # named by its url path, the default page's too
        assert browser.save_screenshot(str(screenshot)), f"no screenshot of {title}"
        if os.environ.get("OUTREACH_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(screenshot, SCREENSHOTS / screenshot.name)


def metric_value(driver: WebDriver, label: str) -> str | None:
    for metric in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        if metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip() == label:
            return metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    return None


def button(driver: WebDriver, text: str) -> WebElement:
    return next(found for found in driver.find_elements(By.CSS_SELECTOR, "button") if found.text.strip() == text)


def test_configurator_moves_a_threshold_in_a_real_browser(
    ui_server: str, browser: WebDriver, model: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    browser.get(f"{ui_server}/configurator")
    WebDriverWait(browser, PAGE_SECONDS).until(lambda driver: page_finished(driver, "Scoring configurator"))
    grids = WebDriverWait(
        browser, PAGE_SECONDS
    ).until(  # the weights' and the thresholds' editors
        lambda driver: driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')[1:]
    )
    thresholds_grid = grids[0]
    canvas = thresholds_grid.find_element(By.CSS_SELECTOR, "canvas")
    # select the first segment cell, then walk to B's min_score with the keyboard and type the new bound
    top_left = (-canvas.size["width"] // 2 + 10, -canvas.size["height"] // 2 + GRID_ROW_PIXELS + GRID_ROW_PIXELS // 2)
    # the grid reacts to each key on its next frame: a short pause between steps, not a wait for time to pass
    steps = ActionChains(browser).move_to_element_with_offset(canvas, *top_left).click().pause(GRID_PAUSE_SECONDS)
    for key in [*[Keys.ARROW_DOWN] * B_ROW, Keys.ARROW_RIGHT, Keys.ENTER]:  # Enter opens the cell's editor
        steps.send_keys(key).pause(GRID_PAUSE_SECONDS)
    steps.key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(str(B_LOWERED_TO))
    steps.pause(GRID_PAUSE_SECONDS).send_keys(Keys.ENTER).pause(GRID_PAUSE_SECONDS).perform()
    WebDriverWait(browser, PAGE_SECONDS).until(lambda driver: page_finished(driver, "Scoring configurator"))
    button(browser, "Show what it would move").click()
    WebDriverWait(browser, WHATIF_SECONDS).until(lambda driver: metric_value(driver, "Brands moving") is not None)
    errors = browser.find_elements(By.CSS_SELECTOR, '[data-testid="stAlertContentError"]')
    assert not errors, [error.text for error in errors]
    assert metric_value(browser, "Brands moving") == str(brands_moving_from_c_to_b(model))
    assert browser.save_screenshot(str(tmp_path / "configurator.png"))
    if os.environ.get("OUTREACH_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / "configurator.png", SCREENSHOTS / "configurator.png")
