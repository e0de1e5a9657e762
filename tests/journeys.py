"""Journeys shared by the end-to-end tests: a user answering the report flow, a scheduler tick at
a chosen moment, the one report in the database. Tests import these from here, never from each
other."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus, OrgKind
from core.review_rules import ReviewState
from core.rules import reference_number
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.jobs import Scheduler
from scheduler.sender import Sender
from storage import reports
from storage.models import Activity, Member, OutboxMessage, utcnow
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member
from tests.harness import Kexie
from tests.standin import FakeUser, make_jpeg
from tests.steps import answer_questions


def local_today(kexie: Kexie) -> datetime:
    """Today's local midnight."""
    today = utcnow().astimezone(kexie.settings.tz).date()
    return datetime.combine(today, datetime.min.time(), tzinfo=kexie.settings.tz)


async def run_scheduler_at(kexie: Kexie, moment: datetime) -> tuple[int, int]:
    """One tick and one drain of the app's own scheduler and sender, at ``moment``: the rows
    queued and the rows sent meanwhile.

    The app's own sender loop may be draining too (a submit wakes it), and whichever drain
    claims a row sends it; so the rows sent are counted in the outbox, after every claimed row
    has settled, not from this drain's statistics (which would read 0 when the loop won)."""
    assert kexie.app is not None
    scheduler: Scheduler = kexie.app.bot_data["scheduler"]
    sender: Sender = kexie.app.bot_data["sender"]
    clock = ManualClock(moment)
    scheduler.clock = clock
    sender.clock = clock
    sent_before = await _outbox_count(kexie, outbox.SENT)
    result = await scheduler.tick()
    await sender.drain(wait_retries=3)
    for _ in range(200):  # another drain's claimed rows: at most ~10 s under load
        if not await _outbox_count(kexie, outbox.SENDING):
            break
        await asyncio.sleep(0.05)
    return result.enqueued, await _outbox_count(kexie, outbox.SENT) - sent_before


async def _outbox_count(kexie: Kexie, status: str) -> int:
    async with kexie.session() as session:
        query = select(func.count()).select_from(OutboxMessage)
        return int(await session.scalar(query.where(OutboxMessage.status == status)) or 0)


async def submit_report_with_album(user: FakeUser, name: str) -> None:
    """The whole /report flow for yesterday's activity, with an album of two photos."""
    await user.send("/report")
    await answer_questions(
        user,
        {
            "name": name,
            "content": "面向园区企业的技术交流。",
            "headcount": "40人",
            "outcome": "8家企业提出合作需求。",
        },
    )
    await user.send_album([make_jpeg(seed=11), make_jpeg(seed=12)])
    await user.expect_any("已收到 2 个文件")
    await user.send_document(file_name="签到表.pdf")
    await user.expect_any("现有佐证材料 3 个")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.press("提交")
    await user.expect_any("🎉 已提交")


async def submit_report_with_photos_and_pdf(user: Any, name: str) -> None:
    """The whole report on any channel: the questions, two photos sent one by one and a PDF,
    the card, 提交 (``user``: Telegram's FakeUser or DingTalk's DingTalkUser)."""
    await user.send("/report")
    await answer_questions(
        user, {"name": name, "headcount": "40人", "outcome": "8家企业提出合作需求。"}
    )
    await user.send_photo(make_jpeg(seed=31))
    await user.expect_any("已收到")
    await user.send_photo(make_jpeg(seed=32))
    await user.send_document(PDF, file_name="签到表.pdf")
    await user.expect_any("现有佐证材料 3 个")
    await user.press("完成")
    await user.expect_any("请核对报送内容")
    await user.press("提交")
    await user.expect_any("🎉 已提交")


#: A sign-in sheet as a PDF file.
PDF = b"%PDF-1.4\n% sign-in sheet\n%%EOF\n"


