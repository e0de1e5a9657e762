"""End-to-end: /status sends its card, then the chart of the same district as a photo (a PNG a
phone can read, captioned with what it shows); a city admin may pick 全市 for the city's chart."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from core.texts import plain
from scheduler.charts import MAX_ASPECT, WIDTH_PX
from storage.models import utcnow
from tests.harness import Kexie
from tests.journeys import submit_report_with_album
from tests.standin import BotMessage, FakeUser


async def test_status_sends_the_card_then_the_chart(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org)
    admin = await kexie.member(1201, "district_admin", district="锦江区")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    await admin.send("/status")
    await admin.expect_any("报送情况")
    photo = await status_photo(admin)
    assert photo is not None and photo.file_bytes is not None
    image = Image.open(io.BytesIO(photo.file_bytes))
    # Sized for a phone: opened at a 390 CSS px screen's width, 20 px labels are 12 CSS px.
    assert image.format == "PNG" and image.width == WIDTH_PX
    assert image.height <= image.width * MAX_ASPECT
    assert photo.text == f"锦江区 · {year(kexie)}年：已报送 1 项，其中逾期 0 项"


async def test_city_admin_gets_the_chart_of_what_was_picked(kexie: Kexie) -> None:
    """Issue 20: a city admin who picked 锦江区 got 锦江区's card with the whole city's chart,
    and had no way to ask for the city's."""
    jinjiang = await kexie.org("锦江光电科技科协", district="锦江区")
    qingyang = await kexie.org("青羊航空科协", district="青羊区")
    for uid, org, name in ((1101, jinjiang, "光电产业技术交流会"), (1102, qingyang, "航空沙龙")):
        reporter = await kexie.member(uid, "reporter", org=org)
        await submit_report_with_album(reporter, name)
    city = await kexie.member(1301, "city_admin")
    city.drain()
    await city.send("/status")
    picker = await city.expect_any("选择区（市）县")
    assert picker.button_texts[0] == "全市"
    assert {"锦江区", "青羊区"} <= set(picker.button_texts)
    this_year = year(kexie)

    await city.press("锦江区")
    await city.expect_any("锦江区 · ")  # the card
    district_chart = await status_photo(city)
    assert district_chart is not None
    assert district_chart.text == f"锦江区 · {this_year}年：已报送 1 项，其中逾期 0 项"

    await city.send("/status")
    await city.expect_any("选择区（市）县")
    await city.press("全市")
    city_chart = await status_photo(city)
    assert city_chart is not None
    assert city_chart.text == f"成都市 · {this_year}年：已报送 2 项，其中逾期 0 项"
    assert city_chart.file_bytes != district_chart.file_bytes
    # 全市 is the chart alone: no district's card comes with it.
    assert [m.text for m in city.drain() if "报送情况" in m.text] == []


async def test_the_city_button_is_refused_to_a_district_admin(kexie: Kexie) -> None:
    """全市 (sts:open:0) is a city admin's: forged by a district admin it reveals nothing."""
    await kexie.org("锦江光电科技科协", district="锦江区")
    admin = await kexie.member(1201, "district_admin", district="锦江区")
    await admin.send("/status")
    await admin.expect_any("报送情况")
    await status_photo(admin)
    await admin.press_data("sts:open:0")
    answer = await admin.expect_answer()
    assert answer.text == plain("zh", "reg_denied")
    assert await status_photo(admin, timeout=1.0) is None


async def test_an_admin_of_a_district_without_reports_is_told_so(kexie: Kexie) -> None:
    await kexie.org("青羊航空科协", district="青羊区")
    admin = await kexie.member(1202, "district_admin", district="青羊区")
    await admin.send("/status")
    await admin.expect_any("报送情况")
    chart = await status_photo(admin)
    assert chart is not None
    assert chart.text == f"青羊区 · {year(kexie)}年：已报送 0 项，其中逾期 0 项"


def year(kexie: Kexie) -> int:
    """The statistical year /status shows on the suite's clock."""
    return kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())


async def test_a_dollar_pair_in_a_name_does_not_cost_the_chart(
    kexie: Kexie, caplog: pytest.LogCaptureFixture
) -> None:
    """matplotlib reads ``$…$`` as math text: the chart failed and /status went without it."""
    org = await kexie.org("光电$$科协$x^2$", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org)
    admin = await kexie.member(1201, "district_admin", district="锦江区")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    await admin.expect_any("新报送")  # the report's own card, sent on submit
    with caplog.at_level(logging.WARNING, logger="handlers"):
        await admin.send("/status")
        await admin.expect_any("报送情况")
        chart = await status_photo(admin)
    assert [r.getMessage() for r in caplog.records if "chart" in r.getMessage()] == []
    assert chart is not None
    assert Image.open(io.BytesIO(chart.file_bytes or b"")).format == "PNG"


async def status_photo(user: FakeUser, timeout: float = 5.0) -> BotMessage | None:
    """The chart: the next photo on its own (the report's album may arrive meanwhile)."""
    while True:
        try:
            message = await user.expect(timeout=timeout)
        except AssertionError:
            return None
        if message.media_type == "photo" and message.media_group_id is None:
            return message
