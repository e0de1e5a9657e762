"""Deliveries within seconds of 提交 (issue 10): the district admin's card is written to the
outbox in the submit's own transaction and the sender is woken, so no scheduler tick is needed;
a later tick finds it queued and adds nothing; quiet hours still hold it until morning; a kill
between the submit and the send loses nothing.

The minute tick is removed from the app's JobQueue in these tests, so whatever reaches the admin
was queued by the submit itself. Quiet hours are set explicitly: the tests do not depend on the
hour they run at.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from scheduler import outbox
from scheduler.clock import SystemClock
from scheduler.reminders import quiet_ends
from scheduler.rows import Kind, Timing
from storage.models import Activity, OutboxMessage, utcnow
from tests.harness import Kexie
from tests.journeys import answer_until_evidence, run_scheduler_at
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label

ADMIN = 1201
REPORTER = 1101
SLOW = 30.0  # a fresh ``kexie run`` process needs a moment to import and start polling
NEVER_QUIET = "00:00-00:00"


def quiet_now(kexie: Kexie) -> str:
    """Quiet hours from an hour ago to an hour from now (local time)."""
    local = utcnow().astimezone(kexie.settings.tz)
    start, end = local - timedelta(hours=1), local + timedelta(hours=1)
    return f"{start:%H:%M}-{end:%H:%M}"


async def start_without_tick(kexie: Kexie, quiet_hours: str) -> None:
    """Start the bot with these quiet hours and without its minute tick (the sender runs)."""
    kexie.settings.quiet_hours = quiet_hours
    await kexie.start()
    assert kexie.app is not None and kexie.app.job_queue is not None
    for job in kexie.app.job_queue.get_jobs_by_name("scheduler:tick"):
        job.schedule_removal()


async def people(kexie: Kexie) -> tuple[FakeUser, FakeUser]:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(REPORTER, "reporter", org=org, first_name="王芳")
    admin = await kexie.member(ADMIN, "district_admin", district="锦江区", first_name="陈静")
    return reporter, admin


async def to_card(user: FakeUser, name: str = "光电产业技术交流会") -> None:
    """The report up to its summary card, with one photo."""
    await answer_until_evidence(user, name=name)
    await user.send_photo(make_jpeg(seed=5))
    await user.expect_any("现有佐证材料 1 个")
    await user.press("完成")
    await user.expect_any("请核对报送内容")


async def admin_rows(kexie: Kexie) -> list[OutboxMessage]:
    """The outbox rows addressed to the district admin, oldest first."""
    async with kexie.session() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.address == str(ADMIN))
            .order_by(OutboxMessage.id)
        )
        return list(rows.all())


async def all_sent(kexie: Kexie, count: int, within: float = 15.0) -> list[OutboxMessage]:
    """Wait until the admin's ``count`` rows are sent (fails after ``within`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        rows = await admin_rows(kexie)
        if len(rows) == count and all(r.status == outbox.SENT for r in rows):
            return rows
        assert loop.time() < deadline, [(r.key, r.status) for r in rows]
        await asyncio.sleep(0.1)


async def tick_now(kexie: Kexie) -> int:
    """One tick (and drain) now; the app's sender keeps the system clock afterwards. Returns
    how many rows the tick queued."""
    assert kexie.app is not None
    enqueued, _sent = await run_scheduler_at(kexie, utcnow())
    kexie.app.bot_data["scheduler"].clock = SystemClock()
    kexie.app.bot_data["sender"].clock = SystemClock()
    return enqueued


async def reference(kexie: Kexie) -> str:
    async with kexie.session() as session:
        ref = await session.scalar(select(Activity.ref_no))
    assert ref
    return ref


