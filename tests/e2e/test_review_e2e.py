"""End-to-end: review (审核) through the real application and the Bot API stand-in.

A reporter submits; the district admin gets the card, presses 退回 and types a reason; the
reporter receives the return, presses 去修改, changes the headcount and presses 重新提交; the
district admin gets the change (old → new) and presses 通过; the export shows 已通过; /review
is then empty. In /review, 本页全部通过 first sends the page's photos and files, then asks to
confirm (确认全部通过); a page that changed meanwhile is not approved.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.review_rules import ReviewState
from storage.models import Activity, AuditEntry
from tests.days import EDGE_DAYS
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album, toast
from tests.steps import step_label


@pytest.mark.parametrize("today", EDGE_DAYS, ids=str)
async def test_return_correct_resubmit_approve_export(kexie: Kexie, today: date) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    second = await kexie.member(1202, "district_admin", district="锦江区", first_name="刘洋")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.review_state == ReviewState.PENDING
        ref, activity_id = activity.ref_no, activity.id
    assert ref

    morning = local_today(kexie) + timedelta(days=1, hours=9)
    await run_scheduler_at(kexie, morning)
    card = await admin.expect_any(f"新报送 {ref}")
    assert "待审核" in card.text
    assert [b.text for row in card.buttons for b in row] == ["✅ 通过", "↩️ 退回"]
    await second.expect_any(f"新报送 {ref}")

    # 退回: a reason too short is refused, then the card shows who returned it and why.
    await admin.press("↩️ 退回", card)
    await admin.expect_any("的理由（至少 4 个字）")
    await admin.send("不行")
    await admin.expect_any("至少需要 4 个字")
    await admin.send("参与人数与签到表不符 <请核对>")
    await admin.expect_any(f"已退回 {ref}")
    returned_card = admin.message(card.message_id)
    assert "已退回" in returned_card.text and "陈静" in returned_card.text
    assert "参与人数与签到表不符 <请核对>" in returned_card.text  # escaped, shown as typed
    assert not returned_card.buttons

    # The second admin's outdated 通过 is told who decided.
    second_card = next(m for m in second.messages if f"新报送 {ref}" in m.text)
    answer = await toast(second, "✅ 通过")
    assert "陈静" in answer and "已退回" in answer
    assert second.message(second_card.message_id).buttons  # their card itself is unchanged

    # The reporter receives the return with the reason, 去修改 and 重新提交.
    await run_scheduler_at(kexie, morning + timedelta(minutes=5))
    notice = await reporter.expect_any(f"{ref}")
    assert "参与人数与签到表不符 &lt;请核对&gt;" not in notice.text  # not double-escaped
    assert "参与人数与签到表不符 <请核对>" in notice.text and "陈静" in notice.text
    # 重新提交 before any change is refused.
    assert "请先" in await toast(reporter, "📤 重新提交")
    await reporter.press("✏️ 去修改", notice)
    await reporter.expect_any("要修改哪一项")
    await reporter.press("参与人数")
    await reporter.expect_any(step_label("headcount"))
    await reporter.send("45人")
    await reporter.expect_any("修改已保存")
    # What the admin got so far is set aside before 重新提交: the correction's card is queued
    # with it and may arrive before the reporter's own reply (issue 10).
    admin.drain()
    await reporter.press("📤 重新提交", notice)
    await reporter.expect_any(f"已重新提交 {ref}")

    # The district gets the correction as a card showing old → new, and approves it.
    await run_scheduler_at(kexie, morning + timedelta(minutes=10))
    corrected = await admin.expect_any(f"退回后修改并重新提交 {ref}")
    assert "参与人数" in corrected.text and "40人 → 45人" in corrected.text
    assert not any("已修改" in m.text and ref in m.text for m in admin.drain())
    await admin.press("✅ 通过", corrected)
    approved = await admin.expect_any("已通过 · 陈静")
    assert approved.message_id == corrected.message_id and not approved.buttons

    async with kexie.session() as session:
        row = await session.get(Activity, activity_id)
        assert row is not None and row.review_state == ReviewState.APPROVED
        assert row.on_time is True and row.headcount == 45
        actions = (
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.activity_id == activity_id)
                .order_by(AuditEntry.id)
            )
        ).all()
    assert list(actions) == ["submit", "return", "edit", "correct", "approve"]

    # The export shows it approved; the queue is empty.
    years = kexie.settings.years  # the statistical years: December counts toward the next
    year = years.year_of(local_today(kexie).date())
    activity_year = years.year_of((local_today(kexie) - timedelta(days=1)).date())
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    await admin.send(str(activity_year)) if activity_year != year else await admin.press(
        f"{year}年（本年度）"
    )
    await admin.expect_any("已导出", timeout=60)
    sheet = next(m for m in admin.messages if (m.file_name or "").startswith("附件1-3_"))
    details = load_workbook(io.BytesIO(sheet.file_bytes or b""))["明细"]
    headers = [c.value for c in details[2]]
    assert details.cell(3, headers.index("审核状态") + 1).value == "已通过"
    await admin.send("/review")
    await admin.expect_any("目前没有待审核的报送")


async def review_states(kexie: Kexie) -> dict[str, str]:
    """Each report's review state, by name."""
    async with kexie.session() as session:
        rows = (await session.execute(select(Activity.name, Activity.review_state))).all()
    return {str(name): str(state) for name, state in rows}


