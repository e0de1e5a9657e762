"""End-to-end: /status sends its card, then the chart as a photo (a PNG a phone can read)."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

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
    photo = await admin.expect()
    assert photo.media_type == "photo", photo.describe()
    assert photo.file_bytes is not None
    image = Image.open(io.BytesIO(photo.file_bytes))
    assert image.format == "PNG" and image.width >= 1080


async def test_city_admin_gets_the_city_chart(kexie: Kexie) -> None:
    await kexie.org("锦江光电科技科协", district="锦江区")
    city = await kexie.member(1301, "city_admin")
    await city.send("/status")
    await city.expect_any("选择区（市）县")
    await city.press("锦江区")
    await city.expect_any("报送情况")
    photo = await city.expect()
    assert photo.media_type == "photo", photo.describe()


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


async def status_photo(user: FakeUser) -> BotMessage | None:
    """The chart: the next photo on its own (the report's album may arrive meanwhile)."""
    while True:
        try:
            message = await user.expect(timeout=5.0)
        except AssertionError:
            return None
        if message.media_type == "photo" and message.media_group_id is None:
            return message
