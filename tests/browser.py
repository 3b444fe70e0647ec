"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

Every browser runs with a fresh profile, a phone-sized viewport (360 x 780),
and a network that reaches nothing but 127.0.0.1: a page that loads anything
from another host breaks here as it would offline. ``CHROMIUM`` and
``CHROMEDRIVER`` name other binaries. Without them the browser tests are
skipped, except under ``CI=true``, where they fail (``.ci/run`` installs both).

Screenshots go to ``$ARTIFACTS_DIR/browser/`` (default ``.artifacts/browser/``
in the repository, git-ignored).
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.artifacts import artifacts_dir, tool_missing

WAIT = 10.0
"""Seconds any one expectation may take to come true in the page."""
WIDTH, HEIGHT = 360, 780
T = TypeVar("T")


def required_tool(what: str, found: str | None) -> str:
    if not found:
        tool_missing(f"{what} is not installed (Debian: apt-get install chromium chromium-driver)")
    return found


def binaries() -> tuple[str, str]:
    """Chromium and ChromeDriver: ``$CHROMIUM``/``$CHROMEDRIVER`` or on ``PATH``."""
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium-browser"
    driver = os.environ.get("CHROMEDRIVER") or "chromedriver"
    return (
        required_tool(f"chromium ({chromium})", shutil.which(chromium)),
        required_tool(f"chromedriver ({driver})", shutil.which(driver)),
    )


class Browser:
    """One Chromium window on the page, with the few steps the tests need."""

    def __init__(self, driver: WebDriver, base_url: str, shots: Path, name: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self.shots = shots
        self.name = name
        self.logs: list[dict[str, Any]] = []

    # --- looking ----------------------------------------------------------

    def wait(self, condition: Callable[[], T | bool | None], what: str | Callable[[], str]) -> T:
        """What ``condition`` returns once it is truthy; fails saying ``what`` was expected."""
        try:
            # The page re-renders lists as answers arrive: an element found
            # a moment ago may be gone by the time its text is read.
            result: T = WebDriverWait(
                self.driver,
                WAIT,
                poll_frequency=0.05,
                ignored_exceptions=(StaleElementReferenceException,),
            ).until(lambda _: condition())
        except TimeoutException:
            self.screenshot(f"failed-{self.name}")
            expected = what if isinstance(what, str) else what()
            raise AssertionError(f"{self.name}: {expected} (not within {WAIT} s)") from None
        return result

    def element(self, element_id: str) -> Any:
        return self.driver.find_element(By.ID, element_id)

    def text(self, element_id: str) -> str:
        return str(self.element(element_id).text)

    def visible(self, element_id: str) -> bool:
        return bool(self.element(element_id).is_displayed())

    def focused(self) -> str:
        return str(self.driver.switch_to.active_element.get_attribute("id") or "")

    def wait_text(self, element_id: str, part: str) -> str:
        def shown() -> str | None:
            text = self.text(element_id)
            return text if part in text else None

        return self.wait(
            shown, lambda: f"#{element_id} shows {part!r}, it has {self.text(element_id)!r}"
        )

    def wait_step(self, step: str) -> None:
        self.wait(lambda: self.visible(f"step-{step}"), f"the {step} step is shown")

    def items(self, element_id: str) -> list[str]:
        return [item.text for item in self.element(element_id).find_elements(By.TAG_NAME, "li")]

    # --- doing, by keyboard ---------------------------------------------------

    def open(self, path: str = "/") -> None:
        self.driver.get(self.base_url + path)
        self.wait(
            lambda: self.driver.execute_script("return document.body.dataset.ready") == "true",
            f"{path} finished loading",
        )

    def type(self, element_id: str, text: str, *, submit: bool = True) -> None:
        """Replace the field's text and, by default, press Enter in it."""
        field = self.element(element_id)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        field.send_keys(text + (Keys.ENTER if submit else ""))

    def press(self, element_id: str) -> None:
        """Focus a button and press Enter on it."""
        self.element(element_id).send_keys(Keys.ENTER)

    def phone_sized(self) -> None:
        """Emulate a 360 px wide phone in the current tab."""
        self.driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True},
        )

    def new_tab(self) -> str:
        """Open a tab of the same browser (same cookies), switch to it; its handle."""
        self.driver.switch_to.new_window("tab")
        self.phone_sized()
        return str(self.driver.current_window_handle)

    def screenshot(self, name: str) -> Path:
        """The whole page, not only the viewport, as ``NAME.png``."""
        height = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height["height"], "scale": 1},
            },
        )
        path = self.shots / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def browser_log(self) -> list[dict[str, Any]]:
        """Everything the console and the network layer logged so far."""
        self.logs += self.driver.get_log("browser")
        return self.logs


@contextlib.contextmanager
def chromium(base_url: str, name: str, language: str = "en-US") -> Iterator[Browser]:
    """A headless Chromium on ``base_url`` that reaches no other host, set to
    ``language`` (its interface and its ``Accept-Language``)."""
    binary, driver_binary = binaries()
    profile = tempfile.mkdtemp(prefix="referrals-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        f"--lang={language}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_binary), options=options)
    try:
        browser = Browser(driver, base_url, artifacts_dir("browser"), name)
        browser.phone_sized()
        yield browser
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
