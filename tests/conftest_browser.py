"""Fixtures for tests in a real headless Chromium (Debian's chromium + chromium-driver) driven by selenium."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gis.settings import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO_ROOT / "test-artifacts"
PHONE = (390, 844)
DESKTOP = (1280, 860)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
# Base map tiles may come from GSI (never with ?basemap=none, which the tests use).
ALLOWED_HOSTS = {"cyberjapandata.gsi.go.jp"}
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=ja",
)


def make_driver(size: tuple[int, int], profile: Path) -> Any:
    """A headless Chromium with browser and performance logs, at this window size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={size[0]},{size[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    # --window-size sets the outer window; make the page itself (the viewport) exactly this size.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": size[0] < 600},
    )
    driver.set_page_load_timeout(30)
    return driver


class Browser:
    """A driver plus the console and network records collected since it started."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        self.console: list[dict[str, Any]] = []
        self.requests: list[str] = []

    def collect(self) -> None:
        """Drain the browser and performance logs into `console` and `requests`."""
        self.console.extend(self.driver.get_log("browser"))
        for entry in self.driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            if msg.get("method") == "Network.requestWillBeSent":
                self.requests.append(msg["params"]["request"]["url"])

    def errors(self, ignore: Callable[[str], bool] = lambda _m: False) -> list[str]:
        """SEVERE console messages (uncaught errors, failed loads), minus the ignored ones."""
        self.collect()
        return [e["message"] for e in self.console if e["level"] == "SEVERE" and not ignore(e["message"])]

    def foreign_requests(self) -> list[str]:
        """Requests to any host other than this machine (and the allowed tile host)."""
        self.collect()
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about", "chrome", "devtools"):
                continue
            if parts.hostname not in LOCAL_HOSTS and parts.hostname not in ALLOWED_HOSTS:
                out.append(url)
        return out

    def wait(self, script: str, timeout: float = 20, what: str = "") -> Any:
        """Poll a JS expression (`return ...`) until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.driver.execute_script(script)
            if value:
                return value
            if time.monotonic() > deadline:
                self.collect()
                raise AssertionError(f"timed out waiting for {what or script}; console: {self.console[-5:]}")
            time.sleep(0.2)

    def settle(self) -> None:
        """Wait for fetches and pans (popup auto-pan, fly-to) to finish and the renderers to redraw."""
        self.wait("return window.GisMap && GisMap.idle() && !(map_main._panAnim && map_main._panAnim._inProgress)")
        time.sleep(0.5)

    def screenshot(self, name: str) -> Path:
        """Save a PNG under test-artifacts/ (git-ignored) and return its path."""
        self.settle()
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / name
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture
def browser_factory() -> Iterator[Callable[[tuple[int, int]], Browser]]:
    """Open browsers at a given size (each with a fresh profile); all are closed after the test."""
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need /usr/bin/chromium: apt-get install chromium chromium-driver "
            "(./quickstart.sh test installs them)"
        )
    opened: list[tuple[Browser, Path]] = []

    def open_browser(size: tuple[int, int]) -> Browser:
        profile = Path(tempfile.mkdtemp(prefix="gis-chromium-"))
        browser = Browser(make_driver(size, profile))
        opened.append((browser, profile))
        return browser

    yield open_browser
    for browser, profile in opened:
        browser.driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
