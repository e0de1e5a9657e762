"""Two people amending one submitted report: the second is told it changed, not overwritten."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage import reports
from storage.db import Database
from storage.models import Activity, AuditEntry
from tests.harness import Kexie
from tests.journeys import attach_photo, complete_and_open_card, new_member_draft, only_activity
from tests.standin import FakeUser
from tests.steps import step_label, stored_answers


async def open_amend(user: FakeUser, report_name: str) -> None:
    """/mine → the report → 修改: the list of fields is on screen."""
    await user.send("/mine")
    await user.expect_any("本单位的报送")
    await user.press(report_name)
    await user.expect_any("报送 KX")
    await user.press("修改")
    await user.expect_any("要修改哪一项")


async def test_second_editor_is_told_and_asked_again(kexie: Kexie) -> None:
    org = await kexie.org("金牛轨道交通科协", district="金牛区")
    author = await kexie.member(7101, "reporter", org=org, first_name="作者")
    admin = await kexie.member(7102, "org_admin", org=org, first_name="管理员")
    await complete_and_open_card(author, name="轨道交通论坛")
    await author.press("提交")
    await author.expect_any("🎉 已提交")
    version_at_submit = (await only_activity(kexie)).version

    # Both open the report for amending before either saves.
    await open_amend(author, "轨道交通论坛")
    await open_amend(admin, "轨道交通论坛")

    await author.press("服务（活动）名称")
    await author.expect_any(step_label("name"))
    await author.send("轨道交通论坛（作者更正）")
    await author.expect_any("修改已保存")

    await admin.press("服务（活动）名称")
    await admin.expect_any(step_label("name"))
    await admin.send("轨道交通论坛（管理员更正）")
    conflict = await admin.expect_any("已被修改")
    assert "轨道交通论坛（作者更正）" in conflict.text  # the current value is shown
    await admin.expect_any(step_label("name"))  # and the question is asked again
    activity = await only_activity(kexie)
    assert activity.name == "轨道交通论坛（作者更正）"  # not silently overwritten
    assert activity.version == version_at_submit + 1

    # Having seen the current value, the second editor's next answer is saved.
    await admin.send("轨道交通论坛（管理员更正）")
    await admin.expect_any("修改已保存")
    activity = await only_activity(kexie)
    assert activity.name == "轨道交通论坛（管理员更正）"
    assert activity.version == version_at_submit + 2
    async with kexie.session() as session:
        edits = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "edit").order_by(AuditEntry.id)
            )
        ).all()
    assert [(e.old_value, e.new_value) for e in edits] == [
        ("轨道交通论坛", "轨道交通论坛（作者更正）"),
        ("轨道交通论坛（作者更正）", "轨道交通论坛（管理员更正）"),
    ]


async def test_conflict_on_a_button_answer(kexie: Kexie) -> None:
    """A role picked by button goes through the same check as a typed answer."""
    org = await kexie.org("成华文旅科协", district="成华区")
    author = await kexie.member(7201, "reporter", org=org, first_name="作者")
    admin = await kexie.member(7202, "org_admin", org=org, first_name="管理员")
    await complete_and_open_card(author, name="文旅沙龙")
    await author.press("提交")
    await author.expect_any("🎉 已提交")
    await open_amend(author, "文旅沙龙")
    await open_amend(admin, "文旅沙龙")
    await author.press("主办/协办/承办")
    await author.expect_any(step_label("role"))
    await author.press("协办")
    await author.expect_any("修改已保存")
    await admin.press("主办/协办/承办")
    await admin.expect_any(step_label("role"))
    await admin.press("承办")
    conflict = await admin.expect_any("已被修改")
    assert "协办" in conflict.text
    await admin.expect_any(step_label("role"))
    assert (await only_activity(kexie)).role == "协办"


async def test_version_counts_amendments_only_once_each(kexie: Kexie) -> None:
    """The same editor amending twice in a row is not a conflict with themselves."""
    org = await kexie.org("温江医药科协", district="温江区")
    author = await kexie.member(7301, "reporter", org=org)
    await complete_and_open_card(author, name="医药沙龙")
    await author.press("提交")
    await author.expect_any("🎉 已提交")
    await open_amend(author, "医药沙龙")
    await author.press("服务（活动）名称")
    await author.expect_any(step_label("name"))
    await author.send("医药沙龙（一）")
    await author.expect_any("修改已保存")
    await author.expect_any("报送 KX")  # the card again, with its buttons
    await author.press("✏️ 修改")
    await author.expect_any("要修改哪一项")
    await author.press("服务（活动）名称")
    await author.expect_any(step_label("name"))
    await author.send("医药沙龙（二）")
    await author.expect_any("修改已保存")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
    assert activity is not None and activity.name == "医药沙龙（二）"


async def test_claim_is_one_update_where_version_matches(db: Database) -> None:
    """Two sessions that opened the same version: the second claim matches no row."""
    tz = ZoneInfo("Asia/Shanghai")
    async with db.session() as session:
        member, activity = await new_member_draft(session, "并发科协", "原名")
        # reports.submit refuses an incomplete report: answer the rest and attach a photo.
        answered = {"activity_date", "name"}  # new_member_draft's
        for field_name, value in stored_answers(
            activity.activity_date or date.today(), content="内容", headcount=30, outcome="成效"
        ):
            if field_name in answered:
                continue
            reports.set_field(session, activity, field_name, value, member.id, tz)
        await attach_photo(session, activity, member.id, "0" * 64)
        await reports.submit(session, activity, member.id, tz)
        await session.flush()
        activity_id, opened = activity.id, activity.version
    async with db.session() as first, db.session() as second:
        a = await reports.load_activity(first, activity_id)
        b = await reports.load_activity(second, activity_id)
        assert a is not None and b is not None
        known = await reports.amend_field(first, a, "name", "甲改", member.id, tz, opened)
        assert known == opened + 1
        await first.commit()
        assert await reports.amend_field(second, b, "name", "乙改", member.id, tz, opened) is None
        assert b.name == "甲改"  # reloaded: what the other editor saved
    async with db.session() as session:
        row = await session.get(Activity, activity_id)
        assert row is not None and row.name == "甲改" and row.version == opened + 1
