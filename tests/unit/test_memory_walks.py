"""The flows walked through the in-memory channel (tests/memory_channel.py): the same routing
table and unit of work as Telegram's, a real database, no HTTP, no python-telegram-bot (issue
21, items 2 and 7). Each walk takes well under a second."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.enums import OrgKind, Role
from core.report_steps import QUESTIONS
from core.review_rules import ReviewState
from core.settings import Settings, load_settings
from storage.db import Database
from storage.members import create_invite
from storage.models import Activity, Plan
from storage.registry import create_organisation, district_by_name
from tests.days import EDGE_DAYS
from tests.memory_channel import MemoryChannel, MemoryUser, make_jpeg
from tests.steps import Press, default_answer, next_field, step_label

ROOT = Path(__file__).resolve().parents[2]
REPORTER, ADMIN = 7001, 7201


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://")


async def join(
    channel: MemoryChannel, user_id: int, name: str, role: Role, *, org: str | None = None
) -> MemoryUser:
    """A person who joined by an invitation: a reporter of ``org`` or an admin of 锦江区."""
    async with channel.db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org_id = None
        if org is not None:
            made = await create_organisation(session, district, OrgKind.ENTERPRISE, org)
            org_id = made.id
        invite = await create_invite(
            session, role=role, org_id=org_id,
            district_id=None if org is not None else district.id,
        )  # fmt: skip
        token = invite.token
    user = channel.user(user_id, name)
    await user.send_text(f"/start {token}")
    assert "您好" in user.last().plain, user.last().plain
    return user


async def report(user: MemoryUser, *, headcount: str = "40人") -> None:
    """/report, every question answered, a photo as evidence, 完成, 提交."""
    await user.send_text("/report")
    for question in QUESTIONS:
        asked = user.last().plain
        assert step_label(question.field) in asked, (question.field, asked)
        if question.field == "evidence":
            await user.send_photo(make_jpeg(seed=1))
            await user.channel.settle()
            assert "已收到" in user.last().plain, user.last().plain
            await user.press("完成")
            continue
        answer = headcount if question.field == "headcount" else default_answer(question.field)
        if isinstance(answer, Press):
            await user.press(answer.label)
        else:
            await user.send_text(answer)
    assert "请核对报送内容" in user.last().plain, user.last().plain
    await user.press("提交")
    assert "已提交" in user.find("已提交").plain


async def ref_of_only_report(db: Database) -> str:
    async with db.session() as session:
        activity = await session.get(Activity, 1)
        assert activity is not None and activity.ref_no
        return activity.ref_no


async def test_a_whole_report(db: Database, settings: Settings) -> None:
    channel = MemoryChannel(db, settings)
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    await report(reporter)
    async with db.session() as session:
        activity = await session.get(Activity, 1)
        assert activity is not None and activity.review_state == ReviewState.PENDING
        assert activity.headcount == 40


async def test_an_answer_delivered_again_is_not_applied_again(
    db: Database, settings: Settings
) -> None:
    """The memory channel runs the same unit of work as Telegram's: an event that comes a
    second time (after a crash, before it was confirmed) asks the current question again."""
    channel = MemoryChannel(db, settings)
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    await reporter.send_text("/report")
    await reporter.press("昨天")
    named = await reporter.send_text("科技政策解读会")
    following = next_field("name")  # the content's question today
    assert step_label(following) in reporter.last().plain
    again = await reporter.redeliver(named)
    # Not taken as the answer to the question after the name's: that question is asked again.
    assert [type(o).__name__ for o in again.outbox] == ["Reply"]
    assert step_label(following) in reporter.last().plain, reporter.last().plain
    async with db.session() as session:
        activity = await session.get(Activity, 1)
        assert activity is not None and activity.name == "科技政策解读会"
        assert getattr(activity, following) is None


async def test_a_return_and_the_resubmission(db: Database, settings: Settings) -> None:
    channel = MemoryChannel(db, settings)
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    admin = await join(channel, ADMIN, "陈静", Role.DISTRICT_ADMIN)
    await report(reporter)
    ref = await ref_of_only_report(db)

    # The district's card comes through the outbox.
    await channel.deliver()
    card = admin.find(f"新报送 {ref}")
    assert card.labels == ["✅ 通过", "↩️ 退回"]

    # 退回 with a reason: the card says who returned it and why, and loses its buttons.
    await admin.press("↩️ 退回", card)
    assert "理由" in admin.last().plain, admin.last().plain
    await admin.send_text("参与人数与签到表不符")
    assert f"已退回 {ref}" in admin.last().plain or f"已退回 {ref}" in card.plain
    assert "已退回" in card.plain and "参与人数与签到表不符" in card.plain and not card.buttons

    # The reporter receives the return with the reason, 去修改 and 重新提交.
    await channel.deliver()
    notice = reporter.find("参与人数与签到表不符")
    assert ref in notice.plain and "陈静" in notice.plain
    await reporter.press("✏️ 去修改", notice)
    assert "要修改哪一项" in reporter.last().plain
    await reporter.press("参与人数")
    assert step_label("headcount") in reporter.last().plain
    await reporter.send_text("45人")
    assert "修改已保存" in reporter.find("修改已保存").plain
    await reporter.press("📤 重新提交", notice)
    assert f"已重新提交 {ref}" in reporter.find("已重新提交").plain

    # The district gets the correction (old → new) and approves it on that card.
    await channel.deliver()
    corrected = admin.find(f"退回后修改并重新提交 {ref}")
    assert "40人 → 45人" in corrected.plain
    await admin.press("✅ 通过", corrected)
    assert "已通过 · 陈静" in corrected.plain and not corrected.buttons
    async with db.session() as session:
        activity = await session.get(Activity, 1)
        assert activity is not None and activity.review_state == ReviewState.APPROVED
        assert activity.headcount == 45


async def test_a_nudge(db: Database, settings: Settings) -> None:
    channel = MemoryChannel(db, settings)
    quiet = await join(channel, REPORTER, "李强", Role.REPORTER, org="锦江安静材料科协")
    admin = await join(channel, ADMIN, "陈静", Role.DISTRICT_ADMIN)

    await admin.send_text("/chase")
    listing = admin.last()
    assert "锦江区 · 催报" in listing.plain and "锦江安静材料科协" in listing.plain
    await admin.press("提醒 1", listing)
    assert "已提醒 锦江安静材料科协 的 1 人" in admin.toasts[-1]
    # The nudge is an outbox row, sent in the daytime.
    stats = await channel.deliver()
    assert stats.sent == 1
    assert "锦江安静材料科协" in quiet.find("锦江区科协提醒").plain
    # A second press the same day is refused and queues nothing.
    await admin.press("提醒 1", listing)
    assert "已于" in admin.toasts[-1]
    assert (await channel.deliver()).sent == 0


async def test_a_plan_noted_and_cancelled(db: Database, settings: Settings) -> None:
    channel = MemoryChannel(db, settings)
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    await reporter.send_text("/plan")
    assert "活动名称是什么" in reporter.last().plain, reporter.last().plain
    await reporter.send_text("科普进社区讲座")
    assert "计划哪天举办" in reporter.last().plain, reporter.last().plain
    await reporter.press("明天")
    assert "已登记：科普进社区讲座" in reporter.find("已登记").plain
    async with db.session() as session:
        plans = (await session.scalars(select(Plan))).all()
        assert [(p.name, p.cancelled) for p in plans] == [("科普进社区讲座", False)]
    # /plan again lists it with its 取消 button.
    await reporter.send_text("/plan")
    await reporter.press("取消：科普进社区讲座")
    assert "已取消计划：科普进社区讲座" in reporter.find("已取消计划").plain
    async with db.session() as session:
        plan = await session.get(Plan, plans[0].id)
        assert plan is not None and plan.cancelled


@pytest.mark.parametrize("today", [None, *EDGE_DAYS], ids=str)
async def test_an_export(
    db: Database, settings: Settings, clock: datetime, today: date | None
) -> None:
    """/export of the year the report (dated yesterday) counts toward, on the suite's day and on
    the year's edges (the day after the deadline opens the next year)."""
    del today  # the clock fixture reads it
    channel = MemoryChannel(db, settings)
    reporter = await join(channel, REPORTER, "王芳", Role.REPORTER, org="蓉城科技科协")
    admin = await join(channel, ADMIN, "陈静", Role.DISTRICT_ADMIN)
    await report(reporter)
    year = settings.years.year_of(clock.date() - timedelta(days=1))
    expected = f"附件1-3_{year}年锦江区.xlsx"

    await admin.send_text("/export")
    assert "请选择要导出的附件" in admin.last().plain
    await admin.press("附件1-3")
    assert "请选择年度" in admin.last().plain
    await admin.press(f"{year}年")  # one district: no district question
    await channel.settle()  # the export runs as a background task
    # The annex and the evidence beside it, announced on the pressed question's message.
    sheet, bundle = admin.files()
    assert sheet.file_name == expected, sheet.file_name
    assert bundle.file_name is not None and bundle.file_name.endswith("_附件及佐证材料.zip")
    details = load_workbook(io.BytesIO(sheet.data or b""))["明细"]
    headers = [c.value for c in details[2]]
    assert details.cell(3, headers.index("服务（活动）名称") + 1).value == "科技政策解读会"
    assert expected in admin.find("已导出").plain


def test_a_walk_imports_no_telegram() -> None:
    """The channel's path loads no ``telegram``: a whole report walked in a fresh process."""
    code = (
        "import asyncio, sys, tempfile, pathlib\n"
        "from core.settings import load_settings\n"
        "from storage.db import Database\n"
        "from storage.migrate import upgrade\n"
        "from storage.registry import seed_districts\n"
        "from tests.unit import test_memory_walks as w\n"
        "async def main(tmp):\n"
        "    url = f'sqlite+aiosqlite:///{tmp}/kexie.db'\n"
        "    await asyncio.to_thread(upgrade, url)\n"
        "    db = Database(url)\n"
        "    async with db.session() as session:\n"
        "        await seed_districts(session)\n"
        "    s = load_settings(data_dir=tmp, database_url=url)\n"
        "    await w.test_a_whole_report(db, s)\n"
        "    await db.dispose()\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    asyncio.run(main(pathlib.Path(tmp)))\n"
        "bad = sorted(n for n in sys.modules if n == 'telegram' or n.startswith('telegram.'))\n"
        "print('walked;', len(bad), bad[:3])\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "walked; 0" in done.stdout, done.stdout + done.stderr
