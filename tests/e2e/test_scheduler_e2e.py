"""End-to-end: the scheduler inside the real application, against the Bot API stand-in.

The app's tick runs once a minute on the real clock; here the test gives the installed
scheduler and sender a :class:`ManualClock` (daytime, a chosen day) and calls one tick and one
drain, so what arrives is deterministic. Users then press the buttons of what arrived.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from core.calendar import next_working_day
from core.enums import ActivityStatus
from handlers.report.evidence import ALBUM_ACK
from scheduler import outbox
from scheduler.jobs import Scheduler
from scheduler.sender import Sender
from storage.models import Activity, Member, OutboxMessage, Plan
from tests.accounts import at_telegram
from tests.days import EDGE_DAYS
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album
from tests.standin import BotMessage
from tests.steps import step_label


async def outbox_keys(kexie: Kexie, *, sent: bool = False, within: float = 15.0) -> list[str]:
    """The outbox's keys, oldest first; with ``sent``, once every row is sent (waits for the
    app's running sender up to ``within`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with kexie.session() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage.key, OutboxMessage.status)
                    .where(OutboxMessage.kind != ALBUM_ACK)
                    .order_by(OutboxMessage.id)
                )
            ).all()
        if not sent or all(status == outbox.SENT for _key, status in rows):
            return [key for key, _status in rows]
        assert loop.time() < deadline, rows
        await asyncio.sleep(0.1)


