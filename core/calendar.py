"""Working days in mainland China: the official holidays and make-up working days (调休).

The official calendar is published each December by the State Council for the following year;
``chinesecalendar`` carries it as plain data. For a year the library does not know yet, the rule
falls back to "Saturday and Sunday are off", with a warning logged once per year, so a reminder
is at worst sent on a holiday rather than never.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)

# A holiday lasts at most 8 days and a weekend follows: 31 days always reach a working day.
_MAX_SEARCH_DAYS = 31
_warned_years: set[int] = set()


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (make-up working days included, holidays excluded)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("calendar: no official calendar for year %d, weekends only", day.year)
        return day.weekday() < 5


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    for offset in range(_MAX_SEARCH_DAYS):
        candidate = day + timedelta(days=offset)
        if is_working_day(candidate):
            return candidate
    return day  # unreachable with real calendars; never loop forever on bad data


def on_working_day(moment: datetime, tz: ZoneInfo, morning: time) -> datetime:
    """``moment`` if its local day is a working day, else the next working day's ``morning``."""
    local = moment.astimezone(tz)
    day = next_working_day(local.date())
    if day == local.date():
        return moment
    return datetime.combine(day, morning, tzinfo=tz)
