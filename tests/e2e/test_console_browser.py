"""The admin console in a real browser (issue 13): headless Chromium, driven by Selenium, opens
the console as Telegram opens a Mini App (signed initData in the URL fragment), filters the
reports table to one association, opens a report and sees its photo loaded, returns it with a
reason, and the reporter receives the return in chat through the stand-in. The reports table is
photographed at 390×844 and 1280×800 (tests/output/<test>/) and no element may extend beyond
the viewport's width at either size.

The console is served by uvicorn on this test's event loop (tests/console.py), so every Selenium
call runs in a thread (``asyncio.to_thread``) while the loop keeps serving.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from PIL import Image
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from core.review_rules import ReviewState
from storage.models import Activity, Organisation
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
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album

REASON = "参与人数与签到表不符，请核对后重新提交"


def open_console(driver: WebDriver, entry_url: str) -> None:
    """Open the entry page as Telegram opens the Mini App; its script signs in and the server
    sends the browser on to the reports table."""
    driver.get(entry_url)
    wait_for(driver, lambda d: urlsplit(d.current_url).path.endswith("/reports"), "no table")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "form.reports-filters"), "form")


def filter_to(driver: WebDriver, association: str) -> list[str]:
    """Unfold the filters (folded on a phone), choose one association, apply, and return the
    rows' associations."""
    fold = driver.find_element(By.CSS_SELECTOR, "details.filters-fold")
    assert fold.get_attribute("open") is None  # folded: the reports come first on a phone
    fold.find_element(By.TAG_NAME, "summary").click()
    Select(driver.find_element(By.NAME, "org")).select_by_visible_text(association)
    driver.find_element(By.CSS_SELECTOR, "form.reports-filters button[type=submit]").click()
    wait_for(driver, lambda d: "org=" in d.current_url, "the filter did not reach the URL")
    ready = "return document.readyState === 'complete'"
    wait_for(driver, lambda d: d.execute_script(ready), "the filtered table did not load")
    cells = driver.find_elements(By.CSS_SELECTOR, "table.reports-table td.association")
    return [c.text.strip() for c in cells]


def photograph_table(driver: WebDriver) -> list[tuple[tuple[int, int], Any]]:
    """The filtered table at phone then desktop size: screenshot, overflow check, and the
    layout width the page got (its meta viewport must make a phone lay it out at 390 px)."""
    shots = []
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        set_viewport(driver, size)
        width = driver.execute_script("return document.documentElement.clientWidth")
        assert width <= size[0] and width >= size[0] - 20, (label, width)  # minus a scrollbar
        path = screenshot(driver, f"reports-{label}-{size[0]}x{size[1]}")
        assert_no_horizontal_overflow(driver)
        shots.append((size, path))
    set_viewport(driver, PHONE)
    return shots


def open_report_and_photo(driver: WebDriver, name: str) -> tuple[list[int], list[int], str]:
    """Open the report named ``name`` from the table; wait for its first thumbnail (lazy: it is
    scrolled into view) and then its full-size photo. Returns both natural sizes and the
    report page's URL."""
    driver.find_element(By.LINK_TEXT, name).click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".thumbs img"), "no thumbnail")
    report_url = driver.current_url
    thumb = driver.find_element(By.CSS_SELECTOR, ".thumbs img")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", thumb)
    loaded = (
        "const i = arguments[0];"
        "return i.complete && i.naturalWidth > 0 && [i.naturalWidth, i.naturalHeight];"
    )
    thumb_size = wait_for(
        driver, lambda d: d.execute_script(loaded, thumb), "the thumbnail did not load"
    )
    assert_no_horizontal_overflow(driver)
    # Tapping the thumbnail opens the viewer (a CSS :target overlay) with the whole photo.
    driver.find_element(By.CSS_SELECTOR, ".thumbs a").click()
    shown = wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".viewer:target img"), "no viewer"
    )
    full = wait_for(driver, lambda d: d.execute_script(loaded, shown[0]), "the photo did not load")
    assert_no_horizontal_overflow(driver)
    full_href = driver.find_element(By.CSS_SELECTOR, ".viewer:target a.viewer-original")
    href = full_href.get_attribute("href")
    assert href
    driver.get(href)  # 原图: Chromium shows an image document, one <img> of the same photo
    original = wait_for(driver, lambda d: d.find_elements(By.TAG_NAME, "img"), "no original")
    full_size = wait_for(
        driver, lambda d: d.execute_script(loaded, original[0]), "the original did not load"
    )
    assert list(full) == list(full_size), (full, full_size)
    driver.get(report_url)
    return list(thumb_size), list(full_size), report_url