async def until(check: Callable[[], bool], timeout: float = 90.0) -> None:
    """Wait until ``check()`` holds (the sender works through the admin's messages a second
    each)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def test_review_queue_pages_and_approve_page(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    far = await kexie.member(1203, "district_admin", district="武侯区", first_name="周杰")
    # Names far apart, so no submission is taken for a duplicate of another.
    names = ("光电论坛", "科普开放日", "专利申报培训", "院士座谈", "青少年编程营", "质量月")
    for name in names:
        await submit_report_with_album(reporter, name)
    async with kexie.session() as session:
        refs = {str(a.name): str(a.ref_no) for a in (await session.scalars(select(Activity)))}
    # The six cards and their files reach the admin first (each sign-in sheet last).
    await until(lambda: sum(m.file_name == "签到表.pdf" for m in admin.messages) == 6)
    await admin.send("/review")
    page = await admin.expect_any("待审核报送")
    assert "共 6 条" in page.text and "光电论坛" in page.text and "质量月" not in page.text

    # 本页全部通过 approves nothing yet: the page's photos and files come first, each report's
    # captioned with its 编号 and name, and after them the confirmation.
    answer = await toast(admin, "✅ 本页全部通过")
    assert set((await review_states(kexie)).values()) == {ReviewState.PENDING}
    assert "正在发送本页 5 条" in answer
    confirm = await admin.expect_any("核对无误后确认全部通过", timeout=60)
    assert "以上是本页 5 条报送" in confirm.text and "没有照片" not in confirm.text
    assert [b.text for row in confirm.buttons for b in row] == ["✅ 确认全部通过", "返回列表"]
    shown = [
        m
        for m in admin.messages
        if page.message_id < m.message_id < confirm.message_id and m.media_type != "text"
    ]
    assert sum(m.media_type == "photo" for m in shown) == 10
    assert sum(m.file_name == "签到表.pdf" for m in shown) == 5
    captions = [m.text for m in shown if m.text]
    for name in names[:5]:
        assert sum(f"{refs[name]} · {name}" in c for c in captions) == 2  # photos, sheet
    assert not any("质量月" in c for c in captions)
    assert set((await review_states(kexie)).values()) == {ReviewState.PENDING}

    # 确认全部通过 approves exactly those five; the confirmation becomes the list again.
    await admin.press("✅ 确认全部通过", confirm)
    after = await admin.expect_any("已通过本页 5 条")
    assert after.message_id == confirm.message_id
    assert "质量月" in after.text and "共 1 条" in after.text
    states = await review_states(kexie)
    assert [states[n] for n in names] == [ReviewState.APPROVED] * 5 + [ReviewState.PENDING]
    await admin.send("/status")
    status = await admin.expect_any("年报送情况")
    assert "待审核的报送：1 项" in status.text

    # A page that changed after its photos were sent is not approved: it is shown again.
    assert "正在发送本页 1 条" in await toast(admin, "✅ 本页全部通过")
    second = await admin.expect_any("以上是本页 1 条报送", timeout=60)
    await submit_report_with_album(reporter, "全国科技活动周")
    assert "列表已有变化" in await toast(admin, "✅ 确认全部通过")
    again = await admin.expect_any("共 2 条")
    assert again.message_id == second.message_id and "全国科技活动周" in again.text
    states = await review_states(kexie)
    assert states["质量月"] == states["全国科技活动周"] == ReviewState.PENDING

    await far.send("/review")
    await far.expect_any("目前没有待审核的报送")
    # A forged 通过 from another district reads like a report that does not exist.
    async with kexie.session() as session:
        last = await session.scalar(select(Activity).order_by(Activity.id.desc()))
        assert last is not None
    answer = await toast(far, data=f"rev:ok:{last.id}")
    assert answer == await toast(far, data="rev:ok:999999")
