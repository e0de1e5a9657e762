"""Review (审核) against careless and hostile use (issue 19, items 8-10), through the real
application, on SQLite and on PostgreSQL.

A return's reason must say something; a return cannot be laundered by 撤回 + 重新提交 (nor can
that re-judge lateness); a 退回 pressed by accident does not lie in wait for the next text the
admin types, and a reason typed too late is told what happened in a complete sentence.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from core.review_rules import ReviewState
from storage.models import Activity, AuditEntry, OutboxMessage, utcnow
from tests.console import console_client, sign_in
from tests.harness import Kexie
from tests.journeys import submit_report_with_album, toast
from tests.standin import BotMessage, FakeUser

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

REASON = "参与人数与签到表不符，请核对"
EMPTY_REASONS = ("\u200b\u200b\u200b\u200b", "👍👍👍👍", "a\u3000\u3000\u3000b")


async def _people(kexie: Kexie) -> tuple[FakeUser, FakeUser]:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    return reporter, admin


async def _reports(kexie: Kexie) -> list[Activity]:
    async with kexie.session() as session:
        return list((await session.scalars(select(Activity).order_by(Activity.id))).all())


async def _actions(kexie: Kexie, activity_id: int) -> list[str]:
    async with kexie.session() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.activity_id == activity_id)
            .order_by(AuditEntry.id)
        )
        return list(rows.all())


async def _returns_queued(kexie: Kexie) -> int:
    async with kexie.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "report_returned")
        )
        return int(count or 0)


async def _reply(admin: FakeUser) -> str:
    """The admin's next message that is not a scheduled card (those name the association)."""
    while True:
        message = await admin.expect()
        if "锦江光电科技科协" not in message.text:
            return message.text


async def _press_return(admin: FakeUser, ref: str) -> tuple[BotMessage, str]:
    """退回 on the report in /review: the page, and the text of the reason's prompt."""
    await admin.send("/review")
    page = await admin.expect_any("待审核报送")
    await admin.press(f"↩️ 退回 {ref}", page)
    return page, (await admin.expect_any("的理由（至少 4 个字）")).text


async def test_a_reason_of_invisible_characters_or_emoji_is_refused(kexie: Kexie) -> None:
    reporter, admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")
    (activity,) = await _reports(kexie)
    ref = activity.ref_no or ""
    await _press_return(admin, ref)
    for empty in EMPTY_REASONS:
        await admin.send(empty)
        refusal = await _reply(admin)
        assert "退回理由" in refusal and f"已退回 {ref}" not in refusal, refusal
    await admin.send(REASON)
    await admin.expect_any(f"已退回 {ref}")
    row = await kexie.get(Activity, activity.id)
    assert (row.review_state, row.review_reason) == (ReviewState.RETURNED, REASON)


async def test_the_console_refuses_the_same_reasons(kexie: Kexie) -> None:
    """One rule (core.review_rules.check_reason) for the chat and the console's 退回 form."""
    reporter, _admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")
    (activity,) = await _reports(kexie)
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 1201)
        for empty in EMPTY_REASONS:
            answer = await client.post(
                f"/console/reports/{activity.id}/return", data={"csrf": csrf, "reason": empty}
            )
            assert answer.status_code == 400 and "退回理由" in answer.text, (empty, answer)
    row = await kexie.get(Activity, activity.id)
    assert row.review_state == ReviewState.PENDING and row.review_reason is None
    assert await _returns_queued(kexie) == 0


