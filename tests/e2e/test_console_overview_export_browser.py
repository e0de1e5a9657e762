"""The console's overview and export pages in a real browser (headless Chromium): the chart is
drawn in the page and its picture loads, the export form starts an export whose progress page
refreshes itself (no script) until the files are listed, and no element extends beyond the
viewport on a phone or a desktop."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from scheduler.charts import MAX_ASPECT, WIDTH_PX
from storage.evidence import open_evidence_store
from storage.models import utcnow
from tests.browser import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_overflow,
    browser,  # noqa: F401  (the fixture)
    in_thread,
    screenshot,
    set_viewport,
    wait_for,
)
from tests.console import console_server, init_data
from tests.export_data import seed_export_data
from tests.harness import Kexie


def both_sizes(driver: WebDriver, name: str) -> None:
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        set_viewport(driver, size)
        screenshot(driver, f"{name}-{label}-{size[0]}x{size[1]}")
        assert_no_horizontal_overflow(driver)
    set_viewport(driver, PHONE)


def overview(driver: WebDriver, base: str) -> list[int]:
    """Open the overview (its chart drawn in the page); open the chart's picture from its link
    and wait for it to load; the picture's natural size."""
    driver.get(f"{base}/overview")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".chart ol.bars li"), "no chart")
    both_sizes(driver, "overview")
    href = driver.find_element(By.CSS_SELECTOR, "a.chart-picture").get_attribute("href")
    assert href
    driver.get(href)
    picture = wait_for(driver, lambda d: d.find_elements(By.TAG_NAME, "img"), "no picture")
    loaded = (
        "const i = arguments[0];"
        "return i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.naturalHeight];"
    )
    size = wait_for(driver, lambda d: d.execute_script(loaded, picture[0]), "chart not loaded")
    return list(size)


def export(driver: WebDriver, base: str) -> list[str]:
    """Start the default export (annex 1-3 of this year, the admin's district, with the bundle)
    and wait for the progress page to turn into the file list by itself."""
    driver.get(f"{base}/export")
    both_sizes(driver, "export-form")
    driver.find_element(By.CSS_SELECTOR, "form.export-form button[type=submit]").click()
    wait_for(driver, lambda d: "/export/" in urlsplit(d.current_url).path, "no run page")
    done = 'section[data-status="done"]'
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, done), "the run never finished")
    both_sizes(driver, "export-done")
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.export-files a")]


async def test_overview_and_export_in_chromium(kexie: Kexie, browser: WebDriver) -> None:  # noqa: F811
    year = kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())
    async with kexie.session() as session:
        await seed_export_data(session, open_evidence_store(kexie.settings), year)
    await kexie.member(7301, "district_admin", district="锦江区", first_name="陈静")
    async with console_server(kexie) as base:
        fragment = f"tgWebAppData={quote(init_data(7301, '陈静'), safe='')}&tgWebAppVersion=8.0"
        await in_thread(browser.get, f"{base}/#{fragment}")
        await in_thread(
            wait_for, browser, lambda d: urlsplit(d.current_url).path.endswith("/reports"), "in"
        )
        width, height = await in_thread(overview, browser, base)
        # The chat's chart, sized for a phone (issue 20): 640 px, no taller than a screen.
        assert width == WIDTH_PX and height <= width * MAX_ASPECT
        files = await in_thread(export, browser, base)
    assert files == [f"附件1-3_{year}年锦江区.xlsx", f"{year}年锦江区_附件及佐证材料.zip"]
