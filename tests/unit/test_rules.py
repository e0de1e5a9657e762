"""Unit tests of the plain rules: dates, headcounts, texts, the 3-day window."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.rules import (
    check_text,
    format_date,
    parse_activity_date,
    parse_headcount,
    parse_role,
    reference_number,
    shorten,
    timeliness,
    window_closes_at,
)

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2021, 11, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-11-03", date(2021, 11, 3)),
        ("2021/11/3", date(2021, 11, 3)),
        ("2021.11.3", date(2021, 11, 3)),
        ("2021年11月3日", date(2021, 11, 3)),
        ("2021 年 11 月 3 日", date(2021, 11, 3)),
        ("20211103", date(2021, 11, 3)),
        ("11月3日", date(2021, 11, 3)),
        ("11月3号", date(2021, 11, 3)),
        ("11.3", date(2021, 11, 3)),
        ("11/3", date(2021, 11, 3)),
        ("11-3", date(2021, 11, 3)),
        ("今天", TODAY),
        ("昨天", date(2021, 11, 4)),
        ("前天", date(2021, 11, 3)),
        ("２０２１－１１－０３", date(2021, 11, 3)),
        ("１１月３日", date(2021, 11, 3)),
        ("  11.3  ", date(2021, 11, 3)),
        # a month-day that would lie ahead this year is last year's
        ("12月30日", date(2020, 12, 30)),
        # a clock time after a one-digit day must not run into it ("…-39:30")
        ("2021-11-3 9:30", date(2021, 11, 3)),
        ("11月3日 下午 2 点", date(2021, 11, 3)),
    ],
)
def test_dates_people_type(text: str, expected: date) -> None:
    assert parse_activity_date(text, TODAY) == (expected, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2021-11-06", "date_future"),
        # read as tomorrow, so the answer says why it is refused
        ("明天", "date_future"),
        ("2021-02-30", "date_invalid"),
        ("13月1日", "date_invalid"),
        ("很久以前", "date_unreadable"),
        ("", "date_unreadable"),
        ("1999-01-01", "date_too_old"),
    ],
)
def test_dates_refused(text: str, error: str) -> None:
    assert parse_activity_date(text, TODAY) == (None, error)


def test_today_is_not_future() -> None:
    assert parse_activity_date("2021-11-05", TODAY) == (TODAY, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50", 50),
        ("50人", 50),
        ("约50人", 50),
        ("大约 50 人", 50),
        ("５０", 50),
        ("５０人", 50),
        ("50余人", 50),
        ("50多人", 50),
        ("共120名", 120),
        ("1,200", 1200),
        ("五十人", 50),
        ("一百二十人", 120),
        ("两千", 2000),
        ("十", 10),
        ("1", 1),
    ],
)
def test_headcounts_people_type(text: str, expected: int) -> None:
    assert parse_headcount(text) == (expected, None)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("0", "headcount_not_positive"),
        ("-3", "headcount_not_positive"),
        ("零", "headcount_not_positive"),
        ("很多", "headcount_unreadable"),
        ("50.5", "headcount_unreadable"),
        ("abc", "headcount_unreadable"),
        ("", "headcount_unreadable"),
        ("99999999", "headcount_too_large"),
        # more numerals than int() converts from a string: was an uncaught ValueError
        ("一" * 5000, "headcount_unreadable"),
    ],
)
def test_headcounts_refused(text: str, error: str) -> None:
    assert parse_headcount(text) == (None, error)


def test_role_and_text() -> None:
    assert parse_role("主办") == ("主办", None)
    assert parse_role("主持") == (None, "role_invalid")
    assert check_text("  科普讲座 ", 10) == ("科普讲座", None)
    assert check_text("   ", 10) == (None, "text_empty")
    assert check_text("一" * 11, 10) == (None, "text_too_long")


def test_window_closes_at_end_of_third_day_local() -> None:
    closes = window_closes_at(date(2021, 11, 3), TZ)
    assert closes == datetime(2021, 11, 7, 0, 0, tzinfo=TZ)
    # the last second of 6 November (Shanghai) is on time, midnight is late
    assert timeliness(date(2021, 11, 3), datetime(2021, 11, 6, 15, 59, 59, tzinfo=UTC), TZ).on_time
    late = timeliness(date(2021, 11, 3), datetime(2021, 11, 6, 16, 0, 0, tzinfo=UTC), TZ)
    assert (late.on_time, late.late_days) == (False, 1)
    # a UTC clock would still say 6 November; Shanghai says the window closed two days ago
    later = timeliness(date(2021, 11, 3), datetime(2021, 11, 8, 16, 30, tzinfo=UTC), TZ)
    assert (later.on_time, later.late_days) == (False, 3)


def test_same_day_report_is_on_time() -> None:
    judged = timeliness(date(2021, 11, 3), datetime(2021, 11, 3, 2, 0, tzinfo=UTC), TZ)
    assert judged.on_time and judged.late_days == 0


def test_formats() -> None:
    assert format_date(date(2021, 11, 3)) == "2021年11月3日"
    assert reference_number(42, 2021) == "KX21-0042"
    assert shorten("一二三四五", 3) == "一二…"
    assert shorten("一二三", 3) == "一二三"