# Resubmitted five days later, still inside the statistical year (on a 30 November clock the
# year would close in between, and a withdrawn report of a closed year is not resubmitted).
@pytest.mark.today(date(2026, 11, 20))
async def test_withdrawing_a_returned_report_does_not_launder_the_return(kexie: Kexie) -> None:
    reporter, admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")  # yesterday's: on time
    (activity,) = await _reports(kexie)
    ref, activity_id = activity.ref_no or "", activity.id
    assert activity.on_time is True
    await _press_return(admin, ref)
    await admin.send(REASON)
    await admin.expect_any(f"已退回 {ref}")

    # The reporter withdraws the returned report from /mine, and (days later) submits it again.
    await reporter.send("/mine")
    await reporter.expect_any("本单位的报送")
    await reporter.press_data(f"mine:open:{activity_id}")
    card = await reporter.expect_any(ref)
    await reporter.press("↩️ 撤回", card)
    confirm = await reporter.expect_any("确定撤回")
    assert "退回" in confirm.text  # says what a withdrawal does to a return
    await reporter.press("确认撤回", confirm)
    await reporter.expect_any(f"已撤回报送 {ref}")
    with time_machine.travel(utcnow() + timedelta(days=5), tick=True):
        await reporter.press_data(f"mine:resubmit:{activity_id}", card.message_id)
        back = await reporter.expect_any("已恢复报送")
    assert "已退回" in back.text and REASON in back.text, back.text

    row = await kexie.get(Activity, activity_id)
    assert row.review_state == ReviewState.RETURNED and row.review_reason == REASON
    assert row.on_time is True  # judged on the first submission, not on the 5-days-late one
    # Nothing new for the district to review; 重新提交 without a change is still refused.
    await admin.send("/review")
    await admin.expect_any("目前没有待审核的报送")
    assert "请先" in await toast(reporter, data=f"rev:again:{activity_id}")
    assert (await kexie.get(Activity, activity_id)).review_state == ReviewState.RETURNED
    assert await _actions(kexie, activity_id) == ["submit", "return", "withdraw", "resubmit"]


async def test_other_commands_and_buttons_cancel_a_pending_return(kexie: Kexie) -> None:
    reporter, admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")
    await submit_report_with_album(reporter, "青少年编程夏令营")
    first, second = await _reports(kexie)
    page, ask = await _press_return(admin, first.ref_no or "")
    assert "光电产业技术交流会" in ask  # the prompt names the report
    # Meanwhile: 通过 on the other report, /status ...
    approved = await toast(admin, data=f"rev:ok:{second.id}", message_id=page.message_id)
    assert approved == f"已通过 {second.ref_no}"
    await admin.send("/status")
    await admin.expect_any("年报送情况")
    # ... and then a remark that must not become the return's reason.
    await admin.send("这个月大家报送得都很及时")
    told = await admin.expect_any("已取消对")
    assert first.ref_no in told.text and "光电产业技术交流会" in told.text
    assert "待审核" in told.text
    row = await kexie.get(Activity, first.id)
    assert row.review_state == ReviewState.PENDING and row.review_reason is None
    assert await _actions(kexie, first.id) == ["submit"]
    assert await _returns_queued(kexie) == 0
    # The next text is no reason either: the flow is over.
    await admin.send("好的")
    hint = await _reply(admin)
    assert "已退回" not in hint and "退回理由" not in hint, hint


async def test_a_pending_return_expires(kexie: Kexie) -> None:
    reporter, admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")
    (activity,) = await _reports(kexie)
    await _press_return(admin, activity.ref_no or "")
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=True):
        await admin.send(REASON)
        told = await admin.expect_any("已取消对")
    assert activity.ref_no in told.text and "分钟" in told.text
    row = await kexie.get(Activity, activity.id)
    assert row.review_state == ReviewState.PENDING and row.review_reason is None
    assert await _returns_queued(kexie) == 0


async def test_a_reason_typed_after_the_reporter_withdrew(kexie: Kexie) -> None:
    reporter, admin = await _people(kexie)
    await submit_report_with_album(reporter, "光电产业技术交流会")
    (activity,) = await _reports(kexie)
    ref = activity.ref_no or ""
    await _press_return(admin, ref)
    await reporter.send("/mine")
    await reporter.expect_any("本单位的报送")
    await reporter.press_data(f"mine:open:{activity.id}")
    card = await reporter.expect_any(ref)
    await reporter.press("↩️ 撤回", card)
    await reporter.press("确认撤回", await reporter.expect_any("确定撤回"))
    await reporter.expect_any(f"已撤回报送 {ref}")

    await admin.send(REASON)
    told = await _reply(admin)
    assert "已撤回" in told and ref in told and "光电产业技术交流会" in told, told
    assert "由  于" not in told and "待审核" not in told, told
    row = await kexie.get(Activity, activity.id)
    assert row.review_reason is None and row.review_state == ReviewState.PENDING
    assert await _returns_queued(kexie) == 0
