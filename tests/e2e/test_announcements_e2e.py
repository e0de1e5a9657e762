"""End-to-end: amendments and withdrawals reach the district admins who got the original card,
and an admin who blocked the bot gets what they missed once they unblock it.

Each amendment path a reporter has (/mine → 修改 → a field → 修改完成; 修改 on the amend card;
撤回; 重新提交) is driven through the real application; the scheduler's own tick and sender then
run at a chosen moment (see ``tests/test_scheduler_e2e.py``) and the admins' chats are read.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from handlers.report.evidence import ALBUM_ACK
from scheduler import outbox
from storage import reports
from storage.models import Activity, Member, OutboxMessage
from tests.accounts import at_telegram
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album
from tests.standin import FakeUser, html_to_text, make_jpeg, utf16_len
from tests.steps import step_label

MAX_MESSAGE = 4096
# What the district is told; an album's acknowledgement to the reporter is recorded there too.
ANNOUNCED = OutboxMessage.kind != ALBUM_ACK


async def open_mine(user: FakeUser, name: str) -> None:
    """/mine, then the report called ``name``; waits for its card."""
    await user.send("/mine")
    await user.expect_any("本单位的报送")
    await user.press(name)
    await user.expect_any("状态")


async def change(user: FakeUser, field: str, answer: str, ask: str) -> None:
    """修改 on the card on screen, pick ``field``, answer, wait for the card again."""
    await user.press("✏️ 修改")
    await user.expect_any("要修改哪一项")
    await user.press(field)
    await user.expect_any(ask)
    await user.send(answer)
    await user.expect_any("修改已保存")
    await user.expect_any("状态")


async def outbox_count(kexie: Kexie, *, sent: bool = False, within: float = 15.0) -> int:
    """How many outbox rows there are; with ``sent``, once all of them are sent (waits for the
    app's running sender up to ``within`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        async with kexie.session() as session:
            statuses = (await session.scalars(select(OutboxMessage.status).where(ANNOUNCED))).all()
        if not sent or all(status == outbox.SENT for status in statuses):
            return len(statuses)
        assert loop.time() < deadline, statuses
        await asyncio.sleep(0.1)


async def district_setup(kexie: Kexie) -> tuple[FakeUser, list[FakeUser], str]:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admins = [
        await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静"),
        await kexie.member(1202, "district_admin", district="锦江区", first_name="刘洋"),
    ]
    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        ref = await session.scalar(select(Activity.ref_no))
    assert ref
    return reporter, admins, ref


async def test_every_amendment_path_reaches_the_admins_with_old_and_new_per_field(
    kexie: Kexie,
) -> None:
    reporter, admins, ref = await district_setup(kexie)
    t1 = local_today(kexie) + timedelta(days=1, hours=9)
    # The original card, photos, sheet ×2: queued by the submit itself (issue 10), so the tick
    # adds nothing; each is sent once (by this drain or by the app's sender, woken at submit).
    assert await outbox_count(kexie) == 6
    enqueued, _sent = await run_scheduler_at(kexie, t1)
    assert enqueued == 0
    assert await outbox_count(kexie, sent=True) == 6
    for admin in admins:
        await admin.expect_any(f"新报送 {ref}")

    # /mine → 修改 → 参与人数 twice, then 修改 on the amend card → 名称, then 修改完成.
    await open_mine(reporter, "光电产业技术交流会")
    await change(reporter, "参与人数", "50人", step_label("headcount"))
    await change(reporter, "参与人数", "60人", step_label("headcount"))
    await change(reporter, "名称", "光电<产业>技术交流会 & 对接", step_label("name"))
    await reporter.press("修改完成")
    await reporter.expect_any("修改完成")
    await run_scheduler_at(kexie, t1 + timedelta(hours=1))
    for admin in admins:
        card = await admin.expect_any(f"报送已修改 {ref}")
        changes = card.text.split("修改内容", 1)[1]
        # One line per field, from the value the admins saw to the value now, escaped.
        assert changes.count("参与人数") == 1, changes
        assert "参与人数：40人 → 60人" in changes
        assert "名称：光电产业技术交流会 → 光电<产业>技术交流会 & 对接" in changes
        assert "服务（活动）名称：光电<产业>技术交流会 & 对接" in card.text
        assert "修改/撤回人：王芳" in card.text

    # 撤回, then 重新提交.
    await open_mine(reporter, "光电<产业>技术交流会")
    await reporter.press("撤回")
    await reporter.expect_any("确定撤回")
    await reporter.press("确认撤回")
    await reporter.expect_any("已撤回")
    await run_scheduler_at(kexie, t1 + timedelta(hours=2))
    for admin in admins:
        card = await admin.expect_any(f"报送已撤回 {ref}")
        assert "状态：已撤回" in card.text and "修改/撤回人：王芳" in card.text
    await open_mine(reporter, "光电<产业>技术交流会")
    await reporter.press("重新提交")
    await reporter.expect_any("已重新提交")
    await run_scheduler_at(kexie, t1 + timedelta(hours=3))
    for admin in admins:
        card = await admin.expect_any(f"重新提交 {ref}")
        assert "状态：已提交" in card.text
    assert await run_scheduler_at(kexie, t1 + timedelta(hours=4)) == (0, 0)


async def test_a_long_amendment_fits_one_message(kexie: Kexie) -> None:
    """Many long edits with emoji and markup characters: one card, under 4096 UTF-16 units."""
    _reporter, admins, ref = await district_setup(kexie)
    t1 = local_today(kexie) + timedelta(days=1, hours=9)
    await run_scheduler_at(kexie, t1)
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        member = await session.scalar(select(Member.id).where(at_telegram(1101)))
        assert activity is not None
        for i in range(30):
            text = f"第{i}版🎉<b>&amp;" + "📷&<>" * 700
            reports.set_field(session, activity, "content", text, member, kexie.settings.tz)
            reports.set_field(
                session, activity, "outcome", "✅&" * 900 + str(i), member, kexie.settings.tz
            )
    await run_scheduler_at(kexie, t1 + timedelta(hours=1))
    for admin in admins:
        card = await admin.expect_any(f"报送已修改 {ref}")
        assert utf16_len(card.text) <= MAX_MESSAGE
        changes = card.text.split("修改内容", 1)[1]
        assert changes.count("服务（活动）内容") == 1 and changes.count("取得成效") == 1
        assert "面向园区企业的技术交流。 → 第29版🎉<b>&amp;📷" in changes


async def _unreachable(kexie: Kexie, telegram_id: int) -> bool:
    async with kexie.session() as session:
        flag = await session.scalar(select(Member.unreachable).where(at_telegram(telegram_id)))
    return bool(flag)


async def test_an_admin_who_unblocks_gets_the_missed_deliveries_once(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    kexie.standin.allow_errors = True  # the 403 to the blocked admin is the point
    kexie.standin.block(1201)  # silently: the sender finds out by a 403

    await submit_report_with_album(reporter, "光电产业技术交流会")
    async with kexie.session() as session:
        ref = await session.scalar(select(Activity.ref_no))
    assert ref
    t1 = local_today(kexie) + timedelta(days=1, hours=9)
    await run_scheduler_at(kexie, t1)
    assert await _unreachable(kexie, 1201)
    async with kexie.session() as session:
        statuses = (
            await session.scalars(
                select(OutboxMessage.status).where(ANNOUNCED).order_by(OutboxMessage.id)
            )
        ).all()
    assert statuses == [outbox.BLOCKED, outbox.SKIPPED, outbox.SKIPPED]
    # While unreachable, the withdrawal is not even queued for them.
    await open_mine(reporter, "光电产业技术交流会")
    await reporter.press("撤回")
    await reporter.expect_any("确定撤回")
    await reporter.press("确认撤回")
    await reporter.expect_any("已撤回")
    await run_scheduler_at(kexie, t1 + timedelta(hours=1))
    assert not [m for m in admin.messages if ref in m.text]

    kexie.standin.unblock(1201, notify=True)  # Telegram sends my_chat_member: member
    await kexie.standin.wait_until_confirmed()
    assert not await _unreachable(kexie, 1201)
    await run_scheduler_at(kexie, t1 + timedelta(hours=2))
    card = await admin.expect_any("新报送")
    withdrawn = await admin.expect_any("报送已撤回")
    assert withdrawn.message_id > card.message_id
    photos = [m for m in admin.messages if m.media_group_id is not None]
    assert len(photos) == 2
    assert len([m for m in admin.messages if m.file_name == "签到表.pdf"]) == 1

    # Told twice (a re-delivered update, a second unblock): nothing is sent twice.
    kexie.standin.unblock(1201, notify=True)
    await kexie.standin.wait_until_confirmed()
    assert await run_scheduler_at(kexie, t1 + timedelta(hours=3)) == (0, 0)
    async with kexie.session() as session:
        rows = await session.scalar(select(func.count()).where(ANNOUNCED))
    assert (
        rows == 4
        and len([m for m in admin.messages if ref in m.text and not m.media_group_id]) == 3
    )


async def test_blocking_marks_the_admin_unreachable_before_any_403(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    kexie.standin.block(1201, notify=True)  # my_chat_member: kicked
    await kexie.standin.wait_until_confirmed()
    assert await _unreachable(kexie, 1201)

    await submit_report_with_album(reporter, "光电产业技术交流会")
    t1 = local_today(kexie) + timedelta(days=1, hours=9)
    assert await run_scheduler_at(kexie, t1) == (0, 0)
    assert not kexie.standin.calls_of("sendMediaGroup")

    kexie.standin.unblock(1201, notify=True)
    await kexie.standin.wait_until_confirmed()
    assert await run_scheduler_at(kexie, t1 + timedelta(hours=1)) == (3, 3)
    await admin.expect_any("新报送")


def test_html_to_text_is_what_telegram_counts() -> None:
    assert utf16_len(html_to_text("<b>a</b>&amp;😀")) == 4


async def test_evidence_added_to_a_submitted_report_is_announced_with_the_count(
    kexie: Kexie,
) -> None:
    reporter, admins, ref = await district_setup(kexie)
    t1 = local_today(kexie) + timedelta(days=1, hours=9)
    await run_scheduler_at(kexie, t1)
    await open_mine(reporter, "光电产业技术交流会")
    await reporter.press("✏️ 修改")
    await reporter.expect_any("要修改哪一项")
    await reporter.press("佐证材料")
    await reporter.expect_any(step_label("evidence"))
    await reporter.send_photo(make_jpeg(seed=13))
    await reporter.expect_any("已收到")
    await reporter.press("完成")
    await reporter.expect_any("状态")
    await reporter.press("修改完成")
    await reporter.expect_any("修改完成")
    await run_scheduler_at(kexie, t1 + timedelta(hours=1))
    for admin in admins:
        card = await admin.expect_any(f"报送已修改 {ref}")
        assert "佐证材料：共 3 个 → 共 4 个" in card.text.split("修改内容", 1)[1]
        photos = [m for m in admin.messages if m.media_group_id and m.message_id > card.message_id]
        assert len(photos) == 3  # the album follows the card again, with the new photo
