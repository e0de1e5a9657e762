"""A member removed from an association (/members → 移除) is told their membership there ended
and how to get a new invitation — by their half-finished draft, /report, /mine and old buttons —
instead of "not found" or "no reports"."""

from __future__ import annotations

from sqlalchemy import select

from core.enums import ActivityStatus, OrgKind, Role
from storage import reports
from storage.db import Database
from storage.members import remove_membership
from storage.models import Activity, ChatState, Membership
from storage.registry import create_organisation, district_by_name
from tests.accounts import telegram_member
from tests.harness import Kexie
from tests.journeys import complete_and_open_card, toast
from tests.standin import FakeUser
from tests.steps import step_label

ENDED = "成员身份已结束"
NEW_LINK = "新的邀请链接"


async def remove(admin: FakeUser, name: str) -> None:
    """The org admin removes a member through /members."""
    await admin.send("/members")
    await admin.expect_any("的成员")
    await admin.press(name)
    await admin.expect_any("确定移除")
    await admin.press("确认移除")
    await admin.expect_any("已移除")


async def submitted_report(user: FakeUser, name: str) -> None:
    await complete_and_open_card(user, name=name)
    await user.press("提交")
    await user.expect_any("🎉 已提交")


async def test_removed_mid_draft_member_of_nothing_else(kexie: Kexie) -> None:
    org = await kexie.org("郫都食品科技科协", district="郫都区")
    admin = await kexie.member(7401, "org_admin", org=org, first_name="管理员")
    user = await kexie.member(7402, "reporter", org=org, first_name="小张")
    await submitted_report(user, "食品安全讲座")
    await user.send("/mine")
    await user.expect_any("本单位的报送")
    await user.press("食品安全讲座")
    mine_card_id = (await user.expect_any("报送 KX")).message_id
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    step2 = await user.expect_any(step_label("name"))

    await remove(admin, "小张")

    # The answer to the open question: the draft says the membership ended.
    await user.send("食品检测开放日")
    told = await user.expect()
    assert ENDED in told.text and "郫都食品科技科协" in told.text and NEW_LINK in told.text
    async with kexie.session() as session:
        assert await session.scalar(select(ChatState)) is None  # out of the flow
        draft = await session.scalar(select(Activity).where(Activity.name.is_(None)))
    # Nobody can finish it now: set aside (kept, marked cancelled) so nothing chases it.
    assert draft is not None and draft.status == ActivityStatus.CANCELLED

    for command in ("/report", "/mine"):
        await user.send(command)
        reply = await user.expect()
        assert ENDED in reply.text and "郫都食品科技科协" in reply.text, command
        assert NEW_LINK in reply.text, command
        assert "还没有已提交" not in reply.text, command

    # Old buttons: the draft's date buttons and the report card from /mine.
    assert draft is not None
    pressed = await toast(user, data=f"rep:{draft.id}:resume", message_id=step2.message_id)
    assert ENDED in pressed
    async with kexie.session() as session:
        report = await session.scalar(select(Activity).where(Activity.name == "食品安全讲座"))
    assert report is not None
    opened = await toast(user, data=f"mine:edit:{report.id}", message_id=mine_card_id)
    assert ENDED in opened


async def test_removed_from_one_association_still_member_of_another(kexie: Kexie) -> None:
    first = await kexie.org("双流航空材料科协", district="双流区")
    second = await kexie.org("双流电子信息科协", district="双流区")
    admin = await kexie.member(7501, "org_admin", org=first, first_name="管理员")
    user = await kexie.member(7502, "reporter", org=first, first_name="小李")
    await user.send(f"/start {await kexie.invite_token('reporter', org=second)}")
    await user.expect_any("已加入")
    # A draft for the first association, left with /cancel → 保留草稿.
    await user.send("/report")
    await user.expect_any("为哪个科协报送")
    await user.press("双流航空材料科协")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    await user.send("复合材料沙龙")
    await user.expect_any(step_label("content"))
    await user.send("/cancel")
    await user.expect_any("要放弃")
    await user.press("保留草稿")
    await user.expect_any("草稿已保存")

    await remove(admin, "小李")

    await user.send("/report")
    told = await user.expect()
    assert ENDED in told.text and "双流航空材料科协" in told.text
    assert "复合材料沙龙" in told.text and NEW_LINK in told.text
    # ... and goes on with the association they still belong to.
    started = await user.expect_any(step_label("activity_date"))
    assert started is not None
    async with kexie.session() as session:
        drafts = (
            await session.scalars(select(Activity).where(Activity.status == ActivityStatus.DRAFT))
        ).all()
    assert [d.org_id for d in drafts] == [second]

    await user.send("/cancel")
    await user.expect_any("要放弃")
    await user.press("放弃草稿")
    await user.expect_any("已放弃")
    await user.send("/mine")
    mine = await user.expect()
    assert ENDED in mine.text and "双流航空材料科协" in mine.text
    await user.send("/report")  # told once: the dead draft does not come back every time
    started = await user.expect()
    assert ENDED not in started.text
    assert step_label("activity_date") in started.text  # the start and question 1 are one message


async def test_ended_orgs_forgets_an_association_rejoined(db: Database) -> None:
    """Invited again after removal: that association no longer counts as ended."""
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "重新加入科协")
        other = await create_organisation(session, district, OrgKind.ENTERPRISE, "另一科协")
        member = telegram_member(42, first_name="甲")
        session.add(member)
        await session.flush()
        first = Membership(member_id=member.id, role=Role.REPORTER, org_id=org.id)
        kept = Membership(member_id=member.id, role=Role.REPORTER, org_id=other.id)
        session.add_all([first, kept])
        await session.flush()
        assert await reports.ended_orgs(session, member.id) == []
        remove_membership(first)
        await session.flush()
        assert [o.name for o in await reports.ended_orgs(session, member.id)] == ["重新加入科协"]
        session.add(Membership(member_id=member.id, role=Role.REPORTER, org_id=org.id))
        await session.flush()
        assert await reports.ended_orgs(session, member.id) == []
