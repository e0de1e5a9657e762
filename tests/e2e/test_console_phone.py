"""Every console page on a phone (issue 20): headless Chromium visits each page at 390 × 844 in
Chinese and English, light and dark, and measures what a person holding a phone meets:

- every link, button and field is a tap target of at least 44 × 44 px (filters unfolded too);
- every text is at least 12 px and has at least 4.5:1 contrast against its real background,
  in ``prefers-color-scheme: light`` and ``dark``, and in Telegram's default light and dark
  themes (its ``--tg-theme-*`` colours set as telegram-web-app.js sets them);
- nothing extends beyond the viewport.

Each page is photographed at 390 × 844 and 1280 × 800 in both languages and schemes, into
tests/output/console/ (``<page>-<lang>-<scheme>-<phone|desktop>.png``, whole pages as
``…-phone-whole.png``, contact sheets as ``_sheet-….png``), for eyes. Two reports
carry an album each; one stands returned; the reports list shows one report a page so its pager
is measured as well.
"""

from __future__ import annotations

import base64
import functools
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from sqlalchemy import select, update

from storage import review
from storage.models import Activity, Member, Organisation
from tests.accounts import at_telegram
from tests.browser import (
    DESKTOP,
    OUTPUT,
    PHONE,
    assert_no_horizontal_overflow,
    in_thread,
    open_chromium,
    require_browser,
    screenshot,
    set_accept_language,
    set_viewport,
    wait_for,
)
from tests.console import console_server, init_data
from tests.console_checks import open_folds, set_color_scheme, small_tap_targets, text_problems
from tests.contact_sheet import sheet
from tests.harness import Kexie
from tests.journeys import submit_report_with_album

REASON = "照片与活动内容不符，请补充活动现场照片"
DISTRICT_ADMIN, CITY_ADMIN = 7401, 7402

# Telegram's own theme parameters (its default light and night themes), set on the page as
# telegram-web-app.js sets them; the phone's scheme is emulated the other way round, so the
# page must follow Telegram's colorScheme, not prefers-color-scheme.
TELEGRAM = {
    "telegram-light": (
        "light",
        {
            "bg_color": "#ffffff",
            "text_color": "#000000",
            "hint_color": "#999999",
            "link_color": "#2481cc",
            "button_color": "#2481cc",
            "button_text_color": "#ffffff",
            "secondary_bg_color": "#f1f1f1",
        },
    ),
    "telegram-dark": (
        "dark",
        {
            "bg_color": "#17212b",
            "text_color": "#f5f5f5",
            "hint_color": "#708499",
            "link_color": "#6ab3f3",
            "button_color": "#5288c1",
            "button_text_color": "#ffffff",
            "secondary_bg_color": "#232e3c",
        },
    ),
}
_TELEGRAM_JS = """
const [scheme, params] = arguments;
const root = document.documentElement;
for (const [key, value] of Object.entries(params)) {
  root.style.setProperty('--tg-theme-' + key.replaceAll('_', '-'), value);
}
root.setAttribute('data-scheme', scheme);
"""


def sign_in(driver: WebDriver, base: str, user_id: int) -> None:
    """Open the console as Telegram opens the Mini App, as ``user_id``."""
    fragment = f"tgWebAppData={quote(init_data(user_id), safe='')}&tgWebAppVersion=8.0"
    driver.get("about:blank")  # from the entry page itself, a new fragment would not reload it
    driver.get(f"{base}/#{fragment}")
    wait_for(driver, lambda d: urlsplit(d.current_url).path.endswith("/reports"), "not signed in")


def load(driver: WebDriver, url: str) -> None:
    """Open ``url`` and wait for the page, and for the photo when the viewer is open."""
    driver.get("about:blank")  # a new fragment alone would not reload the page
    driver.get(url)
    complete = "return document.readyState === 'complete'"
    wait_for(driver, lambda d: d.execute_script(complete), "the page did not load")
    if "#photo-" in url:
        shown = (
            "const i = document.querySelector('.viewer:target img');"
            "return !!i && i.complete && i.naturalWidth > 0;"
        )
        wait_for(driver, lambda d: d.execute_script(shown), "the viewer shows no photo")


def tap_the_date(driver: WebDriver) -> str:
    """Tap the first report's date (not its name) and return the path it leads to."""
    date = driver.find_element(By.CSS_SELECTOR, "table.reports-table td.date")
    # A pointer tap at the date's place (a WebElement click would refuse: the stretched link
    # lies over the date, which is the point).
    ActionChains(driver).move_to_element(date).click().perform()
    wait_for(driver, lambda d: "/reports/" in urlsplit(d.current_url).path, "the card led nowhere")
    return urlsplit(driver.current_url).path


