"""End-to-end: a district admin switching between 每日汇总 and 逐条推送 hears of each report
once. A report the morning digest listed is never carded afterwards (back on 逐条推送 the
admin used to get 6 more messages for 3 reports: each card and its album); a report already
carded is not listed in the next digest; switching several times in a day changes neither."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.rows import Kind
from storage.models import Activity, OutboxMessage, utcnow
from tests.harness import Kexie
from tests.journeys import complete_and_open_card, local_today, run_scheduler_at
from tests.standin import FakeUser

# Which announcements exist is read from the outbox: both databases.
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

ADMIN = 1201
NAMES = ("光电产业技术交流会", "新材料企业座谈会", "知识产权讲座")


async def people(kexie: Kexie) -> tuple[FakeUser, FakeUser]:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(1101, "reporter", org=org)
    admin = await kexie.member(ADMIN, "district_admin", district="锦江区", first_name="刘洋")
    return reporter, admin


async def choose(admin: FakeUser, daily: bool) -> None:
    """/settings, then 改为每日汇总 (``daily``) or 改为逐条推送."""
    await admin.send("/settings")
    await admin.expect_any("报送推送方式")
    await admin.press("改为每日汇总" if daily else "改为逐条推送")
    await admin.expect_any("报送推送方式：每日汇总" if daily else "报送推送方式：逐条推送")


async def submit(kexie: Kexie, reporter: FakeUser, name: str) -> str:
    """One report with a photo, submitted; its 报送编号."""
    await complete_and_open_card(reporter, name=name)
    await reporter.press("提交")
    await reporter.expect_any("已提交")
    async with kexie.session() as session:
        ref = await session.scalar(select(Activity.ref_no).where(Activity.name == name))
    assert ref
    return str(ref)


def cards(admin: FakeUser, ref: str) -> int:
    """How many cards announcing ``ref`` the admin received."""
    return len([m for m in admin.messages if f"新报送 {ref}" in (m.text or "")])


def digests(admin: FakeUser) -> list[str]:
    """The texts of the digests the admin received."""
    return [m.text for m in admin.messages if "的报送汇总" in (m.text or "")]


async def admin_kinds(kexie: Kexie) -> list[str]:
    """The kinds of the admin's outbox rows, oldest first."""
    async with kexie.session() as session:
        rows = await session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.address == str(ADMIN))
            .order_by(OutboxMessage.id)
        )
        return [str(k) for k in rows.all()]


def soon(minutes: int) -> datetime:
    """A moment ``minutes`` after the test clock's now (a tick the same day)."""
    return utcnow() + timedelta(minutes=minutes)


async def test_reports_the_digest_listed_are_not_carded_after_switching_back(
    kexie: Kexie,
) -> None:
    reporter, admin = await people(kexie)
    await choose(admin, daily=True)
    refs = [await submit(kexie, reporter, name) for name in NAMES]

    tomorrow = local_today(kexie) + timedelta(days=1)
    await run_scheduler_at(kexie, tomorrow + timedelta(hours=9))
    (digest,) = digests(admin)
    assert all(ref in digest for ref in refs)

    await choose(admin, daily=False)
    before = len(admin.messages)
    await run_scheduler_at(kexie, tomorrow + timedelta(hours=10))
    await run_scheduler_at(kexie, tomorrow + timedelta(days=1, hours=10))
    assert [cards(admin, ref) for ref in refs] == [0, 0, 0]
    assert [m.text for m in admin.messages[before:]] == []
    assert await admin_kinds(kexie) == [Kind.DAILY_DIGEST]

    # A report the digest never listed is carded as usual.
    fourth = await submit(kexie, reporter, "科普开放日")
    await admin.expect_any(f"新报送 {fourth}")


async def test_reports_already_carded_are_not_in_the_next_digest(kexie: Kexie) -> None:
    reporter, admin = await people(kexie)
    carded = [await submit(kexie, reporter, name) for name in NAMES[:2]]
    for ref in carded:
        await admin.expect_any(f"新报送 {ref}")

    await choose(admin, daily=True)
    later = await submit(kexie, reporter, NAMES[2])
    tomorrow = local_today(kexie) + timedelta(days=1)
    await run_scheduler_at(kexie, tomorrow + timedelta(hours=9))
    (digest,) = digests(admin)
    assert later in digest
    assert [ref for ref in carded if ref in digest] == []
    assert [cards(admin, ref) for ref in [*carded, later]] == [1, 1, 0]


async def test_switching_back_and_forth_announces_each_report_once(kexie: Kexie) -> None:
    reporter, admin = await people(kexie)
    first = await submit(kexie, reporter, NAMES[0])  # carded at once
    await admin.expect_any(f"新报送 {first}")
    await choose(admin, daily=True)
    second = await submit(kexie, reporter, NAMES[1])  # waits for the digest
    await choose(admin, daily=False)
    await run_scheduler_at(kexie, soon(5))  # 逐条推送 again: the second is carded now
    await admin.expect_any(f"新报送 {second}")
    await choose(admin, daily=True)

    tomorrow = local_today(kexie) + timedelta(days=1)
    await run_scheduler_at(kexie, tomorrow + timedelta(hours=9))
    assert digests(admin) == []  # both were carded: nothing left to list
    await choose(admin, daily=False)
    await run_scheduler_at(kexie, tomorrow + timedelta(hours=10))
    await choose(admin, daily=True)
    await run_scheduler_at(kexie, tomorrow + timedelta(days=1, hours=9))
    assert [cards(admin, ref) for ref in (first, second)] == [1, 1]
    assert digests(admin) == []
