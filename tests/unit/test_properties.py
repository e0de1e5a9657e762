"""Property-based tests of every parser of user input (hypothesis).

Two properties per parser:

* **no input breaks it**: any text (unicode, huge numbers, full-width digits, and text built
  from the pieces people really type) gives a value or the parser's own way of saying "invalid"
  (an error key from the text catalog, or ``ValueError`` for settings), never another exception;
* **accepted values round-trip**: a value, written back the way the bot shows it, parses to
  the same value.

Every input hypothesis once broke a parser with is pinned as an ``@example``.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.locales.zh import TEXTS
from core.registry_rules import (
    Person,
    parse_approval_date,
    parse_count,
    parse_org_name,
    parse_people,
    parse_person,
    parse_phone,
)
from core.rules import (
    MAX_HEADCOUNT,
    _chinese_number,
    format_date,
    parse_activity_date,
    parse_headcount,
    parse_plan_date,
)
from core.settings import format_month_day, format_quiet_hours, parse_month_day, parse_quiet_hours

# A fixed seed and a modest number of examples: the same cases on every run, a few seconds each.
settings.register_profile(
    "kexie-properties", derandomize=True, max_examples=300, deadline=None, database=None
)
PROFILE = settings.get_profile("kexie-properties")

TODAYS = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))


def typed(pieces: list[str]) -> st.SearchStrategy[str]:
    """Text built from the pieces people type, so the parser's accepting paths get exercised."""
    return st.lists(st.sampled_from(pieces), max_size=8).map("".join)


DATE_PIECES = [
    "2021", "2020", "0000", "9999", "11", "3", "03", "0", "00", "13", "29", "31", "99", "1",
    "年", "月", "日", "号", "-", "/", ".", " ", ",", "，",
    "今天", "昨天", "前天", "明天", "后天", "大前天", "yesterday", "tomorrow",
    "上午", "下午", "周六", "（星期日）", "14:30", "9:05:00", "2点", "半", "点",
    "２０２１", "１１", "３", "〇", "٣",
]  # fmt: skip
HEADCOUNT_PIECES = [
    "约", "大约", "共", "有", "一", "二", "两", "三", "五", "六", "九", "十", "百", "千", "万",
    "零", "〇", "人", "名", "位", "个", "人次", "多", "余", "来", "左右", "上下",
    "-", "~", "到", ",", "1", "0", "5", "9", "250", "1000000", "５", "０", " ",
]  # fmt: skip
NUMERAL_PIECES = ["零", "〇", "一", "二", "两", "三", "五", "七", "九", "十", "百", "千", "万"]
PERSON_PIECES = [
    "张三", "李四", "主席", "副主席", "/", "／", " ", "\n", ";", "；",
    "13800000000", "+86", "86", "1380000", "028-12345678", "(028)12345678", "010-8765432",
    "-", "转", "123", "０２８", "１３８００００００００",
]  # fmt: skip
SETTING_PIECES = ["0", "1", "2", "9", "11", "12", "13", "23", "24", "30", "59", "60", ":", "-",
                  " ", "：", "－", "２", "abc"]  # fmt: skip

ANY = st.text()
HUGE = st.integers(min_value=10**6, max_value=10**40).map(str)


def catalog_key(error: str | None) -> bool:
    """The parser's "invalid" answer: a key that names a sentence in the catalog."""
    return error is not None and error in TEXTS


# --- dates of an activity (/report) ---------------------------------------------------------


@PROFILE
@given(st.one_of(ANY, HUGE, typed(DATE_PIECES)), TODAYS)
@example("2021-11-3 9:30", date(2021, 11, 5))
@example("一" * 5000, date(2021, 11, 5))
def test_activity_date_never_breaks(text: str, today: date) -> None:
    value, error = parse_activity_date(text, today)
    if value is None:
        assert catalog_key(error)
    else:
        assert error is None
        assert date(2000, 1, 1) <= value <= today


@PROFILE
@given(TODAYS, st.integers(min_value=0, max_value=20 * 366))
def test_activity_date_round_trips(today: date, back: int) -> None:
    value = max(today - timedelta(days=back), date(2000, 1, 1))
    assert parse_activity_date(format_date(value), today) == (value, None)
    assert parse_activity_date(value.isoformat(), today) == (value, None)


# --- dates of a plan (/plan) ----------------------------------------------------------------


@PROFILE
@given(st.one_of(ANY, HUGE, typed(DATE_PIECES)), TODAYS)
@example("昨天", date(2021, 11, 5))
def test_plan_date_never_breaks(text: str, today: date) -> None:
    value, error = parse_plan_date(text, today)
    if value is None:
        assert catalog_key(error)
    else:
        assert error is None
        assert today <= value <= today + timedelta(days=366)


@PROFILE
@given(TODAYS, st.integers(min_value=0, max_value=366))
def test_plan_date_round_trips(today: date, ahead: int) -> None:
    value = today + timedelta(days=ahead)
    assert parse_plan_date(format_date(value), today) == (value, None)
    past = today - timedelta(days=ahead + 1)
    assert parse_plan_date(format_date(past), today) == (None, "plan_date_past")


# --- headcounts and Chinese numerals ------------------------------------------------------


@PROFILE
@given(st.one_of(ANY, HUGE, typed(HEADCOUNT_PIECES)))
@example("一" * 5000)  # more digits than int() converts: was an uncaught ValueError
@example("9" * 5000)
def test_headcount_never_breaks(text: str) -> None:
    value, error = parse_headcount(text)
    if value is None:
        assert catalog_key(error)
    else:
        assert error is None
        assert 1 <= value <= MAX_HEADCOUNT


