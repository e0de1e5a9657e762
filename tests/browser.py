"""Real-browser helpers: headless Chromium driven by Selenium, for the admin console's tests.

Debian's ``chromium`` and ``chromium-driver`` are installed by ``scripts/chromium.sh`` (called by
``scripts/test.sh``, which then sets ``KEXIE_TEST_REQUIRE_BROWSER=1``). Selenium is always given
the Debian chromedriver explicitly, so Selenium Manager never runs and nothing is downloaded;
Chromium resolves no host name but loopback, so a page cannot reach the internet either.

    from tests.browser import PHONE, DESKTOP, assert_no_horizontal_overflow, browser, screenshot

    def test_page(browser: WebDriver) -> None:        # the fixture: phone size to start with
        browser.get(url)
        screenshot(browser, "page-phone")             # tests/output/<test>/page-phone.png
        assert_no_horizontal_overflow(browser)
        set_viewport(browser, DESKTOP)

Selenium calls block: from an async test whose server runs on the test's own event loop, call
them through ``asyncio.to_thread`` or the server never gets to answer.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "tests" / "output"  # git-ignored; kept after the run so a person can look

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# (width, height) in CSS pixels, device scale factor 1: screenshots have exactly this size.
PHONE = (390, 844)
DESKTOP = (1280, 800)

_output_dirs: weakref.WeakKeyDictionary[WebDriver, Path] = weakref.WeakKeyDictionary()


def browser_unavailable() -> str | None:
    """Why no browser test can run here (None when Chromium and its driver are installed)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        return (
            f"Chromium not installed ({', '.join(missing)} missing); "
            "scripts/chromium.sh installs Debian's chromium and chromium-driver as root"
        )
    return None


def require_browser() -> None:
    """Skip the test, saying why, when Chromium is absent; fail instead when the run demands it
    (``KEXIE_TEST_REQUIRE_BROWSER``, set by scripts/test.sh once it installed Chromium), so CI
    never passes by silently skipping the browser tests."""
    reason = browser_unavailable()
    if reason is None:
        return
    if os.environ.get("KEXIE_TEST_REQUIRE_BROWSER"):
        pytest.fail(f"KEXIE_TEST_REQUIRE_BROWSER is set but {reason}", pytrace=False)
    pytest.skip(reason)


def _options(profile: Path, size: tuple[int, int]) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--disable-dev-shm-usage",  # /dev/shm is tiny in containers
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--lang=zh-CN",
        # Tests never reach the internet: every name but loopback fails to resolve, so a page
        # that loads telegram-web-app.js from Telegram gets a quick network error instead.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    return options


def set_viewport(driver: WebDriver, size: tuple[int, int]) -> None:
    """Give the page a viewport of exactly ``size`` CSS pixels at scale 1.

    The window size alone does not fix the viewport in headless mode; the device metrics
    override does. The phone size is emulated as a mobile device, so the page's
    ``<meta name=viewport>`` is honoured (without it a phone lays the page out 980 px wide).
    """
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


@contextmanager
def open_chromium(
    profile: Path, size: tuple[int, int] = PHONE, output_dir: Path | None = None
) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile in ``profile``, its viewport set to ``size``;
    ``output_dir`` is where ``screenshot`` writes. Quit on exit."""
    profile.mkdir(parents=True, exist_ok=True)
    # Belt and braces: even if a Service path were missing, Selenium Manager stays offline.
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER), options=_options(profile, size)
    )
    try:
        driver.set_page_load_timeout(60)
        set_viewport(driver, size)
        if output_dir is not None:
            _output_dirs[driver] = output_dir
        yield driver
    finally:
        driver.quit()


def output_dir_for(request: pytest.FixtureRequest) -> Path:
    """``tests/output/<test name>/``, emptied: where a test's screenshots go."""
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1]).strip("_")
    folder = OUTPUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WebDriver]:
    """A headless Chromium at phone size (``set_viewport(browser, DESKTOP)`` to change), with a
    fresh profile under tmp_path; skipped (or failed, see ``require_browser``) without Chromium.
    Screenshots go to ``tests/output/<test name>/``."""
    require_browser()
    with open_chromium(tmp_path / "chromium-profile", PHONE, output_dir_for(request)) as driver:
        yield driver


def screenshot(driver: WebDriver, name: str) -> Path:
    """Write the viewport as ``<name>.png`` into the test's output folder; print and return the
    path."""
    folder = _output_dirs.get(driver)
    if folder is None:
        raise RuntimeError("this driver has no output folder (open it with output_dir=...)")
    path = folder / f"{name}.png"
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"Chromium wrote no screenshot {path}")
    print(f"screenshot: {path}")
    return path


_OVERFLOW_JS = """
const limit = document.documentElement.clientWidth;
const found = [];
for (const el of document.querySelectorAll('body, body *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.right > limit + 0.5) {
    let label = el.tagName.toLowerCase();
    if (el.id) label += '#' + el.id;
    for (const c of el.classList) label += '.' + c;
    const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    found.push({label: label, left: r.left, right: r.right, width: r.width, text: text});
  }
}
return {limit: limit, scrollWidth: document.documentElement.scrollWidth, found: found};
"""


def horizontal_overflow(driver: WebDriver) -> dict[str, Any]:
    """The elements whose bounding box ends right of ``document.documentElement.clientWidth``
    (``found``, outermost first), the limit and the page's ``scrollWidth``."""
    result: dict[str, Any] = driver.execute_script(_OVERFLOW_JS)
    return result


def assert_no_horizontal_overflow(driver: WebDriver) -> None:
    """Fail naming every element that extends beyond the viewport's width (a phone user would
    have to scroll sideways to read it)."""
    result = horizontal_overflow(driver)
    found = result["found"]
    if not found and result["scrollWidth"] <= result["limit"]:
        return
    lines = [
        f"{len(found)} element(s) extend beyond the viewport width {result['limit']} px "
        f"(page scrollWidth {result['scrollWidth']} px):"
    ]
    lines += [
        f"  {f['label']}: right edge {f['right']:.0f} px, width {f['width']:.0f} px, "
        f"text {f['text']!r}"
        for f in found[:20]
    ]
    if len(found) > 20:
        lines.append(f"  … and {len(found) - 20} more")
    raise AssertionError("\n".join(lines))


T = TypeVar("T")
WAIT = 60  # seconds a page may take on a busy machine: a bound, not a timed assertion


async def in_thread(call: Callable[..., T], *args: Any) -> T:
    """Run a blocking Selenium step off the loop that serves the console."""
    return await asyncio.to_thread(call, *args)


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], Any], what: str) -> Any:
    """Wait until ``condition`` holds, failing with ``what``, the page's URL and what it shows."""
    try:
        return WebDriverWait(driver, WAIT).until(condition)
    except Exception as exc:
        shown = driver.execute_script("return document.body ? document.body.innerText : ''")
        raise AssertionError(
            f"{what} (at {driver.current_url}); the page shows: {shown[:600]!r}"
        ) from exc


def set_accept_language(driver: WebDriver, lang: str) -> None:
    """Send ``lang`` as the browser's language (``Accept-Language``), as a phone set to it would:
    the console's pages before sign-in follow it (headless Chromium ignores ``--lang``)."""
    header = "zh-CN,zh;q=0.9" if lang == "zh" else "en-GB,en;q=0.9"
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": header}})
