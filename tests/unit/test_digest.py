"""每日汇总: the daily digest rule (scheduler/digest.py via scheduler.reminders.due_now)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.digest import return_reminders
from scheduler.reminders import due_now
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, Recipient, Snapshot, Timing

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing(tz=TZ)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def world() -> Snapshot:
    """District 10: admin 3 gets every report, admin 4 chose the digest; one report submitted
    on 11-17 at 14:00 and another at 23:30."""
    people = [Recipient(1, 101), Recipient(3, 103), Recipient(4, 104, daily_digest=True)]
    return Snapshot(
        people={p.id: p for p in people},
        orgs={1: OrgRow(1, 10, "甲科协", created_at=local(1, 9))},
        district_admins={10: [3, 4]},
        reporters={1: {1}},
        activities=[
            ActivityRow(7, 1, 1, "submitted", date(2026, 11, 16), local(17, 14)),
            ActivityRow(8, 1, 1, "submitted", date(2026, 11, 17), local(17, 23, 30)),
        ],
        audits=[
            AuditRow(70, 7, "submit", local(17, 14)),
            AuditRow(80, 8, "submit", local(17, 23, 30)),
        ],
    )


def test_the_digest_admin_gets_no_card_the_other_does() -> None:
    due = due_now(world(), local(17, 14), TIMING)
    assert [(d.kind, d.member_id) for d in due] == [(Kind.REPORT_SUBMITTED, 3)]


def test_one_digest_at_nine_with_yesterdays_reports() -> None:
    snap = world()
    assert [d for d in due_now(snap, local(18, 8, 59), TIMING) if d.kind == Kind.DAILY_DIGEST] == []
    due = [d for d in due_now(snap, local(18, 9), TIMING) if d.kind == Kind.DAILY_DIGEST]
    assert [(d.member_id, d.subject, d.slot, d.refs) for d in due] == [
        (4, 10, "2026-11-17", (70, 80))
    ]
    assert due[0].expires_at == local(19, 0)


def test_nothing_after_a_day_without_reports() -> None:
    snap = world()
    due = [d for d in due_now(snap, local(19, 9), TIMING) if d.kind == Kind.DAILY_DIGEST]
    assert due == []


def test_a_returned_report_reminds_its_author_once_three_days_later() -> None:
    snap = world()
    returned_at = local(17, 10)
    snap.returned = [(7, 1, 1, returned_at)]
    before = [d for d in due_now(snap, local(20, 9, 59), TIMING) if d.kind == Kind.RETURN_REMINDER]
    assert before == []
    (item,) = [d for d in due_now(snap, local(20, 10), TIMING) if d.kind == Kind.RETURN_REMINDER]
    assert (item.member_id, item.subject) == (1, 7)
    # Every later tick derives the same key: the outbox stores (and sends) it once.
    again = [d for d in due_now(snap, local(21, 10), TIMING) if d.kind == Kind.RETURN_REMINDER]
    assert [d.key for d in again] == [item.key]
    # A second return is a new occasion; a corrected report (not in snap.returned) none.
    snap.returned = [(7, 1, 1, local(22, 10))]
    later = [d for d in due_now(snap, local(25, 10), TIMING) if d.kind == Kind.RETURN_REMINDER]
    assert [d.key for d in later] != [item.key] and len(later) == 1
    snap.returned = []
    assert [d for d in due_now(snap, local(25, 10), TIMING) if d.kind == Kind.RETURN_REMINDER] == []


def test_the_return_reminder_waits_for_a_working_day() -> None:
    snap = world()
    snap.returned = [(7, 1, 1, datetime(2025, 9, 29, 10, 0, tzinfo=TZ))]  # +3 days: 10-02
    holidays = Timing(tz=TZ, holidays=True)
    (item,) = return_reminders(snap, holidays)
    assert item.due_at == datetime(2025, 10, 9, 9, 0, tzinfo=TZ)


def test_back_on_each_report_no_card_for_what_the_digest_listed() -> None:
    """Admin 4's 11-18 digest listed report 7 (queued at 09:00); they switch to 逐条推送."""
    snap = world()
    snap.people[4] = Recipient(4, 104)
    snap.digested = {(4, 7): local(18, 9)}
    snap.audits.append(AuditRow(71, 7, "edit", local(18, 8, 50)))  # settled 09:00, edited before
    snap.audits.append(AuditRow(72, 7, "edit", local(18, 11)))  # after the digest: news
    due = [
        (d.kind, d.subject, d.slot)
        for d in due_now(snap, local(18, 12), TIMING)
        if d.member_id == 4
    ]
    assert due == [
        (Kind.REPORT_SUBMITTED, 8, "80"),  # not in the digest (it listed 7 only)
        (Kind.REPORT_EDITED, 7, "e72"),
    ]
    # Admin 3 never had a digest: every card.
    assert len([d for d in due_now(snap, local(18, 12), TIMING) if d.member_id == 3]) == 4
