"""End-to-end: /chase (催报) through the stand-in. A district admin sees the silent association
first, presses 提醒, its reporter receives the nudge once; a second press the same day is
refused with the time of the first; the city's other districts and other roles see nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.rules import format_datetime
from storage.chase import CHASE_KIND
from storage.models import OutboxMessage
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album, toast


async def test_chase_lists_the_silent_association_and_nudges_it_once(kexie: Kexie) -> None:
    active = await kexie.org("锦江光电科技科协", district="锦江区")
    silent = await kexie.org("锦江安静材料科协", district="锦江区")
    busy = await kexie.member(1101, "reporter", org=active, first_name="王芳")
    quiet = await kexie.member(1102, "reporter", org=silent, first_name="李强")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    await submit_report_with_album(busy, "光电产业技术交流会")

    await admin.send("/chase")
    listing = await admin.expect_any("锦江区 · 催报")
    # Never reported first, then the one that reported yesterday.
    assert listing.text.index("锦江安静材料科协") < listing.text.index("锦江光电科技科协")
    assert "从未报送" in listing.text and "1 天前" in listing.text
    assert "登记信息已填" in listing.text
    # Issue 20: the name once (in its line), and no 提醒 for the one that reported yesterday.
    assert listing.button_texts[0] == "提醒 1" and "提醒 2" not in listing.button_texts
    assert not any("锦江" in label for label in listing.button_texts)

    answer = await toast(admin, "提醒 1")
    assert "已提醒 锦江安静材料科协 的 1 人" in answer

    # The nudge is an outbox row: held during quiet hours (02:00), sent in the daytime.
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=2))
    assert not [m for m in quiet.messages if "锦江区科协提醒" in (m.text or "")]
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=10))
    nudge = await quiet.expect_any("锦江区科协提醒")
    assert "锦江安静材料科协" in nudge.text
    async with kexie.session() as session:
        rows = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == CHASE_KIND))
        ).all()
    assert [(r.member_id is not None, r.status) for r in rows] == [(True, "sent")]
    first = format_datetime(rows[0].created_at, kexie.settings.tz)

    # A second press the same day: refused, with the moment of the first; nothing queued.
    again = await toast(admin, "提醒 1")
    assert "已于" in again and first in again
    async with kexie.session() as session:
        count = len(
            (
                await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == CHASE_KIND))
            ).all()
        )
    assert count == 1
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=11))
    assert [m for m in quiet.messages if "锦江区科协提醒" in (m.text or "")] == [nudge]


async def test_chase_all_confirms_with_the_number_of_people(kexie: Kexie) -> None:
    silent = await kexie.org("锦江安静材料科协", district="锦江区")
    await kexie.member(1102, "reporter", org=silent)
    await kexie.member(1103, "org_admin", org=silent)
    admin = await kexie.member(1201, "district_admin", district="锦江区")
    await admin.send("/chase")
    await admin.expect_any("锦江区 · 催报")
    await admin.press("全部提醒")
    confirm = await admin.expect_any("确定发送吗")
    assert "1 个" in confirm.text and "共 2 人" in confirm.text
    await admin.press("确定发送")
    await admin.expect_any("已提醒 1 个科协，共 2 人")


async def test_chase_is_for_district_and_city_admins_only(kexie: Kexie) -> None:
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    reporter = await kexie.member(1102, "reporter", org=org)
    await reporter.send("/chase")
    await reporter.expect("管理员")
    other = await kexie.member(1301, "district_admin", district="武侯区")
    # A forged press on another district's association reveals nothing and queues nothing.
    answer = await toast(other, data=f"chase:nudge:{org}")
    assert "锦江" not in answer
    async with kexie.session() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert rows == []


async def test_chase_fits_a_phone_screen_a_page_at_a_time(kexie: Kexie) -> None:
    # Issue 20: 20 associations were two screens; now eight a page, with 上一页 / 下一页.
    for i in range(20):
        await kexie.org(f"成都锦江第{i + 1:02d}智能制造科技有限公司科协", district="锦江区")
    admin = await kexie.member(1301, "district_admin", district="锦江区", first_name="陈静")
    await admin.send("/chase")
    first = await admin.expect_any("锦江区 · 催报")
    assert "第 1/3 页" in first.text and "\n8. " in first.text and "\n9. " not in first.text
    assert first.button_texts[:8] == [f"提醒 {n}" for n in range(1, 9)]
    assert "下一页 ▶" in first.button_texts and "◀ 上一页" not in first.button_texts
    await admin.press("下一页")
    second = await admin.expect_any("第 2/3 页")
    assert second.message_id == first.message_id  # turned in place
    assert "\n9. " in second.text and "\n1. " not in second.text
    assert second.button_texts[:8] == [f"提醒 {n}" for n in range(9, 17)]
    assert "◀ 上一页" in second.button_texts