def card_and_filters(driver: WebDriver, base: str) -> tuple[list[str], bool, bool]:
    """On the reports page: whether the filters are folded on a phone and open on a desktop,
    and where a tap on the card's (the row's) date leads, at both sizes."""
    fold = "return document.querySelector('details.filters-fold').open"
    set_viewport(driver, DESKTOP)
    load(driver, f"{base}/reports")
    open_on_desktop = bool(driver.execute_script(fold))
    paths = [tap_the_date(driver)]
    set_viewport(driver, PHONE)
    load(driver, f"{base}/reports")
    open_on_phone = bool(driver.execute_script(fold))
    paths.append(tap_the_date(driver))
    return paths, open_on_phone, open_on_desktop


def start_export(driver: WebDriver, base: str) -> str:
    """Start the default export from the form; the run page's URL once its files are listed."""
    load(driver, f"{base}/export")
    driver.find_element(By.CSS_SELECTOR, "form.export-form button[type=submit]").click()
    done = 'section[data-status="done"]'
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, done), "the export never ended")
    return str(driver.current_url)


def whole_page(driver: WebDriver, name: str) -> None:
    """Photograph the whole page at its width (not only the first screen), as ``<name>.png``
    beside the other screenshots."""
    width, height = driver.execute_script(
        "const e = document.documentElement; return [e.clientWidth, e.scrollHeight];"
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 8000), "scale": 1},
        },
    )
    (OUTPUT / "console" / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def survey(
    driver: WebDriver, pages: dict[str, str], lang: str, scheme: str, problems: list[str]
) -> None:
    """Visit each page at phone size (measure, photograph) and at desktop size (photograph).
    ``scheme``: light, dark, or one of :data:`TELEGRAM` (phone only)."""
    telegram = TELEGRAM.get(scheme)
    if telegram is not None:
        set_color_scheme(driver, "dark" if telegram[0] == "light" else "light")
    else:
        set_color_scheme(driver, scheme)
    for name, url in pages.items():
        set_viewport(driver, PHONE)
        load(driver, url)
        if telegram is not None:
            driver.execute_script(_TELEGRAM_JS, *telegram)
        where = f"{name} ({lang}, {scheme})"
        shown = driver.find_element("tag name", "html").get_attribute("lang") or ""
        if shown != ("zh-CN" if lang == "zh" else "en"):
            problems.append(f"{where}: the page is in {shown!r}")
        low, tiny = text_problems(driver)
        problems += [f"{where}: contrast {line}" for line in low]
        problems += [f"{where}: small text {line}" for line in tiny]
        problems += [f"{where}: tap target {line}" for line in small_tap_targets(driver)]
        try:
            assert_no_horizontal_overflow(driver)
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
        screenshot(driver, f"{name}-{lang}-{scheme}-phone")
        if "#" not in url:  # the viewer is fixed to the screen: the screenshot is the whole
            whole_page(driver, f"{name}-{lang}-{scheme}-phone-whole")
        if open_folds(driver):
            problems += [f"{where}, unfolded: tap target {t}" for t in small_tap_targets(driver)]
            low, _tiny = text_problems(driver)
            problems += [f"{where}, unfolded: contrast {line}" for line in low]
            driver.execute_script("window.scrollTo(0, 0)")
            screenshot(driver, f"{name}-{lang}-{scheme}-phone-unfolded")
        if telegram is not None:
            continue
        set_viewport(driver, DESKTOP)
        load(driver, url)
        screenshot(driver, f"{name}-{lang}-{scheme}-desktop")


def contact_sheet(folder: Path, pattern: str, name: str, columns: int = 8) -> Path:
    """The screenshots matching ``pattern`` on one sheet as ``<name>.png``, in rows of
    ``columns`` (tests/contact_sheet.py; for the issue's closing note)."""
    shots = sorted(folder.glob(pattern))
    assert shots, pattern
    target = folder / f"{name}.png"
    sheet(shots, folder, name, columns).save(target)
    return target


async def set_language(kexie: Kexie, lang: str) -> None:
    """Both admins read the console in ``lang`` (their /settings choice)."""
    async with kexie.session() as session:
        await session.execute(update(Member).values(language=lang))


async def world(kexie: Kexie) -> dict[str, int]:
    """Two associations of 锦江区, a report with an album from each (one returned), and a
    district and a city admin."""
    optics = await kexie.org("成都市锦江区光电信息产业技术创新联盟科学技术协会", district="锦江区")
    bio = await kexie.org("锦江生物医药产业科协", district="锦江区")
    first = await kexie.member(7411, "reporter", org=optics, first_name="王芳")
    second = await kexie.member(7412, "reporter", org=bio, first_name="李雷")
    await kexie.member(DISTRICT_ADMIN, "district_admin", district="锦江区", first_name="陈静")
    await kexie.member(CITY_ADMIN, "city_admin", first_name="赵敏")
    await submit_report_with_album(first, "光电产业技术交流会暨成果转化对接活动")
    await submit_report_with_album(second, "生物医药科普开放日")
    async with kexie.session() as session:
        pending = await session.scalar(select(Activity).where(Activity.org_id == optics))
        returned = await session.scalar(select(Activity).where(Activity.org_id == bio))
        admin = await session.scalar(select(Member).where(at_telegram(DISTRICT_ADMIN)))
        assert pending is not None and returned is not None and admin is not None
        decided = await review.return_report(session, returned, admin.id, REASON)
        assert decided.done
        org = await session.get(Organisation, optics)
        assert org is not None
        return {"pending": pending.id, "returned": returned.id, "org": org.id}


async def test_every_console_page_fits_a_phone_in_both_languages_and_schemes(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_browser()
    # One report a page: the pager (上一页 / 下一页) is on the page and measured too.
    import web.reports

    monkeypatch.setattr(
        web.reports, "report_page", functools.partial(web.reports.report_page, size=1)
    )
    ids = await world(kexie)
    folder = OUTPUT / "console"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    problems: list[str] = []
    async with console_server(kexie) as base:
        with open_chromium(kexie.data_dir / "chromium-profile", PHONE, folder) as driver:
            # The way in, before a session exists (no initData: the page says where to go), in
            # the language the browser asks for.
            for lang in ("en", "zh"):
                await in_thread(set_accept_language, driver, lang)
                for scheme in ("light", "dark"):
                    await in_thread(survey, driver, {"entry": f"{base}/"}, lang, scheme, problems)
            await in_thread(sign_in, driver, base, DISTRICT_ADMIN)
            opened, folded_open, desktop_open = await in_thread(card_and_filters, driver, base)
            # Newest first, one a page: the returned report (submitted second) heads the list.
            assert opened == [f"/console/reports/{ids['returned']}"] * 2, opened
            assert not folded_open and desktop_open
            run = await in_thread(start_export, driver, base)
            district_pages = {
                "reports": f"{base}/reports",
                "reports-page-2": f"{base}/reports?page=2",
                "reports-filtered": f"{base}/reports?state=pending&q=%E5%85%89%E7%94%B5",
                "report-pending": f"{base}/reports/{ids['pending']}",
                "report-returned": f"{base}/reports/{ids['returned']}",
                "report-viewer": f"{base}/reports/{ids['pending']}#photo-1",
                "associations": f"{base}/associations",
                "association": f"{base}/associations/{ids['org']}",
                "overview": f"{base}/overview",
                "export": f"{base}/export",
                "export-run": run,
                "error-404": f"{base}/reports/999999",
            }
            city_pages = {
                "city-overview": f"{base}/overview",
                "city-associations": f"{base}/associations",
                "city-reports": f"{base}/reports",
            }
            for lang in ("zh", "en"):
                await set_language(kexie, lang)
                await in_thread(set_accept_language, driver, lang)
                await in_thread(sign_in, driver, base, DISTRICT_ADMIN)
                for scheme in ("light", "dark", *TELEGRAM):
                    await in_thread(survey, driver, district_pages, lang, scheme, problems)
                await in_thread(sign_in, driver, base, CITY_ADMIN)
                for scheme in ("light", "dark"):
                    await in_thread(survey, driver, city_pages, lang, scheme, problems)
    shots = sorted(folder.glob("*.png"))
    assert len(shots) >= 2 * 2 * 2 * (len(district_pages) + len(city_pages)), len(shots)
    for lang in ("zh", "en"):
        for scheme in ("light", "dark"):
            for size in ("phone", "desktop"):
                contact_sheet(
                    folder,
                    f"*-{lang}-{scheme}-{size}.png",
                    f"_sheet-{size}-{lang}-{scheme}",
                    columns=8 if size == "phone" else 4,
                )
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
