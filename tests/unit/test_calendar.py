"""The working-day rule (core.calendar) and the reminders it moves off holidays and weekends."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core import calendar
from core.calendar import is_working_day, next_working_day, on_working_day
from core.years import ReportingYears
from scheduler.reminders import deadline_reminders, plan_reminders, quiet_nudges
from scheduler.rows import Kind, OrgRow, PlanRow, Recipient, Snapshot, Timing
from tests.accounts import tg

TZ = ZoneInfo("Asia/Shanghai")
HOLIDAYS = Timing(tz=TZ, holidays=True)


def test_national_day_2025_holiday_and_make_up_days() -> None:
    # The State Council's 2025 calendar: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 worked.
    for day in range(1, 9):
        assert not is_working_day(date(2025, 10, day)), day
    assert is_working_day(date(2025, 9, 28))
    assert is_working_day(date(2025, 10, 11))
    assert is_working_day(date(2025, 10, 9))
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday


def test_next_working_day_crosses_the_holiday() -> None:
    assert next_working_day(date(2025, 10, 1)) == date(2025, 10, 9)
    assert next_working_day(date(2025, 9, 27)) == date(2025, 9, 28)  # Saturday → make-up Sunday
    assert next_working_day(date(2025, 10, 9)) == date(2025, 10, 9)


def test_on_working_day_moves_to_the_morning_or_keeps_the_moment() -> None:
    morning = time(9, 0)
    holiday = datetime(2025, 10, 3, 10, 0, tzinfo=TZ)
    assert on_working_day(holiday, TZ, morning) == datetime(2025, 10, 9, 9, 0, tzinfo=TZ)
    workday = datetime(2025, 10, 11, 10, 0, tzinfo=TZ)
    assert on_working_day(workday, TZ, morning) is workday


def test_unknown_year_falls_back_to_weekends_with_one_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert not is_working_day(date(2099, 10, 3))  # a Saturday
        assert is_working_day(date(2099, 10, 1))  # a Thursday: no data, so not a holiday
        assert is_working_day(date(2099, 10, 2))
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1


def _people(*ids: int) -> dict[int, Recipient]:
    return {i: Recipient(id=i, address=tg(100 + i)) for i in ids}


def test_plan_question_on_a_holiday_waits_and_the_last_call_does_not() -> None:
    snap = Snapshot(people=_people(1, 2), org_admins={1: [2]}, reporters={1: {1}})
    snap.plans = [PlanRow(1, 1, 1, "交流会", date(2025, 9, 30))]
    items = {d.kind: d for d in plan_reminders(snap, HOLIDAYS)}
    # The morning after (10-01) is a holiday: the question moves to 10-09, after the window's
    # last day (10-03 last call, never moved), so it is not asked at all.
    assert Kind.PLAN_ASK not in items
    assert items[Kind.PLAN_LAST_CALL].due_at == datetime(2025, 10, 3, 9, 0, tzinfo=TZ)
    # The org admin hears of the missed plan on the next working day.
    assert items[Kind.PLAN_MISSED].due_at == datetime(2025, 10, 9, 9, 0, tzinfo=TZ)


def test_quiet_nudge_on_a_holiday_moves_to_the_make_up_day() -> None:
    created = datetime(2025, 9, 11, 10, 0, tzinfo=TZ)  # 30 days later: Saturday 10-11, worked
    snap = Snapshot(people=_people(2), org_admins={1: [2]})
    snap.orgs = {1: OrgRow(1, 10, "甲", created_at=created)}
    now = datetime(2025, 10, 11, 12, 0, tzinfo=TZ)
    (item,) = quiet_nudges(snap, now, HOLIDAYS)
    assert item.due_at == datetime(2025, 10, 11, 10, 0, tzinfo=TZ)
    created = datetime(2025, 9, 2, 10, 0, tzinfo=TZ)  # 30 days later: 10-02, a holiday
    snap.orgs = {1: OrgRow(1, 10, "甲", created_at=created)}
    (item,) = quiet_nudges(snap, datetime(2025, 10, 9, 12, 0, tzinfo=TZ), HOLIDAYS)
    assert item.due_at == datetime(2025, 10, 9, 9, 0, tzinfo=TZ)


def test_deadline_reminders_move_but_never_the_last_day() -> None:
    snap = Snapshot(people=_people(3), district_admins={10: [3]})
    timing = replace(HOLIDAYS, years=ReportingYears(10, 9))
    now = datetime(2025, 9, 1, 12, 0, tzinfo=TZ)
    items = {d.slot: d for d in deadline_reminders(snap, now, timing) if d.kind == Kind.DEADLINE}
    # 7 days before is 10-02 (holiday) → 10-09 would be after the 1-day one: dropped.
    assert "2025-10-09-7d" not in items
    # 1 day before is 10-08, a holiday: the last-day reminder is sent anyway.
    assert items["2025-10-09-1d"].due_at == datetime(2025, 10, 8, 9, 0, tzinfo=TZ)
    # 14 days before is Thursday 09-25, a working day: unchanged.
    assert items["2025-10-09-14d"].due_at == datetime(2025, 9, 25, 9, 0, tzinfo=TZ)


def test_without_the_calendar_nothing_moves() -> None:
    snap = Snapshot(people=_people(1, 2), org_admins={1: [2]}, reporters={1: {1}})
    snap.plans = [PlanRow(1, 1, 1, "交流会", date(2025, 9, 30))]
    items = {d.kind: d for d in plan_reminders(snap, Timing(tz=TZ))}
    assert items[Kind.PLAN_ASK].due_at == datetime(2025, 10, 1, 9, 0, tzinfo=TZ)
