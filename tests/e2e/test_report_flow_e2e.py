"""End-to-end: every branch of the reporting conversation a real user can take."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.enums import ActivityStatus
from core.rules import format_date
from storage.models import Activity, AuditEntry, ChatState, Evidence, Member, utcnow
from tests.days import EDGE_DAYS
from tests.harness import Kexie
from tests.journeys import (
    answer_until_evidence,
    complete_and_open_card,
    only_activity,
    reporter,
    toast,
)
from tests.standin import FakeUser, make_jpeg
from tests.steps import answered_label, expect_question, step_label


async def test_album_is_acknowledged_once(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await answer_until_evidence(user)
    await user.send_album([make_jpeg(seed=k) for k in range(4)])
    ack = await user.expect("已收到 4 个文件")
    assert "现有佐证材料 4 个" in ack.text
    await user.expect_nothing(within=2.0)  # one message for the album, not one per photo
    async with kexie.session() as session:
        count = await session.scalar(select(func.count()).select_from(Evidence))
    assert count == 4


async def test_documents_accepted_and_refused(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await answer_until_evidence(user)
    # a sign-in sheet as PDF is fine but is not a photo
    await user.send_document(file_name="签到表.pdf")
    await user.expect_any("现有佐证材料 1 个")
    assert "至少需要1张活动照片" in await toast(user, "完成")
    # Word and Excel are accepted
    await user.send_document(
        b"PK\x03\x04 docx",
        "活动总结.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    await user.expect_any("现有佐证材料 2 个")
    await user.send_document(
        b"PK\x03\x04 xlsx",
        "名单.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    await user.expect_any("现有佐证材料 3 个")
    # an executable is refused with a sentence
    await user.send_document(b"MZ\x90\x00", "setup.exe", "application/x-msdownload")
    await user.expect_any("不支持这种文件")
    # over Telegram's 20 MB download limit: refused before any download
    await user.send_document(
        b"%PDF-1.4", "大文件.pdf", "application/pdf", file_size=25 * 1024 * 1024
    )
    too_big = await user.expect_any("文件太大")
    assert "25.0 MB" in too_big.text
    # a photo sent as a file counts as a photo
    await user.send_document(make_jpeg(seed=9), "现场.jpg", "image/jpeg")
    await user.expect_any("现有佐证材料 4 个")
    # the same file twice counts once
    await user.send_document(make_jpeg(seed=9), "现场.jpg", "image/jpeg")
    await user.expect_any("已经收到过")
    await user.send_photo(make_jpeg(seed=5))
    await user.expect_any("现有佐证材料 5 个")
    await user.send_photo(make_jpeg(seed=5))
    await user.expect_any("已经收到过")
    # stickers and voice are refused
    await user.send_sticker()
    await user.expect_any("不支持贴纸")
    await user.send_voice()
    await user.expect_any("不支持语音")
    await user.press("完成")
    card = await user.expect_any("请核对报送内容")
    assert "2 张照片，3 个文件" in card.text


async def test_bad_answers_are_refused_with_a_reason(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    tomorrow = utcnow().astimezone(kexie.settings.tz).date() + timedelta(days=1)
    await user.send(tomorrow.isoformat())
    assert "不能晚于今天" in (await user.expect()).text
    await user.send("2021-02-30")
    assert "不存在" in (await user.expect()).text
    await user.send("上周")
    assert "无法识别" in (await user.expect()).text
    await user.send_photo()  # people often send the photos first: kept for step 7
    assert "先存为佐证材料" in (await user.expect()).text
    await user.expect_any(step_label("activity_date"))
    await user.send("２０２１年１１月３日")  # full-width digits, a date long past
    late = await user.expect_any("逾期")
    assert "2021年11月6日" in late.text
    # the warning comes above the next question, in one message
    assert step_label("name") in late.text
    await user.send("   ")
    assert "不能为空" in (await user.expect()).text
    await user.send("名" * 101)
    assert "太长" in (await user.expect()).text
    await user.send("<b>院士&专家</b> 进企业")  # HTML-looking text must be escaped, not parsed
    await expect_question(user, "content", after="name")
    await user.send("内容" * 1200)  # 2400 characters: stored whole, shortened on the card
    await expect_question(user, "role", after="content")
    await user.send("主持")
    assert "主办、协办或承办" in (await user.expect()).text
    await user.expect_any(step_label("role"))
    await user.send("协办")
    await expect_question(user, "headcount", after="role")
    for bad, reason in (("0", "大于0"), ("-3", "大于0"), ("很多", "请输入参与人数")):
        await user.send(bad)
        assert reason in (await user.expect()).text, bad
    await user.send("５０人")
    await expect_question(user, "outcome", after="headcount")
    await user.send("促成合作")
    evidence_step = await expect_question(user, "evidence", after="outcome")
    assert "已有 1 个文件" in evidence_step.text
    await user.press("完成")
    card = await user.expect_any("请核对报送内容")
    assert "<b>院士&专家</b> 进企业" in card.text  # shown literally
    assert "…" in card.text and len(card.text) < 4096
    assert "将标记为逾期" in card.text
    await user.press("提交")
    done = await user.expect_any("🎉 已提交")
    assert "逾期" in done.text
    activity = await only_activity(kexie)
    assert activity.content == "内容" * 1200
    assert activity.headcount == 50 and activity.role == "协办"
    assert activity.on_time is False and activity.late_days > 1000


async def test_fix_one_field_from_the_card(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await complete_and_open_card(user)
    await user.press("修改")
    picker = await user.expect_any("要修改哪一项")
    assert "参与人数" in picker.button_texts
    await user.press("参与人数")
    await user.expect_any(step_label("headcount"))
    await user.send("120")
    card = await user.expect_any("请核对报送内容")  # straight back to the card, not step 6
    assert "120人" in card.text
    await user.press("修改")
    await user.expect_any("要修改哪一项")
    await user.press("时间")
    await user.expect_any(step_label("activity_date"))
    await user.press("前天")
    card = await user.expect_any("请核对报送内容")
    day_before = utcnow().astimezone(kexie.settings.tz).date() - timedelta(days=2)
    assert format_date(day_before) in card.text
    # 返回 from the picker restores the card with its buttons
    await user.press("修改")
    await user.expect_any("要修改哪一项")
    await user.press("返回")
    back = await user.expect_any("请核对报送内容")
    assert "✅ 提交" in back.button_texts
    await user.press("提交")
    await user.expect_any("🎉 已提交")
    activity = await only_activity(kexie)
    assert activity.headcount == 120 and activity.activity_date == day_before


async def test_cancel_from_card_and_with_command(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await complete_and_open_card(user)
    await user.press("取消")
    confirm = await user.expect_any("确定放弃")
    await user.press("返回", confirm)
    await user.expect_any("请核对报送内容")
    await user.press("取消")
    await user.expect_any("确定放弃")
    await user.press("确认放弃")
    await user.expect_any("已放弃")
    assert (await only_activity(kexie)).status == ActivityStatus.CANCELLED

    # /cancel in the middle: keep the draft, then /report offers to continue
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("今天")
    await user.expect_any(step_label("name"))
    await user.send("/cancel")
    await user.expect_any("要放弃正在填写的报送吗")
    await user.press("保留草稿")
    await user.expect_any("草稿已保存")
    await user.send("随便说一句")
    await user.expect_any("发送 /report")
    await user.send("/report")
    offer = await user.expect_any("未完成的报送草稿")
    assert answered_label(1) in offer.text
    await user.press("继续填写")
    await user.expect_any(step_label("name"))
    await user.send("/cancel")
    await user.expect_any("要放弃")
    await user.press("放弃草稿")
    await user.expect_any("已放弃")
    await user.send("/cancel")
    await user.expect_any("没有进行中的操作")


async def test_restart_discards_old_draft(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("今天")
    await user.expect_any(step_label("name"))
    await user.send("/report")
    await user.expect_any("未完成的报送草稿")
    await user.press("重新开始")
    await user.expect_any(step_label("activity_date"))
    async with kexie.session() as session:
        statuses = sorted((await session.scalars(select(Activity.status))).all())
    assert statuses == ["cancelled", "draft"]


async def test_stranger_is_told_how_to_join_and_nothing_is_stored(kexie: Kexie) -> None:
    stranger = kexie.standin.user(9999, "路人")
    for text in ("/start", "/report", "你好", "/mine"):
        await stranger.send(text)
        reply = await stranger.expect()
        assert "邀请链接" in reply.text, text
    await stranger.send("/start not-a-real-token")
    assert "无效" in (await stranger.expect()).text
    async with kexie.session() as session:
        assert await session.scalar(select(func.count()).select_from(Member)) == 0
        assert await session.scalar(select(func.count()).select_from(ChatState)) == 0


async def test_invite_links_expire_and_run_out(kexie: Kexie) -> None:
    org = await kexie.org("川西机械科协")
    token = await kexie.invite_token("reporter", org=org, uses=1)
    first, second = kexie.standin.user(4001), kexie.standin.user(4002)
    await first.send(f"/start {token}")
    await first.expect_any("已加入")
    await first.send(f"/start {token}")  # the same person again does not burn a use
    await first.expect_any("无需重复加入")
    await second.send(f"/start {token}")
    assert "可用次数已用完" in (await second.expect()).text
    expired = await kexie.invite_token("reporter", org=org, days=0)
    await second.send(f"/start {expired}")
    assert "已过期" in (await second.expect()).text


async def test_two_users_report_at_the_same_time(kexie: Kexie) -> None:
    org = await kexie.org("双流航空科技科协")
    a = await kexie.member(5001, "reporter", org=org, first_name="甲")
    b = await kexie.member(5002, "reporter", org=org, first_name="乙")

    async def run(user: FakeUser, name: str) -> None:
        await complete_and_open_card(user, name=name)
        await user.press("提交")
        await user.expect_any("🎉 已提交")

    await asyncio.gather(run(a, "甲的活动"), run(b, "乙的活动"))
    async with kexie.session() as session:
        rows = (await session.scalars(select(Activity).order_by(Activity.id))).all()
        authors = {r.name: r.author_id for r in rows}
        members = {m.first_name: m.id for m in (await session.scalars(select(Member))).unique()}
    assert authors == {"甲的活动": members["甲"], "乙的活动": members["乙"]}
    assert all(r.status == ActivityStatus.SUBMITTED for r in rows)


async def test_member_of_two_orgs_picks_one(kexie: Kexie) -> None:
    first = await kexie.org("第一科协")
    second = await kexie.org("第二科协", district="青羊区")
    user = await kexie.member(6001, "reporter", org=first)
    token = await kexie.invite_token("org_admin", org=second)
    await user.send(f"/start {token}")
    await user.expect_any("已加入")
    await user.send("/report")
    pick = await user.expect_any("为哪个科协报送")
    assert pick.button_texts == ["第一科协", "第二科协"]
    await user.press("第二科协")
    await user.expect_any(step_label("activity_date"))
    activity = await only_activity(kexie)
    assert activity.org_id == second


async def test_forged_and_stale_buttons_are_refused(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/report")
    ask = await user.expect_any(step_label("activity_date"))
    other_org = await kexie.org("别人的科协", district="金牛区")
    mid = ask.message_id
    assert "没有权限" in await toast(user, data=f"rep:org:{other_org}", message_id=mid)
    assert "找不到" in await toast(user, data="rep:999:submit", message_id=mid)
    assert "失效" in await toast(user, data="nonsense", message_id=mid)
    # pressing a role button at the date step is stale
    activity = await only_activity(kexie)
    assert "失效" in await toast(user, data=f"rep:{activity.id}:role:0", message_id=mid)


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
async def test_mine_lists_opens_amends_withdraws(kexie: Kexie, today: date) -> None:
    org = await kexie.org("锦江文创科协")
    author = await kexie.member(7001, "reporter", org=org, first_name="作者")
    colleague = await kexie.member(7002, "reporter", org=org, first_name="同事")
    admin = await kexie.member(7003, "org_admin", org=org, first_name="管理员")
    await complete_and_open_card(author, name="第一场活动")
    await author.press("提交")
    await author.expect_any("🎉 已提交")

    await colleague.send("/mine")
    listing = await colleague.expect_any("本单位的报送")
    assert any("第一场活动" in b for b in listing.button_texts)
    await colleague.press("第一场活动")
    card = await colleague.expect_any("报送 KX")
    assert card.button_texts == []  # a colleague may look but not change

    await author.send("/mine")
    await author.expect_any("本单位的报送")
    await author.press("第一场活动")
    card = await author.expect_any("报送 KX")
    assert card.button_texts == ["✏️ 修改", "↩️ 撤回"]
    await author.press("修改")
    await author.expect_any("要修改哪一项")
    await author.press("服务（活动）名称")
    await author.expect_any(step_label("name"))
    await author.send("第一场活动（更正）")
    await author.expect_any("修改已保存")
    await author.expect_any("第一场活动（更正）")
    await author.press("修改完成")
    await author.expect_any("修改完成")

    await admin.send("/mine")
    await admin.expect_any("本单位的报送")
    await admin.press("第一场活动")
    await admin.expect_any("报送 KX")
    await admin.press("撤回")
    await admin.expect_any("确定撤回")
    await admin.press("确认撤回")
    await admin.expect_any("已撤回报送")
    await author.send("/mine")
    listing = await author.expect_any("本单位的报送")
    assert any("已撤回" in b for b in listing.button_texts)
    await author.press("第一场活动")
    await author.expect_any("报送 KX")
    await author.press("重新提交")
    await author.expect_any("已重新提交")

    async with kexie.session() as session:
        audit = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(a.action, a.field) for a in audit] == [
        ("submit", None),
        ("edit", "name"),
        ("withdraw", None),
        ("resubmit", None),
    ]
    assert audit[1].old_value == "第一场活动" and audit[1].new_value == "第一场活动（更正）"

    outsider = await kexie.member(
        7004, "reporter", org=await kexie.org("他区科协", district="武侯区")
    )
    activity = await only_activity(kexie)
    forged = f"mine:open:{activity.id}"
    assert "找不到" in await toast(outsider, data=forged, message_id=outsider.last.message_id)
    await outsider.send("/mine")
    assert "还没有已提交的报送" in (await outsider.expect()).text


@pytest.mark.real_clock
async def test_help_and_menus(kexie: Kexie) -> None:
    user = await reporter(kexie)
    await user.send("/help")
    help_text = await user.expect()
    assert "3日内" in help_text.text and "/report" in help_text.text
    await user.send("/nosuchcommand")
    assert "无法识别该命令" in (await user.expect()).text
    default = kexie.standin.commands_for("default")
    assert default == ["start", "help"]  # before joining: how to join, nothing refused
    chat = kexie.standin.commands_for(f"chat:{user.chat_id}")
    assert "report" in chat and "export" not in chat


async def test_editing_a_sent_answer_says_how_to_change_it(kexie: Kexie) -> None:
    """Telegram's edit on an answer does not silently keep the old value: the user is told."""
    user = await reporter(kexie)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    sent = await user.send("科技讲坐")
    await expect_question(user, "content", after="name")
    edited = dict(user._raw[sent], text="科技讲座", edit_date=int(time.time()))
    kexie.standin.push_update("edited_message", edited)
    hint = await user.expect_any("不会更改已保存的回答")
    assert "修改" in hint.text
    assert (await only_activity(kexie)).name == "科技讲坐"
