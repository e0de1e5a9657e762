"""The statistical year (统计年度): which year's tables an activity counts toward.

The tables of year Y are due on Y's annual deadline (30 November unless ``KEXIE_ANNUAL_DEADLINE``
says otherwise), so year Y runs from the day after Y-1's deadline to Y's deadline: with the
default, 1 December 2026 – 30 November 2027 is 2027. Every place that speaks of "a year" (reference
numbers, editability, reminders, /mine, /status, the console's filters and all three exports)
asks :class:`ReportingYears`, so an activity belongs to exactly one year's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ReportingYears:
    """The statistical years cut by an annual deadline (month, day)."""

    month: int = 11
    day: int = 30

    def deadline(self, year: int) -> date:
        """The annual deadline of ``year``: its tables are due that day (inclusive)."""
        return date(year, self.month, self.day)

    def year_of(self, day: date) -> int:
        """The statistical year ``day`` belongs to: that of the first deadline on or after it."""
        return day.year if day <= self.deadline(day.year) else day.year + 1

    def span(self, year: int) -> tuple[date, date]:
        """The first and last day of ``year``'s activities (both inclusive)."""
        return self.deadline(year - 1) + timedelta(days=1), self.deadline(year)

    def editable_until(self, activity_date: date) -> date:
        """A submitted report can be changed until its year's deadline (inclusive)."""
        return self.deadline(self.year_of(activity_date))

    def is_closed(self, activity_date: date, today: date) -> bool:
        """Whether the year of ``activity_date`` is past its deadline on ``today``."""
        return today > self.editable_until(activity_date)

    def first_month(self, year: int) -> int:
        """The calendar month ``year``'s activities start in (December with the default)."""
        return self.span(year)[0].month