@PROFILE
@given(st.integers(min_value=1, max_value=MAX_HEADCOUNT))
def test_headcount_round_trips(n: int) -> None:
    shown = TEXTS["headcount_value"].format(n=n)  # how the summary card shows it: 50人
    assert parse_headcount(shown) == (n, None)
    assert parse_headcount(str(n)) == (n, None)
    assert parse_headcount(f"{n:,}") == (n, None)


_DIGITS = "零一二三四五六七八九"


def chinese(n: int) -> str:
    """``n`` (0 < n < 10**8) in Chinese numerals the way people write them: 一百零五, 二万三千."""

    def below_10000(m: int) -> str:
        out, zero = "", False
        for unit, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = m // unit % 10
            if d == 0:
                zero = bool(out)
                continue
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[d] + name
        return out

    high, low = divmod(n, 10000)
    if not high:
        text = below_10000(low)
        return text[1:] if text.startswith("一十") else text  # 十二, not 一十二
    tail = below_10000(low)
    if tail and low < 1000:
        tail = "零" + tail
    return below_10000(high) + "万" + tail


@PROFILE
@given(st.one_of(ANY, typed(NUMERAL_PIECES)))
@example("一" * 5000)
def test_chinese_numeral_never_breaks(text: str) -> None:
    value = _chinese_number(text)
    assert value is None or value >= 0


@PROFILE
@given(st.integers(min_value=1, max_value=10**8 - 1))
@example(10)
@example(105)
@example(250)
@example(15000)
@example(100000)
def test_chinese_numeral_round_trips(n: int) -> None:
    assert _chinese_number(chinese(n)) == n
    if n <= MAX_HEADCOUNT:
        assert parse_headcount(chinese(n) + "人") in ((n, None), (None, "headcount_range"))


@pytest.mark.parametrize(("n", "text"), [(105, "一百零五"), (12, "十二"), (20003, "二万零三")])
def test_chinese_writer_of_this_file(n: int, text: str) -> None:
    assert chinese(n) == text


# --- registry person cells and the other registry answers ------------------------------------


@PROFILE
@given(st.one_of(ANY, typed(PERSON_PIECES)))
@example("张三/主席/13८००००००००")  # Devanagari digits: were stored as the phone number
def test_person_never_breaks(text: str) -> None:
    person, error = parse_person(text)
    if person is None:
        assert catalog_key(error)
    else:
        assert error is None
        assert person.phone.replace("-", "").isascii() and person.phone.replace("-", "").isdigit()
    people, error = parse_people("vice_chair", text)
    assert (people is None) == catalog_key(error)


@PROFILE
@given(st.one_of(ANY, typed(PERSON_PIECES)))
@example(";//0101000000")  # a name of ";" was accepted, then split in two when read back
def test_person_round_trips(text: str) -> None:
    person, _ = parse_person(text)
    if person is not None:
        assert parse_person(person.cell()) == (person, None)
        assert parse_people("chair", person.cell()) == ([person], None)


@PROFILE
@given(
    st.text(min_size=1, max_size=64).filter(lambda s: "/" not in s),
    st.text(max_size=64).filter(lambda s: "/" not in s),
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
)
def test_person_from_parts_round_trips(name: str, title: str, phone: str) -> None:
    person, error = parse_person(Person(name, title, phone).cell())
    if person is not None:
        assert parse_person(person.cell()) == (person, None)
    else:
        assert catalog_key(error)


@PROFILE
@given(st.one_of(ANY, HUGE, typed(PERSON_PIECES + HEADCOUNT_PIECES + DATE_PIECES)), TODAYS)
def test_other_registry_answers_never_break(text: str, today: date) -> None:
    for value, error in (
        parse_phone(text),
        parse_count(text),
        parse_approval_date(text, today),
        parse_org_name(text),
    ):
        assert (value is None) == catalog_key(error)
    count, _ = parse_count(text)
    if count is not None:
        assert parse_count(str(count)) == (count, None)
    phone, _ = parse_phone(text)
    if phone is not None:
        assert parse_phone(phone) == (phone, None)


# --- settings: quiet hours and the annual deadline ------------------------------------------


@PROFILE
@given(st.one_of(ANY, HUGE, typed(SETTING_PIECES)))
def test_quiet_hours_never_break(text: str) -> None:
    try:
        quiet = parse_quiet_hours(text)
    except ValueError as exc:
        assert str(exc).startswith("KEXIE_QUIET_HOURS")
        return
    assert parse_quiet_hours(format_quiet_hours(quiet)) == quiet


@PROFILE
@given(st.times(), st.times())
def test_quiet_hours_round_trip(start: time, end: time) -> None:
    quiet = (start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))
    assert parse_quiet_hours(format_quiet_hours(quiet)) == quiet


@PROFILE
@given(st.one_of(ANY, HUGE, typed(SETTING_PIECES)))
@example("02-30")
@example("2-30")
@example("02-29")
def test_deadline_never_breaks(text: str) -> None:
    try:
        month, day = parse_month_day(text)
    except ValueError as exc:
        assert str(exc).startswith("KEXIE_ANNUAL_DEADLINE")
        return
    # the scheduler builds the deadline of every year from it
    for year in (2023, 2024, 2100):
        date(year, month, day)
    assert parse_month_day(format_month_day((month, day))) == (month, day)


@PROFILE
@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2001, 12, 31)))
def test_deadline_round_trips(day: date) -> None:
    assert parse_month_day(format_month_day((day.month, day.day))) == (day.month, day.day)