def album_of(messages: list[BotMessage]) -> list[BotMessage]:
    return [m for m in messages if m.media_group_id is not None]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_delivery_card_and_album_reach_every_district_admin(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admins = [
        await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静"),
        await kexie.member(1202, "district_admin", district="锦江区", first_name="刘洋"),
    ]
    elsewhere = await kexie.member(1203, "district_admin", district="武侯区", first_name="周杰")
    city = await kexie.member(1301, "city_admin", first_name="孙丽")
    silent_city = await kexie.member(1302, "city_admin", first_name="吴昊")
    async with kexie.session() as session:
        row = await session.scalar(select(Member).where(at_telegram(1301)))
        assert row is not None
        row.city_delivery_opt_in = True

    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.status == ActivityStatus.SUBMITTED
        ref = activity.ref_no
    assert ref

    # Card, photo album and the sign-in sheet, for two district admins and one city admin:
    # queued by the submit itself, in its transaction (issue 10), before any tick.
    queued = await outbox_keys(kexie)
    assert len(queued) == 9 and all(key.startswith("report_submitted:") for key in queued)
    tomorrow_morning = local_today(kexie) + timedelta(days=1, hours=9)
    enqueued, _sent = await run_scheduler_at(kexie, tomorrow_morning)
    assert enqueued == 0  # the tick finds them queued
    # Sent by this drain or by the app's running sender (woken by the submit), each once.
    assert await outbox_keys(kexie, sent=True) == queued
    for admin in [*admins, city]:
        card = await admin.expect_any(f"新报送 {ref}")
        for part in (
            "锦江区",
            "锦江光电科技科协",
            "光电产业技术交流会",
            "主办",
            "40人",
            "2 张照片",
        ):
            assert part in card.text, part
        assert "按时" in card.text
        photos = album_of(admin.messages)
        assert len(photos) == 2 and photos[0].media_group_id == photos[1].media_group_id
        assert ref in (photos[0].caption or "")
        assert photos[0].message_id > card.message_id  # the album follows its card
        sheet = [m for m in admin.messages if m.file_name == "签到表.pdf"]
        assert len(sheet) == 1 and sheet[0].message_id > photos[1].message_id
    assert not any("新报送" in m.text for m in elsewhere.messages + silent_city.messages)

    # Another tick (or a restarted process) finds nothing new to send.
    assert await run_scheduler_at(kexie, tomorrow_morning + timedelta(minutes=1)) == (0, 0)


async def test_draft_reminder_continue_button_resumes_the_report(kexie: Kexie) -> None:
    org = await kexie.org("青羊文创科协", district="青羊区")
    user = await kexie.member(1401, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send("文创产品设计沙龙")
    await user.expect_any(step_label("content"))
    await user.send("/cancel")
    await user.expect_any("要放弃正在填写的报送吗")
    await user.press("保留草稿")
    await user.expect_any("草稿已保存")

    # Yesterday's activity: its window's last day is the day after tomorrow.
    last_day_morning = local_today(kexie) + timedelta(days=2, hours=9)
    assert await run_scheduler_at(kexie, last_day_morning) == (1, 1)
    reminder = await user.expect_any("还没有提交")
    assert "文创产品设计沙龙" in reminder.text
    await user.press("继续", reminder)
    await user.expect_any(step_label("content"))
    await user.send("设计师与企业面对面交流。")
    await user.expect_any(step_label("role"))


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
async def test_plan_then_one_tap_report_with_name_and_date(kexie: Kexie, today: date) -> None:
    org = await kexie.org("高新区软件园科协", district="成都高新区")
    user = await kexie.member(1501, "reporter", org=org)
    await user.send("/plan")
    await user.expect_any("活动名称")
    await user.send("软件测试技术分享会")
    await user.expect_any("计划哪天")
    await user.press("今天")
    await user.expect_any("已登记")
    async with kexie.session() as session:
        plan = await session.scalar(select(Plan))
        assert plan is not None and plan.name == "软件测试技术分享会"

    # The question is asked the next working day (core.calendar), at 9:00.
    asked_on = next_working_day(local_today(kexie).date() + timedelta(days=1))
    morning = datetime.combine(asked_on, time(9, 0), tzinfo=kexie.settings.tz)
    assert await run_scheduler_at(kexie, morning) == (1, 1)
    # "举办了吗" — or, when the next working day is the window's last (after New Year's day),
    # "today is the last day": both offer the one-tap report.
    asked = await user.expect_any("软件测试技术分享会")
    assert "📝 报送这项活动" in asked.button_texts
    await user.press("报送这项活动", asked)
    await user.expect_any("已为您填好")
    await user.expect_any(step_label("content"))
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None
        assert activity.plan_id == plan.id
        assert activity.name == "软件测试技术分享会"
        assert activity.activity_date == plan.planned_date


async def test_settings_mute_nudges_and_switch_language(kexie: Kexie) -> None:
    org = await kexie.org("金牛物流科技科协", district="金牛区")
    admin = await kexie.member(1601, "org_admin", org=org)
    await admin.send("/settings")
    panel = await admin.expect_any("提醒与语言设置")
    assert "长期未报送提醒：开" in panel.text
    await admin.press("关闭未报送提醒")
    edited = await admin.expect_any("长期未报送提醒：关")
    assert edited.edited
    await admin.press("English")
    await admin.expect_any("Reminders and language")
    async with kexie.session() as session:
        member = await session.scalar(select(Member).where(at_telegram(1601)))
        assert member is not None
        assert member.mute_nudges is True and member.language == "en"


async def test_install_puts_the_tick_and_the_sender_on_the_job_queue(kexie: Kexie) -> None:
    assert kexie.app is not None and kexie.app.job_queue is not None
    tick = kexie.app.job_queue.get_jobs_by_name("scheduler:tick")
    send = kexie.app.job_queue.get_jobs_by_name("scheduler:send")
    assert len(tick) == 1 and len(send) == 1
    assert isinstance(kexie.app.bot_data["scheduler"], Scheduler)
    assert isinstance(kexie.app.bot_data["sender"], Sender)


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
async def test_deadline_reminder_counts_and_export_button(kexie: Kexie, today: date) -> None:
    org = await kexie.org("双流航空科技科协", district="双流区")
    admin = await kexie.member(1701, "district_admin", district="双流区", first_name="何敏")
    reporter = await kexie.member(1702, "reporter", org=org)
    await submit_report_with_album(reporter, "航空材料技术讲座")
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=9))  # delivered
    await admin.expect_any("航空材料技术讲座")
    years = kexie.settings.years  # the report's (yesterday's) statistical year
    year = years.year_of((local_today(kexie) - timedelta(days=1)).date())
    seven_days_before = datetime.combine(
        years.deadline(year) - timedelta(days=7), time(9, 0), tzinfo=kexie.settings.tz
    )
    enqueued, sent = await run_scheduler_at(kexie, seven_days_before)
    assert enqueued >= 1 and sent >= 1  # with the deadline's, maybe a review reminder
    async with kexie.session() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {outbox.SENT}
    reminder = await admin.expect_any("还有 7 天")
    assert "双流区" in reminder.text and "已报送活动 1 项" in reminder.text
    await admin.press("导出", reminder)
    await admin.expect_any("导出统计表")
