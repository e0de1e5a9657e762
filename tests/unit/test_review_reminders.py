"""The review's reminder rules (scheduler/reminders.py): a return goes to the author and org
admins, a correction to the district with the edits made while returned folded into it, and
reports pending more than two days remind the district's admins once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.reminders import candidates, due_now
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, Recipient, Snapshot, Timing
from tests.accounts import tg

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing(tz=TZ)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def world(*audits: AuditRow, pending: list[tuple[int, int, datetime]] | None = None) -> Snapshot:
    """Org 1 (district 10): reporter 1 (the author), org admin 2, district admins 3 and 4."""
    people = [Recipient(i, tg(100 + i)) for i in (1, 2, 3, 4)]
    return Snapshot(
        people={p.id: p for p in people},
        orgs={1: OrgRow(1, 10, "甲科协", created_at=local(11, 1, 9))},
        org_admins={1: [2]},
        district_admins={10: [3, 4]},
        reporters={1: {1, 2}},
        activities=[
            ActivityRow(7, 1, 1, "submitted", date(2026, 11, 16), local(11, 17, 10).astimezone(UTC))
        ],
        audits=list(audits),
        pending_reviews=pending or [],
    )


def test_return_then_correction() -> None:
    snap = world(
        AuditRow(1, 7, "submit", local(11, 17, 10)),
        AuditRow(2, 7, "return", local(11, 17, 11)),
        AuditRow(3, 7, "edit", local(11, 17, 12)),
        AuditRow(4, 7, "correct", local(11, 17, 12, 5)),
    )
    found = {(d.kind, d.member_id, d.slot) for d in candidates(snap, local(11, 17, 13), TIMING)}
    review_kinds = (Kind.REPORT_RETURNED, Kind.REPORT_CORRECTED, Kind.REPORT_EDITED)
    assert {(k, m, s) for k, m, s in found if k in review_kinds} == {
        (Kind.REPORT_RETURNED, 1, "2"),
        (Kind.REPORT_RETURNED, 2, "2"),
        (Kind.REPORT_CORRECTED, 3, "4"),
        (Kind.REPORT_CORRECTED, 4, "4"),
    }  # and no report_edited for the edit made while returned


def test_an_edit_after_the_correction_is_announced_again() -> None:
    snap = world(
        AuditRow(2, 7, "return", local(11, 17, 11)),
        AuditRow(4, 7, "correct", local(11, 17, 12)),
        AuditRow(5, 7, "edit", local(11, 17, 14)),
    )
    kinds = {d.kind for d in candidates(snap, local(11, 17, 15), TIMING)}
    assert Kind.REPORT_EDITED in kinds


def test_pending_over_two_days_reminds_the_district_once_a_day() -> None:
    since = local(11, 17, 14).astimezone(UTC)
    snap = world(pending=[(7, 1, since)])
    # 11-19 09:00: pending for 43 hours, not yet two days.
    assert not [d for d in due_now(snap, local(11, 19, 9), TIMING) if d.kind == Kind.REVIEW_PENDING]
    due = [d for d in due_now(snap, local(11, 20, 9), TIMING) if d.kind == Kind.REVIEW_PENDING]
    assert [(d.member_id, d.slot) for d in due] == [(3, "2026-11-20"), (4, "2026-11-20")]
    later = [d for d in due_now(snap, local(11, 20, 17), TIMING) if d.kind == Kind.REVIEW_PENDING]
    assert {d.key for d in later} == {d.key for d in due}  # the same keys: sent once that day
    assert all(d.expires_at == local(11, 21, 0) for d in due)
    tomorrow = [d for d in due_now(snap, local(11, 21, 9), TIMING) if d.kind == Kind.REVIEW_PENDING]
    assert {d.slot for d in tomorrow} == {"2026-11-21"}


def test_pending_reminder_waits_for_a_working_day() -> None:
    """Not urgent: no reminder on a weekend or public holiday; the next working day has its own."""
    since = local(11, 17, 14).astimezone(UTC)
    snap = world(pending=[(7, 1, since)])
    calendar = Timing(tz=TZ, holidays=True)

    def pending_at(moment: datetime) -> list[str]:
        return [d.slot for d in due_now(snap, moment, calendar) if d.kind == Kind.REVIEW_PENDING]

    assert pending_at(local(11, 20, 9)) == ["2026-11-20", "2026-11-20"]  # a Friday
    assert pending_at(local(11, 21, 9)) == []  # Saturday
    assert pending_at(local(11, 22, 9)) == []  # Sunday
    assert pending_at(local(11, 23, 9)) == ["2026-11-23", "2026-11-23"]  # Monday


def test_a_removed_author_gets_no_return() -> None:
    snap = world(AuditRow(2, 7, "return", local(11, 17, 11)))
    snap.reporters = {1: {2}}  # the author left the association
    found = candidates(snap, local(11, 17, 12), TIMING)
    assert [d.member_id for d in found if d.kind == Kind.REPORT_RETURNED] == [2]


def test_timing_is_not_shifted_by_a_day_boundary() -> None:
    # A report pending since 23:30 local counts from then (not from the UTC date).
    since = local(11, 18, 23, 30).astimezone(UTC)  # 15:30 UTC on 11-18
    snap = world(pending=[(7, 1, since)])
    at = local(11, 20, 9)
    assert not [d for d in due_now(snap, at, TIMING) if d.kind == Kind.REVIEW_PENDING]
    assert [
        d for d in due_now(snap, at + timedelta(days=1), TIMING) if d.kind == Kind.REVIEW_PENDING
    ]
