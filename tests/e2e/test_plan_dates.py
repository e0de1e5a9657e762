"""/plan with a date that has already passed: the answer says so instead of "cannot read".

The parser and the "past" judgement are plain rules (``core.rules.parse_plan_date``,
``core.rules.check_plan_date``); one end-to-end test shows what the reporter reads.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.rules import check_plan_date, format_date, parse_plan_date
from storage.models import utcnow
from tests.harness import Kexie

TODAY = date(2021, 11, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天", TODAY),
        ("明天", date(2021, 11, 6)),
        ("后天", date(2021, 11, 7)),
        ("tomorrow", date(2021, 11, 6)),
        ("2021-11-20", date(2021, 11, 20)),
        ("2021年11月20日", date(2021, 11, 20)),
        ("11月20日", date(2021, 11, 20)),
        ("１１月２０日", date(2021, 11, 20)),
        ("20211120", date(2021, 11, 20)),
        # what people copy from a notice: weekday and time of day
        ("11月20日（周六）下午2点", date(2021, 11, 20)),
        ("2021-11-20 14:30", date(2021, 11, 20)),
        # in November, "January" without a year is next January
        ("1月10日", date(2022, 1, 10)),
        (format_date(date(2022, 3, 1)), date(2022, 3, 1)),
    ],
)
def test_plan_dates_accepted(text: str, expected: date) -> None:
    assert parse_plan_date(text, TODAY) == (expected, None)


@pytest.mark.parametrize(
    "text",
    [
        "昨天",
        "前天",
        "昨日",
        "yesterday",
        "2021-11-04",
        "2020年5月1日",
        "20211101",
        # a month-day a few days back is this year's, already past (not next year's)
        "11月3日",
        "11.1",
        "11月3日 上午",
    ],
)
def test_plan_dates_in_the_past(text: str) -> None:
    assert parse_plan_date(text, TODAY) == (None, "plan_date_past")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("下个月吧", "plan_date_unreadable"),
        ("", "plan_date_unreadable"),
        ("2021-02-30", "date_invalid"),
        ("13月1日", "date_invalid"),
        ("2023-01-01", "plan_date_too_far"),
    ],
)
def test_plan_dates_refused(text: str, error: str) -> None:
    assert parse_plan_date(text, TODAY) == (None, error)


def test_check_plan_date() -> None:
    assert check_plan_date(TODAY, TODAY) is None
    assert check_plan_date(TODAY - timedelta(days=1), TODAY) == "plan_date_past"
    assert check_plan_date(TODAY + timedelta(days=366), TODAY) is None
    assert check_plan_date(TODAY + timedelta(days=367), TODAY) == "plan_date_too_far"


async def test_plan_for_yesterday_says_the_date_has_passed(kexie: Kexie) -> None:
    org = await kexie.org("龙泉驿汽车科技科协", district="龙泉驿区")
    user = await kexie.member(1701, "reporter", org=org)
    await user.send("/plan")
    await user.expect_any("活动名称")
    await user.send("新能源汽车技术沙龙")
    await user.expect_any("计划哪天")
    await user.send("昨天")
    answer = await user.expect()
    assert "已经过去" in answer.text and "无法识别" not in answer.text
    last_week = utcnow().astimezone(kexie.settings.tz).date() - timedelta(days=7)
    await user.send(last_week.isoformat())
    answer = await user.expect()
    assert "已经过去" in answer.text
    # still at the date question: a date today or later is taken
    await user.press("今天")
    await user.expect_any("已登记")