async def test_the_card_is_queued_by_the_submit_and_sent_without_a_tick(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    await start_without_tick(kexie, NEVER_QUIET)
    reporter, admin = await people(kexie)
    await to_card(reporter)
    await kexie.standin.wait_until_confirmed()
    before = len(kexie.standin.calls)
    await reporter.press("提交")
    done = await reporter.expect_any("🎉 已提交")
    # One message answers 提交: the card (its buttons gone) and the confirmation together.
    assert "请核对报送内容" not in done.text and "光电产业技术交流会" in done.text
    assert not done.buttons
    await kexie.standin.wait_until_confirmed()
    replies = [
        c.method
        for c in kexie.standin.calls[before:]
        if str(c.params.get("chat_id")) == str(REPORTER)
        and c.method.lower() not in ("getupdates", "answercallbackquery")
    ]
    assert replies == ["editMessageText"]

    # Queued with the submit, before any tick: the card, then the photo that follows it.
    rows = await admin_rows(kexie)
    assert [r.kind for r in rows] == [Kind.REPORT_SUBMITTED, Kind.REPORT_SUBMITTED]
    assert rows[0].key.startswith(f"{Kind.REPORT_SUBMITTED}:") and rows[1].key == (
        rows[0].key + "#album1"
    )

    # The running sender delivers it: no tick was run.
    ref = await reference(kexie)
    card = await admin.expect_any(f"新报送 {ref}")
    assert "光电产业技术交流会" in card.text
    await admin.expect_any("· 佐证材料")
    await all_sent(kexie, 2)

    # A tick afterwards finds it queued: nothing is added, nothing sent twice.
    assert await tick_now(kexie) == 0
    await all_sent(kexie, 2)
    await admin.expect_nothing(1.0)
    assert sum(f"新报送 {ref}" in m.text for m in admin.messages) == 1


async def test_in_quiet_hours_the_queued_card_waits_for_the_morning(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    await start_without_tick(kexie, quiet_now(kexie))
    reporter, admin = await people(kexie)
    await to_card(reporter)
    await reporter.press("提交")
    await reporter.expect_any("🎉 已提交")
    timing = Timing.from_settings(kexie.settings)
    morning = quiet_ends(utcnow(), timing)

    rows = await admin_rows(kexie)
    assert len(rows) == 2 and all(r.status == outbox.PENDING for r in rows)
    # Not before the quiet hours end, exactly as the tick would have queued it then.
    assert all(r.next_attempt_at == morning for r in rows)
    await admin.expect_nothing(1.5)

    # Their end: the tick adds nothing, the sender sends the card and the photo once (this
    # drain or the app's own running sender, whichever takes them first).
    enqueued, _sent = await run_scheduler_at(kexie, morning + timedelta(minutes=1))
    assert enqueued == 0
    ref = await reference(kexie)
    await admin.expect_any(f"新报送 {ref}")
    await admin.expect_any("· 佐证材料")
    await all_sent(kexie, 2)
    await admin.expect_nothing(1.0)


async def test_a_kill_between_submit_and_send_loses_nothing(kexie: Kexie) -> None:
    reporter, admin = await people(kexie)
    await kexie.stop()
    # ``kexie run`` in quiet hours: the submit's rows wait, so the kill comes before the send.
    quiet = quiet_now(kexie)
    log_path = kexie.data_dir.parent / "kexie-run.log"
    with log_path.open("ab") as log_file:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "kexie"),
            "run",
            env={**kexie.env, "KEXIE_QUIET_HOURS": quiet},
            cwd=kexie.data_dir,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        await reporter.send("/help")
        await reporter.expect_any("/report", timeout=SLOW)  # the process is up
        await to_card(reporter)
        await reporter.press("提交")
        await reporter.expect_any("🎉 已提交")
        await kexie.standin.wait_until_confirmed()
    finally:
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
    rows = await admin_rows(kexie)
    assert len(rows) == 2 and all(r.status == outbox.PENDING for r in rows)

    # Started again; when the quiet hours end the rows are sent once, and the tick, which
    # would have found the submission in the audit log, adds nothing.
    await start_without_tick(kexie, quiet)
    morning = quiet_ends(utcnow(), Timing.from_settings(kexie.settings))
    enqueued, _sent = await run_scheduler_at(kexie, morning + timedelta(minutes=1))
    assert enqueued == 0
    ref = await reference(kexie)
    await admin.expect_any(f"新报送 {ref}")
    await admin.expect_any("· 佐证材料")
    sent = await all_sent(kexie, 2)
    assert [r.key for r in sent] == [r.key for r in rows]
    await admin.expect_nothing(1.0)


async def test_submitted_anyway_after_the_duplicate_warning_is_delivered_at_once(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    await start_without_tick(kexie, NEVER_QUIET)
    reporter, admin = await people(kexie)
    await to_card(reporter, "科技政策解读会")
    await reporter.press("提交")
    first = await reporter.expect_any("🎉 已提交")
    await admin.expect_any("科技政策解读会")
    await to_card(reporter, "科技政策 解读会！")
    await reporter.press("提交")
    warning = await reporter.expect_any("可能与")
    await reporter.press("仍然提交", warning)
    done = await reporter.expect_any("🎉 已提交")
    assert done.message_id != first.message_id
    card = await admin.expect_any("新报送")
    assert "科技政策 解读会！" in card.text
    await all_sent(kexie, 4)  # two cards, each followed by its photo
    assert await tick_now(kexie) == 0


async def test_a_corrected_report_reaches_the_district_at_once(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    await start_without_tick(kexie, NEVER_QUIET)
    reporter, admin = await people(kexie)
    await to_card(reporter)
    await reporter.press("提交")
    await reporter.expect_any("🎉 已提交")
    ref = await reference(kexie)
    card = await admin.expect_any(f"新报送 {ref}")
    await admin.press("↩️ 退回", card)
    await admin.expect_any("的理由")
    await admin.send("参与人数与签到表不符")
    await admin.expect_any(f"已退回 {ref}")
    # No tick: the return was queued with the decision and the sender woken.
    notice = await reporter.expect_any("参与人数与签到表不符")
    assert await tick_now(kexie) == 0
    await reporter.press("✏️ 去修改", notice)
    await reporter.expect_any("要修改哪一项")
    await reporter.press("参与人数")
    await reporter.expect_any(step_label("headcount"))
    await reporter.send("45人")
    await reporter.expect_any("修改已保存")
    await reporter.press("📤 重新提交", notice)
    await reporter.expect_any(f"已重新提交 {ref}")

    # No tick: the correction's card was queued with the resubmission and the sender woken.
    corrected = await admin.expect_any(f"退回后修改并重新提交 {ref}")
    assert "50人 → 45人" in corrected.text
    rows = await admin_rows(kexie)
    assert [r.kind for r in rows][-1] == Kind.REPORT_CORRECTED
    assert await tick_now(kexie) == 0
    assert sum("退回后修改并重新提交" in m.text for m in admin.messages) == 1


async def test_withdrawing_and_resubmitting_from_mine_reach_the_district_at_once(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    await start_without_tick(kexie, NEVER_QUIET)
    reporter, admin = await people(kexie)
    await to_card(reporter)
    await reporter.press("提交")
    await reporter.expect_any("🎉 已提交")
    ref = await reference(kexie)
    await admin.expect_any(f"新报送 {ref}")

    await reporter.send("/mine")
    await reporter.expect_any("本单位的报送")
    await reporter.press("光电产业技术交流会")
    await reporter.expect_any("状态")
    await reporter.press("撤回")
    await reporter.expect_any("确定撤回")
    await reporter.press("确认撤回")
    await reporter.expect_any("已撤回")
    withdrawn = await admin.expect_any(f"报送已撤回 {ref}")
    assert "状态：已撤回" in withdrawn.text

    await reporter.send("/mine")
    await reporter.expect_any("本单位的报送")
    await reporter.press("光电产业技术交流会")
    await reporter.expect_any("状态")
    await reporter.press("重新提交")
    await reporter.expect_any("已重新提交")
    again = await admin.expect_any(f"重新提交 {ref}")
    assert "状态：已提交" in again.text

    # card + photo, the withdrawal, the resubmission + its photo: all queued without a tick.
    await all_sent(kexie, 5)
    assert await tick_now(kexie) == 0