def return_with_reason(driver: WebDriver, reason: str) -> str:
    """Type the reason under 退回, press it, and return the notice the next page shows."""
    box = driver.find_element(By.ID, "reason")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.send_keys(reason)
    driver.find_element(By.CSS_SELECTOR, "form.return button[type=submit]").click()
    notice = wait_for(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".card.notice"), "no notice after 退回"
    )
    return str(notice[0].text)


async def test_an_admin_filters_opens_sees_the_photo_and_returns_in_chromium(
    kexie: Kexie,
    browser: WebDriver,  # noqa: F811
) -> None:
    optics = await kexie.org("锦江光电科技科协", district="锦江区")
    bio = await kexie.org("锦江生物医药产业科协", district="锦江区")
    reporter = await kexie.member(7101, "reporter", org=optics, first_name="王芳")
    other = await kexie.member(7102, "reporter", org=bio, first_name="李雷")
    await kexie.member(7201, "district_admin", district="锦江区", first_name="陈静")
    # Through the chat, as reporters do: each report with an album of two photos and a PDF.
    await submit_report_with_album(reporter, "光电产业技术交流会")
    await submit_report_with_album(other, "生物医药科普开放日")
    async with kexie.session() as session:
        ours = await session.scalar(select(Activity).where(Activity.org_id == optics))
        assert ours is not None and ours.review_state == ReviewState.PENDING
        ref, ours_id = ours.ref_no, ours.id
        optics_name = (await session.get(Organisation, optics)).name  # type: ignore[union-attr]
    assert ref

    async with console_server(kexie) as base:
        # Telegram opens the Mini App with initData in the fragment, beside its own fields.
        fragment = (
            f"tgWebAppData={quote(init_data(7201, '陈静'), safe='')}"
            "&tgWebAppVersion=8.0&tgWebAppPlatform=android"
        )
        await in_thread(open_console, browser, f"{base}/#{fragment}")

        associations = await in_thread(filter_to, browser, optics_name)
        assert associations == [optics_name]
        query = parse_qs(urlsplit(browser.current_url).query)
        assert query["org"] == [str(optics)]  # the filter is kept in the URL

        for size, path in await in_thread(photograph_table, browser):
            with Image.open(path) as image:
                assert image.size == size, path

        thumb, full, report_url = await in_thread(
            open_report_and_photo, browser, "光电产业技术交流会"
        )
        assert urlsplit(report_url).path.endswith(f"/reports/{ours_id}")
        # The photo as the reporter sent it (make_jpeg's 640×480) and a real thumbnail of it,
        # not the 320×320 placeholder shown when a picture cannot be read.
        assert full == [640, 480] and thumb == [320, 240], (full, thumb)

        notice = await in_thread(return_with_reason, browser, REASON)
        assert f"已退回 {ref}" in notice

    async with kexie.session() as session:
        row = await session.get(Activity, ours_id)
        assert row is not None and row.review_state == ReviewState.RETURNED
        assert row.review_reason == REASON
        theirs = await session.scalar(select(Activity).where(Activity.org_id == bio))
        assert theirs is not None and theirs.review_state == ReviewState.PENDING

    # The reporter receives the return in chat through the stand-in, with 去修改 / 重新提交.
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=9, minutes=5))
    back = await reporter.expect_any(REASON)
    assert ref in back.text and "陈静" in back.text
    assert [b.text for row in back.buttons for b in row] == ["✏️ 去修改", "📤 重新提交"]
    assert not any(REASON in m.text for m in other.messages)
