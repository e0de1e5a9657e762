"""The real-browser harness (tests/browser.py) checked against a small local page: Chromium
loads an image, the overflow check names an element wider than the viewport and passes a page
that fits, screenshots have the viewport's exact pixel size, and a missing Chromium skips the
test only when the run does not demand a browser."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image
from selenium.webdriver.chrome.webdriver import WebDriver

import tests.browser as browser_module
from tests.browser import (
    DESKTOP,
    PHONE,
    assert_no_horizontal_overflow,
    browser,  # noqa: F401  (the fixture)
    require_browser,
    screenshot,
    set_viewport,
)


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


_HEAD = (
    '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>测试</title><style>body{margin:0;font-family:sans-serif}</style></head>"
)
PAGES: dict[str, tuple[str, bytes]] = {
    "/fits": (
        "text/html; charset=utf-8",
        (
            _HEAD + "<body><h1>报表</h1><p>一段可以换行的中文文字，在手机上也能读。</p>"
            '<img id="photo" src="/photo.png" alt="照片" style="max-width:100%">'
            "</body></html>"
        ).encode(),
    ),
    "/wide": (
        "text/html; charset=utf-8",
        (
            _HEAD + "<body><h1>报表</h1>"
            '<div id="too-wide" class="table" style="width:2000px">太宽的表格</div>'
            "</body></html>"
        ).encode(),
    ),
    "/photo.png": ("image/png", _png(40, 30)),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = PAGES.get(self.path)
        if page is None:
            self.send_error(404)
            return
        kind, body = page
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output to the test's own lines


@pytest.fixture
def site() -> Iterator[str]:
    """The pages above on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_image_overflow_and_screenshots(browser: WebDriver, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/fits")
    loaded = browser.execute_script(
        "const i = document.getElementById('photo'); return [i.complete, i.naturalWidth];"
    )
    assert loaded == [True, 40]
    assert browser.execute_script("return document.documentElement.clientWidth") == PHONE[0]
    assert_no_horizontal_overflow(browser)
    phone_png = screenshot(browser, "fits-390x844")

    set_viewport(browser, DESKTOP)
    browser.get(f"{site}/fits")
    assert_no_horizontal_overflow(browser)
    desktop_png = screenshot(browser, "fits-1280x800")

    with Image.open(phone_png) as image:
        assert image.size == PHONE
    with Image.open(desktop_png) as image:
        assert image.size == DESKTOP
    assert phone_png.parent.name.startswith("test_image_overflow_and_screenshots")
    assert phone_png.parent.parent == browser_module.OUTPUT

    for size in (PHONE, DESKTOP):
        set_viewport(browser, size)
        browser.get(f"{site}/wide")
        with pytest.raises(AssertionError, match=r"div#too-wide\.table: right edge 2000 px"):
            assert_no_horizontal_overflow(browser)


def test_missing_browser_skips_unless_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser_module, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("KEXIE_TEST_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium not installed"):
        require_browser()
    monkeypatch.setenv("KEXIE_TEST_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="KEXIE_TEST_REQUIRE_BROWSER is set"):
        require_browser()
