"""End-to-end: a report returned and not corrected within 3 days reminds its author once, with
去修改 (scheduler/digest.py's rule through the real scheduler and sender)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import Activity, Member
from storage.review import return_report
from tests.accounts import at_telegram
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, submit_report_with_album


async def test_uncorrected_return_reminds_the_author_once(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org)
    await kexie.member(1201, "district_admin", district="锦江区")
    await submit_report_with_album(reporter, "光电产业技术交流会")
    today = local_today(kexie)
    returned_at = today + timedelta(days=1, hours=10)
    async with kexie.session() as session:
        activity = (await session.scalars(select(Activity))).one()
        admin = await session.scalar(select(Member).where(at_telegram(1201)))
        assert admin is not None
        await return_report(session, activity, admin.id, "人数与签到表不符", now=returned_at)
        ref = activity.ref_no
    assert ref

    def reminders() -> list[str]:
        return [m.text for m in reporter.messages if "退回已经 3 天" in (m.text or "")]

    # Weekdays and holidays aside (the rule moves it to a working morning), it is not due
    # before three days have passed; then it arrives once, however many ticks follow.
    await run_scheduler_at(kexie, returned_at + timedelta(days=2, hours=23))
    assert reminders() == []
    for days in (3, 4, 5, 6, 7, 8):
        await run_scheduler_at(kexie, returned_at + timedelta(days=days))
    (text,) = reminders()
    assert ref in text and "人数与签到表不符" in text
    message = await reporter.expect_any("退回已经 3 天")
    assert "去修改" in str(message.buttons)
