"""Unit tests of the pure reminder rules (scheduler/reminders.py) and the /plan date parser."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.rules import parse_plan_date
from core.years import ReportingYears
from scheduler.reminders import due_now, is_quiet, quiet_ends
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, PlanRow, Recipient, Snapshot, Timing

TZ = ZoneInfo("Asia/Shanghai")
TIMING = Timing(tz=TZ)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def world() -> Snapshot:
    """One association (org 1, district 10) with a reporter, an org admin, two district admins
    and two city admins (one opted in to deliveries, one muting the summary)."""
    people = [
        Recipient(1, 101),  # reporter
        Recipient(2, 102),  # org admin
        Recipient(3, 103),  # district admin
        Recipient(4, 104),  # district admin
        Recipient(5, 105, city_delivery_opt_in=True),  # city admin
        Recipient(6, 106, mute_city_summary=True),  # city admin
    ]
    return Snapshot(
        people={p.id: p for p in people},
        orgs={1: OrgRow(1, 10, "甲科协", created_at=local(11, 1, 9))},
        org_admins={1: [2]},
        district_admins={10: [3, 4]},
        city_admins=[5, 6],
        reporters={1: {1, 2}},
    )


def kinds_at(snap: Snapshot, moment: datetime) -> list[tuple[Kind, int]]:
    return [(d.kind, d.member_id) for d in due_now(snap, moment, TIMING)]


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 30, True), (0, 0, True), (7, 59, True), (8, 0, False)],
)
def test_quiet_hours_wrap_past_midnight(hour: int, minute: int, quiet: bool) -> None:
    assert is_quiet(local(11, 20, hour, minute), TIMING) is quiet


def test_quiet_hours_within_one_day_and_disabled() -> None:
    lunch = Timing(tz=TZ, quiet=(time(12, 0), time(14, 0)))
    assert is_quiet(local(11, 20, 13), lunch) and not is_quiet(local(11, 20, 14), lunch)
    never = Timing(tz=TZ, quiet=(time(0, 0), time(0, 0)))
    assert not is_quiet(local(11, 20, 3), never)


def test_quiet_ends_at_the_next_morning() -> None:
    assert quiet_ends(local(11, 20, 22), TIMING) == local(11, 21, 8)
    assert quiet_ends(local(11, 21, 3), TIMING) == local(11, 21, 8)
    assert quiet_ends(local(11, 21, 10), TIMING) == local(11, 21, 10)


def test_nothing_is_due_during_quiet_hours() -> None:
    snap = world()
    snap.audits = [AuditRow(1, 7, "submit", local(11, 20, 22).astimezone(UTC))]
    snap.activities = [ActivityRow(7, 1, 1, "submitted", date(2026, 11, 19), local(11, 20, 22))]
    assert due_now(snap, local(11, 20, 23), TIMING) == []
    held = due_now(snap, local(11, 21, 8), TIMING)
    assert {(d.kind, d.member_id) for d in held} == {
        (Kind.REPORT_SUBMITTED, 3),
        (Kind.REPORT_SUBMITTED, 4),
        (Kind.REPORT_SUBMITTED, 5),
    }


# --- deliveries -----------------------------------------------------------------------------


def test_delivery_goes_to_district_admins_and_opted_in_city_admins() -> None:
    snap = world()
    snap.activities = [ActivityRow(7, 1, 1, "submitted", date(2026, 11, 19), local(11, 20, 10))]
    snap.audits = [AuditRow(1, 7, "submit", local(11, 20, 10))]
    assert kinds_at(snap, local(11, 20, 10)) == [
        (Kind.REPORT_SUBMITTED, 3),
        (Kind.REPORT_SUBMITTED, 4),
        (Kind.REPORT_SUBMITTED, 5),
    ]
    snap.people[4] = Recipient(4, 104, unreachable=True)
    assert (Kind.REPORT_SUBMITTED, 4) not in kinds_at(snap, local(11, 20, 10))


def test_edits_in_a_row_are_announced_once_when_they_settle() -> None:
    snap = world()
    snap.activities = [ActivityRow(7, 1, 1, "submitted", date(2026, 11, 19), local(11, 20, 10))]
    snap.audits = [
        AuditRow(2, 7, "edit", local(11, 20, 10, 0)),
        AuditRow(3, 7, "edit", local(11, 20, 10, 5)),
        AuditRow(4, 7, "evidence", local(11, 20, 10, 12)),
        AuditRow(5, 7, "edit", local(11, 20, 15, 0)),  # a new session hours later
    ]
    assert due_now(snap, local(11, 20, 10, 21), TIMING) == []
    first = [d for d in due_now(snap, local(11, 20, 10, 22), TIMING) if d.member_id == 3]
    assert [(d.kind, d.refs, d.slot) for d in first] == [(Kind.REPORT_EDITED, (2, 3, 4), "e2")]
    later = [d for d in due_now(snap, local(11, 20, 15, 10), TIMING) if d.member_id == 3]
    assert {d.refs for d in later} == {(2, 3, 4), (5,)}  # both valid; the first one is queued


# --- drafts and plans -----------------------------------------------------------------------


def test_draft_is_reminded_on_its_last_day_morning_and_evening() -> None:
    snap = world()
    snap.activities = [ActivityRow(8, 1, 1, "draft", date(2026, 11, 17), local(11, 18, 12))]
    assert kinds_at(snap, local(11, 20, 8, 59)) == []
    assert kinds_at(snap, local(11, 20, 9)) == [(Kind.DRAFT_MORNING, 1)]
    assert kinds_at(snap, local(11, 20, 17, 59)) == [(Kind.DRAFT_MORNING, 1)]
    assert kinds_at(snap, local(11, 20, 18)) == [(Kind.DRAFT_CLOSING, 1)]
    # The window closes at midnight; the next morning nothing stale is sent.
    assert kinds_at(snap, local(11, 21, 9)) == []


def test_no_draft_reminder_while_the_reporter_is_typing() -> None:
    snap = world()
    snap.activities = [ActivityRow(8, 1, 1, "draft", date(2026, 11, 17), local(11, 20, 8, 30))]
    assert kinds_at(snap, local(11, 20, 9)) == []
    assert kinds_at(snap, local(11, 20, 9, 30)) == [(Kind.DRAFT_MORNING, 1)]


def test_a_removed_member_is_not_chased_for_a_draft_or_a_plan() -> None:
    snap = world()
    snap.activities = [ActivityRow(8, 1, 1, "draft", date(2026, 11, 17), local(11, 18, 12))]
    snap.plans = [PlanRow(1, 1, 1, "交流会", date(2026, 11, 19))]
    assert kinds_at(snap, local(11, 20, 9)) == [(Kind.DRAFT_MORNING, 1), (Kind.PLAN_ASK, 1)]
    snap.reporters = {1: {2}}  # member 1 was removed from the association
    assert kinds_at(snap, local(11, 20, 9)) == []
    # The org admin still hears that the planned activity was not reported.
    assert (Kind.PLAN_MISSED, 2) in kinds_at(snap, local(11, 23, 9))


def test_plan_is_asked_then_last_called_then_the_admin_told() -> None:
    snap = world()
    snap.plans = [PlanRow(1, 1, 1, "交流会", date(2026, 11, 18))]
    assert kinds_at(snap, local(11, 19, 9)) == [(Kind.PLAN_ASK, 1)]
    assert kinds_at(snap, local(11, 21, 8, 59)) == [(Kind.PLAN_ASK, 1)]
    assert kinds_at(snap, local(11, 21, 9)) == [(Kind.PLAN_LAST_CALL, 1)]
    assert kinds_at(snap, local(11, 22, 9)) == [(Kind.PLAN_MISSED, 2)]
    assert kinds_at(snap, local(11, 29, 8, 59)) == [(Kind.PLAN_MISSED, 2)]
    later = kinds_at(snap, local(11, 29, 9))  # the escalation is valid for a week
    assert (Kind.PLAN_MISSED, 2) not in later


def test_a_reported_plan_stops_and_a_draft_takes_over() -> None:
    snap = world()
    snap.plans = [PlanRow(1, 1, 1, "交流会", date(2026, 11, 18))]
    snap.activities = [
        ActivityRow(8, 1, 1, "draft", date(2026, 11, 18), local(11, 19, 12), plan_id=1)
    ]
    assert kinds_at(snap, local(11, 21, 9)) == [(Kind.DRAFT_MORNING, 1)]
    assert kinds_at(snap, local(11, 22, 9)) == [(Kind.PLAN_MISSED, 2)]
    snap.activities = [
        ActivityRow(8, 1, 1, "withdrawn", date(2026, 11, 18), local(11, 21, 12), plan_id=1)
    ]
    assert kinds_at(snap, local(11, 22, 9)) == []
    # Reported without the button, same association and date: also counts.
    snap.activities = [ActivityRow(9, 1, 1, "submitted", date(2026, 11, 18), local(11, 19, 12))]
    assert kinds_at(snap, local(11, 19, 9)) == []


# --- quiet associations ---------------------------------------------------------------------


def test_quiet_association_nudged_once_per_period() -> None:
    snap = world()  # created 1 November, nothing reported
    assert kinds_at(snap, local(12, 1, 9, 59)) == []
    assert kinds_at(snap, local(12, 1, 10)) == [(Kind.QUIET_NUDGE, 2)]
    assert kinds_at(snap, local(12, 4, 10, 1)) == []  # missed by more than 3 days: next period
    snap.last_nudge = {1: local(12, 1, 10)}
    snap.orgs[1] = OrgRow(1, 10, "甲科协", created_at=local(11, 1, 9), last_submitted_at=None)
    assert kinds_at(snap, local(12, 31, 10)) == [(Kind.QUIET_NUDGE, 2)]
    snap.orgs[1] = OrgRow(
        1, 10, "甲科协", created_at=local(11, 1, 9), last_submitted_at=local(12, 20, 9)
    )
    assert kinds_at(snap, local(12, 31, 10)) == []
    snap.people[2] = Recipient(2, 102, mute_nudges=True)
    assert kinds_at(snap, local(1, 19, 10).replace(year=2027)) == []


# --- the annual deadline --------------------------------------------------------------------


def test_deadline_reminders_and_city_summary() -> None:
    snap = world()
    due_days = []
    moment = local(10, 25, 9)
    while moment < local(12, 2, 9):
        for kind, member in kinds_at(snap, moment):
            due_days.append((moment.date().isoformat(), kind, member))
        moment += timedelta(days=1)
    deadline = [(d, m) for d, k, m in due_days if k == Kind.DEADLINE]
    assert deadline == [
        (day, m)
        for day in ("2026-10-31", "2026-11-16", "2026-11-23", "2026-11-27", "2026-11-29")
        for m in (3, 4)
    ]
    summary = [(d, m) for d, k, m in due_days if k == Kind.CITY_SUMMARY]
    assert summary == [
        (day, 5) for day in ("2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30")
    ]


def test_configured_deadline_and_same_day_validity() -> None:
    snap = world()
    timing = replace(TIMING, years=ReportingYears(12, 15))

    def kinds(moment: datetime) -> list[Kind]:
        return [d.kind for d in due_now(snap, moment, timing)]

    assert kinds(local(12, 8, 9)) == [Kind.DEADLINE, Kind.DEADLINE]
    assert kinds(local(12, 8, 23, 59)) == []  # quiet anyway
    assert kinds(local(12, 9, 9)) == []  # yesterday's "7 days left" is stale
    keys = {d.key for d in due_now(snap, local(12, 8, 9), timing)}
    assert keys == {"deadline:10:2026-12-15-7d:3", "deadline:10:2026-12-15-7d:4"}


# --- /plan dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", date(2026, 11, 20)),
        ("明天", date(2026, 11, 21)),
        ("后天", date(2026, 11, 22)),
        ("2026-12-01", date(2026, 12, 1)),
        ("１２月３日", date(2026, 12, 3)),
        ("1月5日", date(2027, 1, 5)),
        ("20261125", date(2026, 11, 25)),
    ],
)
def test_plan_dates(text: str, expected: date) -> None:
    assert parse_plan_date(text, date(2026, 11, 20)) == (expected, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2026-11-19", "plan_date_past"),
        ("下周", "plan_date_unreadable"),
        ("2026-02-30", "date_invalid"),
        ("2028-01-01", "plan_date_too_far"),
    ],
)
def test_plan_dates_refused(text: str, error: str) -> None:
    assert parse_plan_date(text, date(2026, 11, 20)) == (None, error)