async def make_invite(admin: Any, org_name: str) -> Any:
    """/invite by its buttons: a reporter's invite to ``org_name``, 5 uses, 7 days; the message
    with the link (the QR code follows it)."""
    await admin.send("/invite")
    await admin.expect_any("为哪个科协生成邀请链接")
    await admin.press(org_name)
    await admin.expect_any("邀请什么身份")
    await admin.press("报送员")
    await admin.expect_any("可以用几次")
    await admin.press("5次")
    await admin.expect_any("有效几天")
    await admin.press("7天")
    return await admin.expect_any("邀请链接")


async def reporter(
    kexie: Kexie, user_id: int = 3001, org_name: str = "蓉城电子科技有限公司科协"
) -> FakeUser:
    org = await kexie.org(org_name)
    return await kexie.member(user_id, "reporter", org=org)


async def complete_and_open_card(user: FakeUser, **kw: str) -> None:
    await answer_until_evidence(user, **kw)
    await user.send_photo()
    await user.expect_any("已收到")
    await user.press("完成")
    await user.expect_any("请核对报送内容")


async def toast(
    user: FakeUser,
    text: str | None = None,
    *,
    data: str | None = None,
    message_id: int | None = None,
) -> str:
    """Press a button (by label, or forged data) and return the toast the bot answered with."""
    user._answer_cursor = len(user.callback_answers)  # only the answer to this press counts
    if data is not None:
        await user.press_data(data, message_id)
    else:
        assert text is not None
        await user.press(text)
    return (await user.expect_answer()).text or ""


async def only_activity(kexie: Kexie) -> Activity:
    async with kexie.session() as session:
        rows = (await session.scalars(select(Activity))).all()
    assert len(rows) == 1
    return rows[0]


async def answer_until_evidence(user: FakeUser, *, name: str = "科技政策解读会") -> None:
    """Answer every question before the evidence with valid values (date by button)."""
    await user.send("/report")
    await answer_questions(user, {"name": name})


async def new_member_draft(
    session: AsyncSession, org_name: str, name: str
) -> tuple[Member, Activity]:
    """A new 锦江区 association with one member and their draft dated 2026-11-20, named ``name``."""
    tz = ZoneInfo("Asia/Shanghai")
    district = await district_by_name(session, "锦江区")
    assert district is not None
    org = await create_organisation(session, district, OrgKind.ENTERPRISE, org_name)
    member = telegram_member(1, first_name="甲")
    session.add(member)
    await session.flush()
    activity = await reports.start_draft(session, member.id, org.id)
    reports.set_field(session, activity, "activity_date", date(2026, 11, 20), member.id, tz)
    reports.set_field(session, activity, "name", name, member.id, tz)
    return member, activity


async def attach_photo(
    session: AsyncSession, activity: Activity, member_id: int, sha256: str
) -> None:
    """Record one photo as evidence of ``activity`` (no file is stored)."""
    await reports.add_evidence(
        session,
        activity,
        sha256=sha256,
        kind="photo",
        size=1,
        file_name=None,
        mime_type="image/jpeg",
        media_group_id=None,
        member_id=member_id,
    )


async def pending_report(kexie: Kexie, org_id: int, author_id: int | None = None) -> int:
    """A report of ``org_id`` dated today, submitted on time and waiting for review (by
    ``author_id``, else the first member); its id."""
    async with kexie.session() as session:
        author = author_id or await session.scalar(select(Member.id).limit(1))
        today = utcnow().astimezone(kexie.settings.tz).date()
        activity = Activity(
            org_id=org_id,
            author_id=author,
            status=ActivityStatus.SUBMITTED,
            activity_date=today,
            name="科技政策解读会",
            content="内容",
            role="主办",
            headcount=30,
            outcome="成效",
            submitted_at=utcnow(),
            on_time=True,
            review_state=ReviewState.PENDING,
        )
        session.add(activity)
        await session.flush()
        activity.ref_no = reference_number(activity.id, kexie.settings.years.year_of(today))
        return activity.id
