"""End-to-end: a district admin chooses 每日汇总 in /settings; the next morning at 09:00 they
get one digest of yesterday's reports with 通过 / 退回, while the admin who kept 逐条推送 got
the card."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Activity
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album


async def test_digest_admin_gets_one_morning_message_instead_of_cards(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org)
    every = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    digest = await kexie.member(1202, "district_admin", district="锦江区", first_name="刘洋")

    await digest.send("/settings")
    panel = await digest.expect_any("报送推送方式")
    assert "逐条推送" in panel.text
    await digest.press("改为每日汇总")
    redrawn = await digest.expect_any("每日汇总（每天 9:00")
    assert "改为逐条推送" in str(redrawn.buttons)

    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        ref = (await session.scalars(select(Activity.ref_no))).one()
    assert ref

    today = local_today(kexie)
    # Tomorrow, 08:59 (quiet hours): nothing; 09:00: the card to one, the digest to the other.
    await run_scheduler_at(kexie, today + timedelta(days=1, hours=8, minutes=59))
    assert not [m for m in digest.messages if "汇总" in (m.text or "") and ref in m.text]
    await run_scheduler_at(kexie, today + timedelta(days=1, hours=9))
    await every.expect_any(f"新报送 {ref}")
    message = await digest.expect_any("的报送汇总")
    assert ref in message.text and "光电产业技术交流会" in message.text and "待审核" in message.text
    assert f"通过 {ref}" in str(message.buttons)
    assert not [m for m in digest.messages if f"新报送 {ref}" in (m.text or "")]
    await run_scheduler_at(kexie, today + timedelta(days=1, hours=10))
    assert len([m for m in digest.messages if "的报送汇总" in (m.text or "")]) == 1
