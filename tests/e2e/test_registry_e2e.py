"""End-to-end: a district admin runs the district from chat (issue 3's acceptance scenario),
plus /org validation, /district, /members removal and /invites revocation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from storage.models import DistrictFigures, Invite, Membership, Organisation
from storage.registry import load_organisation, missing_fields
from tests.harness import Kexie
from tests.standin import FakeUser
from tests.steps import step_label

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LINK_PREFIX = "https://t.me/kexie_test_bot?start="


async def join(kexie: Kexie, user_id: int, name: str, link: str) -> FakeUser:
    """A new user opens an invite link."""
    assert link.startswith(LINK_PREFIX), link
    user = kexie.standin.user(user_id, name)
    await user.send(f"/start {link.removeprefix(LINK_PREFIX)}")
    return user


async def invite_from_chat(
    admin: FakeUser, org_name: str | None, role: str, *, uses: str | None = None
) -> str:
    """/invite → association → role → (uses) → 7 days; returns the link (and checks the QR)."""
    if org_name is not None:
        await admin.send("/invite")
        await admin.expect_any("为哪个科协生成邀请链接")
        await admin.press(org_name)
    await admin.expect_any("邀请什么身份")
    await admin.press(role)
    if uses is not None:
        await admin.expect_any("可以用几次")
        await admin.press(uses)
    days = await admin.expect_any("有效几天")
    if role == "科协管理员":
        assert "管理员邀请只能使用一次" in days.text
    await admin.press("7天")
    made = await admin.expect_any("邀请链接")
    link = next(line for line in made.text.splitlines() if line.startswith(LINK_PREFIX))
    qr = await admin.expect()
    assert qr.media_type == "photo", qr.describe()
    assert qr.file_bytes is not None
    assert Image.open(io.BytesIO(qr.file_bytes)).size[0] >= 200  # printable on a poster
    assert "扫码加入" in qr.text
    return link


async def create_org_from_invite(admin: FakeUser, kind: str, name: str) -> None:
    """/invite → 新建科协 → kind → name (the invite continues with the new association)."""
    await admin.send("/invite")
    await admin.expect_any("没有可以邀请成员的科协" if kind == "企业科协" else "为哪个科协")
    await admin.press("新建科协")
    await admin.expect_any("新建哪一类科协")
    await admin.press(kind)
    await admin.expect_any("请发送")
    await admin.send(name)
    created = await admin.expect_any("已新建")
    assert name in created.text


async def fill(admin: FakeUser, answer: str, expect: str) -> None:
    await admin.send(answer)
    await admin.expect_any(expect)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_district_admin_runs_the_district_from_chat(kexie: Kexie) -> None:
    """Issue 3, "Done when": from the CLI's district-admin link to the /status card."""
    kexie.data_dir.mkdir(parents=True, exist_ok=True)  # the CLI's cwd (no SQLite file on PG)
    made = await kexie.cli("invite", "--district", "锦江区", "--role", "district_admin")
    assert made.rc == 0, made.err
    admin = await join(kexie, 3001, "区科协张主任", made.out.strip())
    joined = await admin.expect_any("已加入")
    assert "区（市）县科协管理员" in joined.text and "锦江区" in joined.text

    # Two associations, each with an org admin and a reporter invited from chat.
    await create_org_from_invite(admin, "企业科协", "成都智造科技有限公司科协")
    link = await invite_from_chat(admin, None, "科协管理员")
    org_admin = await join(kexie, 3002, "企业李管理", link)
    assert "科协管理员" in (await org_admin.expect_any("已加入")).text
    link = await invite_from_chat(admin, "成都智造科技有限公司科协", "报送员", uses="5次")
    reporter = await join(kexie, 3003, "企业王报送", link)
    assert "报送员" in (await reporter.expect_any("已加入")).text

    await create_org_from_invite(admin, "产业功能区科协", "锦江示例产业功能区科协")
    link = await invite_from_chat(admin, None, "科协管理员")
    zone_admin = await join(kexie, 3004, "园区赵管理", link)
    await zone_admin.expect_any("已加入")
    link = await invite_from_chat(admin, "锦江示例产业功能区科协", "报送员", uses="1次")
    zone_reporter = await join(kexie, 3005, "园区钱报送", link)
    await zone_reporter.expect_any("已加入")

    # An admin link is single-use: a second person gets a clear answer.
    late = await join(kexie, 3006, "迟到者", link)
    await late.expect_any("可用次数已用完")

    # One registry entry filled completely, field by field, with validation.
    await admin.send("/org")
    await admin.expect_any("选择要查看或填写登记信息的科协")
    await admin.press("成都智造科技有限公司科协")
    card = await admin.expect_any("已填 0/12 项")
    assert "（未填）" in card.text
    await admin.press("逐项填写缺失项")
    await admin.expect_any("批准文号")
    await fill(admin, "成科协〔2019〕12号", "批准时间")
    await fill(admin, "2030-01-01", "不能晚于今天")
    await fill(admin, "2019年5月20日", "员工总数")
    await fill(admin, "-3", "不能是负数")
    await fill(admin, "320", "科技人员数")
    await fill(admin, "400", "科技人员数不能多于员工总数")
    await fill(admin, "85", "科协会员数")
    await fill(admin, "60人", "通信地址")
    await fill(admin, "成都市锦江区示例路1号", "单位性质")
    await admin.press("民企")
    await admin.expect_any("请发送<b>主席</b>".replace("<b>", "").replace("</b>", ""))
    await fill(admin, "张三/主席/12345", "电话号码不正确")
    await fill(admin, "张三/主席/13800000000", "副主席")
    await fill(admin, "李四/副主席/13900000001\n王五/副主席/028-12345678", "秘书长")
    await fill(admin, "赵六/秘书长/13700000002", "副秘书长")
    await fill(admin, "钱七/副秘书长/13600000003", "联系人")
    await admin.send("孙八/科协干事/13500000004")
    complete = await admin.expect_any("登记信息已填写完整")
    assert "已填 12/12 项" in complete.text
    assert "李四/副主席/13900000001；王五/副主席/028-12345678" in complete.text
    assert "2019年5月20日" in complete.text

    # Another imported from a spreadsheet sent to the bot (matched by name: updated).
    await admin.send_document(
        (FIXTURES / "annex_1_2_zone.xlsx").read_bytes(),
        file_name="功能区登记表.xlsx",
        mime_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    imported = await admin.expect_any("已导入附件1-2")
    assert "新增 0 个，更新 1 个" in imported.text

    async with kexie.session() as session:
        orgs = (await session.scalars(select(Organisation).order_by(Organisation.id))).all()
        assert [o.name for o in orgs] == ["成都智造科技有限公司科协", "锦江示例产业功能区科协"]
        for org in orgs:
            loaded = await load_organisation(session, org.id)
            assert loaded is not None and missing_fields(loaded) == [], org.name
        zone = await load_organisation(session, orgs[1].id)
        assert zone is not None and zone.zone_form == "内设"

    # The /status card.
    await admin.send("/status")
    status = await admin.expect_any("报送情况")
    assert "科协 2 个（企业 1，功能区 1）" in status.text
    assert "登记信息不完整：0 个" in status.text
    assert "今年尚未报送活动：2 个" in status.text
    assert "今年已报送 0 项，其中逾期 0 项" in status.text

    # The invited people have their roles: the reporters can report, the org admin has /org.
    await reporter.send("/report")
    await reporter.expect_any(step_label("activity_date"))
    await org_admin.send("/org")
    own = await org_admin.expect_any("已填 12/12 项")
    assert "成都智造科技有限公司科协" in own.text


async def test_import_errors_by_row_and_column_from_chat(kexie: Kexie) -> None:
    admin = await kexie.member(3101, "district_admin", district="锦江区")
    await admin.send_document(
        (FIXTURES / "annex_1_1_errors.xlsx").read_bytes(), file_name="errors.xlsx"
    )
    failed = await admin.expect_any("没有导入任何内容")
    assert "7 处问题" in failed.text
    assert "第3行 F列（科技人员数）：科技人员数不能多于员工总数。" in failed.text
    async with kexie.session() as session:
        assert (await session.scalars(select(Organisation))).all() == []
    # A reporter's spreadsheet outside any flow is not an import.
    org = await kexie.org("成都智造科技有限公司科协")
    reporter = await kexie.member(3102, "reporter", org=org)
    await reporter.send_document(
        (FIXTURES / "annex_1_1_merged.xlsx").read_bytes(), file_name="merged.xlsx"
    )
    await reporter.expect_any("/report")
    async with kexie.session() as session:
        assert len((await session.scalars(select(Organisation))).all()) == 1


async def test_district_figures(kexie: Kexie) -> None:
    admin = await kexie.member(3201, "district_admin", district="锦江区")
    await admin.send("/district")
    card = await admin.expect_any("年度数据")
    assert "属地企业数量：（未填）" in card.text
    await admin.press("科技企业数量")
    await admin.expect_any("科技企业数量")
    await admin.send("-2")
    await admin.expect_any("不能是负数")
    await admin.send("16")
    await admin.expect_any("已保存科技企业数量：16")
    card = await admin.expect_any("年度数据")
    assert "科技企业数量：16" in card.text
    async with kexie.session() as session:
        row = await session.scalar(select(DistrictFigures))
        assert row is not None and row.tech_enterprises == 16


async def test_remove_member_ends_access_at_once(kexie: Kexie) -> None:
    org = await kexie.org("成都智造科技有限公司科协")
    org_admin = await kexie.member(3301, "org_admin", org=org, first_name="李管理")
    reporter = await kexie.member(3302, "reporter", org=org, first_name="王报送")
    await org_admin.send("/members")
    listing = await org_admin.expect_any("的成员（2 人）")
    assert listing.button_texts == ["移除 2. 王报送"]  # not oneself
    await org_admin.press("移除 2. 王报送")
    await org_admin.expect_any("确定移除 王报送")
    confirm = org_admin.last.button("确认移除").callback_data
    assert confirm is not None
    await org_admin.press("确认移除")
    await org_admin.expect_any("已移除 王报送")
    await reporter.send("/report")
    # No association to report for any more, and they are told why (issue 8, item 12).
    ended = await reporter.expect_any("成员身份已结束")
    assert "不能再为该单位报送" in ended.text and "邀请链接" in ended.text
    menu = kexie.standin.commands_for(f"chat:{reporter.user_id}")
    assert "report" not in menu and "plan" not in menu  # the member menu shrank too
    async with kexie.session() as session:
        rows = (await session.scalars(select(Membership).where(Membership.org_id == org))).all()
        assert sorted((m.role, m.active) for m in rows) == [
            ("org_admin", True),
            ("reporter", False),
        ]
    # The confirmation button pressed again is refused without effect.
    org_admin.drain()
    await org_admin.press_data(confirm)
    answers = [await org_admin.expect_answer() for _ in range(3)]  # two presses before this one
    assert answers[-1].text == "这个按钮已失效，请看最新的消息。"
    await org_admin.expect_nothing(0.5)


async def test_invites_list_and_revoke(kexie: Kexie) -> None:
    org = await kexie.org("成都智造科技有限公司科协")
    admin = await kexie.member(3401, "district_admin", district="锦江区")
    link = await invite_from_chat(admin, "成都智造科技有限公司科协", "报送员", uses="20次")
    await admin.send("/invites")
    listing = await admin.expect_any("未使用的邀请")
    assert "报送员 · 成都智造科技有限公司科协 · 已用 0/20" in listing.text
    await admin.press("撤销 1")
    await admin.expect_any("没有未使用的邀请")
    user = await join(kexie, 3402, "晚来者", link)
    await user.expect_any("已被撤销")
    async with kexie.session() as session:
        invite = await session.scalar(select(Invite).where(Invite.org_id == org))
        assert invite is not None and invite.revoked_at is not None


async def test_org_admin_fills_skips_edits_and_cancels(kexie: Kexie) -> None:
    org = await kexie.org("成都智造科技有限公司科协")
    admin = await kexie.member(3501, "org_admin", org=org)
    await admin.send("/org")
    await admin.expect_any("已填 0/12 项")
    await admin.press("逐项填写缺失项")
    await admin.expect_any("请发送批准文号")
    await admin.press("跳过")
    await admin.expect_any("请发送批准时间")
    await admin.send("2019-05-20")
    await admin.expect_any("已保存批准时间")
    await admin.expect_any("请发送员工总数")
    await admin.send("/cancel")
    await admin.expect_any("已退出登记信息填写")
    await admin.send("120")  # no longer an answer to anything
    await admin.expect_any("报送活动")
    # One field from the picker; a typed choice works like the button.
    await admin.send("/org")
    await admin.expect_any("已填 1/12 项")
    await admin.press("修改某一项")
    await admin.expect_any("要填写或修改哪一项")
    await admin.press("单位性质")
    await admin.expect_any("请选择单位性质")
    await admin.send("外企")
    await admin.expect_any("单位性质请填“国企”或“民企”")
    await admin.send("国有企业")
    card = await admin.expect_any("已填 2/12 项")
    assert "<b>单位性质</b>：国企" in (card.html or "")
    row = await kexie.org_row(org)
    assert (row.approval_date.isoformat(), row.ownership) == ("2019-05-20", "国企")  # type: ignore[union-attr]
