"""The statistical year (统计年度): one function decides which year's tables an activity joins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.years import ReportingYears

YEARS = ReportingYears()


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (date(2026, 1, 1), 2026),
        (date(2026, 6, 15), 2026),
        (date(2026, 11, 30), 2026),  # the deadline day still belongs to its year
        (date(2026, 12, 1), 2027),  # the day after it starts the next one
        (date(2026, 12, 4), 2027),
        (date(2026, 12, 31), 2027),
        (date(2027, 11, 30), 2027),
    ],
)
def test_year_of(day: date, year: int) -> None:
    assert YEARS.year_of(day) == year


def test_spans_tile_the_calendar_without_gap_or_overlap() -> None:
    first, last = YEARS.span(2027)
    assert (first, last) == (date(2026, 12, 1), date(2027, 11, 30))
    assert YEARS.span(2028)[0] == last + timedelta(days=1)
    day = date(2025, 1, 1)
    while day < date(2029, 1, 1):
        year = YEARS.year_of(day)
        lo, hi = YEARS.span(year)
        assert lo <= day <= hi
        day += timedelta(days=1)


def test_a_configured_deadline_moves_the_cut() -> None:
    years = ReportingYears(12, 15)
    assert years.year_of(date(2026, 12, 15)) == 2026
    assert years.year_of(date(2026, 12, 16)) == 2027
    assert years.span(2027) == (date(2026, 12, 16), date(2027, 12, 15))
    # a deadline early in the year makes the statistical year start in that year's autumn
    october = ReportingYears(10, 9)
    assert october.year_of(date(2026, 10, 10)) == 2027
    assert october.first_month(2027) == 10


def test_editability_follows_the_statistical_year() -> None:
    assert YEARS.editable_until(date(2026, 12, 4)) == date(2027, 11, 30)
    assert YEARS.editable_until(date(2026, 11, 29)) == date(2026, 11, 30)
    assert not YEARS.is_closed(date(2026, 11, 29), date(2026, 11, 30))
    assert YEARS.is_closed(date(2026, 11, 29), date(2026, 12, 1))
    assert not YEARS.is_closed(date(2026, 12, 4), date(2026, 12, 5))
    assert YEARS.first_month(2027) == 12
