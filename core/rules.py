"""Plain business rules: parsing answers, the 3-day reporting window, the annual deadline.

Nothing here knows about Telegram or the database, so every rule has direct unit tests.
Parsers return ``(value, None)`` or ``(None, error_key)``; the key names a sentence in the text
catalog so the user is told exactly what was wrong.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.policy import Action, Actor, Target, allowed
from core.years import ReportingYears

WINDOW_DAYS = 3
ROLES = ("主办", "协办", "承办")
MAX_HEADCOUNT = 1_000_000
EARLIEST_DATE = date(2000, 1, 1)

NAME_MAX = 100
CONTENT_MAX = 3000
OUTCOME_MAX = 2000


def normalize(text: str) -> str:
    """Fold full-width digits and punctuation (NFKC) and trim whitespace."""
    return unicodedata.normalize("NFKC", text).strip()


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def format_date(d: date, lang: str = "zh") -> str:
    """A date in the reader's language: ``2021年11月3日`` (as Chinese forms write it), or
    ``3 November 2021`` in English."""
    if lang == "en":
        return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
    return f"{d.year}年{d.month}月{d.day}日"


def format_month_day(month: int, day: int, lang: str = "zh") -> str:
    """A day of the year without its year: ``11月3日``, or ``3 November`` in English."""
    if lang == "en":
        return f"{day} {_MONTHS[month - 1]}"
    return f"{month}月{day}日"


def format_datetime(dt: datetime, tz: ZoneInfo, lang: str = "zh") -> str:
    """A moment in local time: ``2021年11月3日 14:05``, or ``3 November 2021, 14:05``."""
    local = dt.astimezone(tz)
    if lang == "en":
        return f"{format_date(local.date(), lang)}, {local:%H:%M}"
    return f"{format_date(local.date())} {local:%H:%M}"


# Relative day words, as an offset from today (negative: the past).
_RELATIVE = {
    "今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3,
    "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
    "today": 0, "yesterday": -1, "daybeforeyesterday": -2,
    "tomorrow": 1, "dayaftertomorrow": 2,
}  # fmt: skip
# What people add after a date when they copy it from a notice: weekday, time of day, clock time.
_DATE_NOISE = re.compile(
    r"[(（]?(?:周|星期|礼拜)[一二三四五六日天][)）]?"
    r"|(?:上午|下午|中午|晚上|早上|傍晚|凌晨|全天)"
    r"|\d{1,2}[:：]\d{2}(?:[:：]\d{2})?"
    r"|\d{1,2}点(?:\d{1,2}分|半)?"
)
_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_SHORT = re.compile(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
# Longer than any date with a weekday and a clock time: refused before any regex runs.
_DATE_TEXT_MAX = 64


def read_date_text(text: str) -> int | tuple[int | None, int, int] | None:
    """What a typed date says, before any judgement: a day offset for 今天/昨天/明天…, or
    ``(year or None, month, day)`` as written (not checked to exist), or None if unreadable.

    Weekdays, times of day and clock times copied along with the date are ignored.
    """
    raw = normalize(text).lower()
    if len(raw) > _DATE_TEXT_MAX:
        return None
    compact = raw.replace(" ", "")
    if compact in _RELATIVE:
        return _RELATIVE[compact]
    # Noise goes first while spaces still separate it, so "2021-11-3 9:30" does not run together
    # into "…39:30"; a second pass catches noise that was itself spaced out ("下午 2 点").
    raw = _DATE_NOISE.sub("", _DATE_NOISE.sub("", raw).replace(" ", "")).rstrip(",，")
    if raw in _RELATIVE:
        return _RELATIVE[raw]
    if m := _FULL.fullmatch(raw) or _COMPACT.fullmatch(raw):
        year, month, day = (int(g) for g in m.groups())
        return year, month, day
    if m := _SHORT.fullmatch(raw):
        month, day = (int(g) for g in m.groups())
        return None, month, day
    return None


def parse_activity_date(text: str, today: date) -> tuple[date | None, str | None]:
    """Parse what people type for a date; refuse future and implausible dates.

    Accepts ``2021-11-03``, ``2021/11/3``, ``2021.11.3``, ``2021年11月3日``, ``20211103``,
    ``11月3日``, ``11.3``, ``11/3``, ``今天``, ``昨天``, ``前天`` and full-width digits. A date
    without a year is this year's, or last year's when this year's would lie in the future.
    """
    parts = read_date_text(text)
    if parts is None:
        return None, "date_unreadable"
    if isinstance(parts, int):
        value = today + timedelta(days=parts)
    else:
        year, month, day = parts
        try:
            if year is None:
                value = date(today.year, month, day)
                if value > today:
                    value = date(today.year - 1, month, day)
            else:
                value = date(year, month, day)
        except ValueError:
            return None, "date_invalid"
    if value > today:
        return None, "date_future"
    if value < EARLIEST_DATE:
        return None, "date_too_old"
    return value, None


PLAN_AHEAD_DAYS = 366


def check_plan_date(value: date, today: date) -> str | None:
    """Whether ``value`` may be a planned activity's date: today or later, within a year."""
    if value < today:
        return "plan_date_past"
    if (value - today).days > PLAN_AHEAD_DAYS:
        return "plan_date_too_far"
    return None


def _existing(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_plan_date(text: str, today: date) -> tuple[date | None, str | None]:
    """A planned activity's date: the same forms as :func:`parse_activity_date` plus 明天/后天.

    A date without a year is the occurrence nearest to today, so ``11月3日`` typed on 5 November
    is two days past (and refused as past), while ``1月10日`` typed in December is next January.
    """
    parts = read_date_text(text)
    if parts is None:
        return None, "plan_date_unreadable"
    if isinstance(parts, int):
        value = today + timedelta(days=parts)
    else:
        year, month, day = parts
        if year is not None:
            found = _existing(year, month, day)
        else:
            this_year = _existing(today.year, month, day)
            next_year = _existing(today.year + 1, month, day)
            found = this_year or next_year
            if this_year is not None and this_year < today and next_year is not None:
                found = min(next_year, this_year, key=lambda d: abs((d - today).days))
        if found is None:
            return None, "date_invalid"
        value = found
    error = check_plan_date(value, today)
    return (None, error) if error else (value, None)


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
_CN_NUMBER_MAX = 24


def _chinese_number(text: str) -> int | None:
    """Convert Chinese numerals to an int: ``五十``, ``一百二十``, ``二百五`` (250), ``一万五``
    (15000), ``一二〇`` (120, digit by digit). Returns None for anything else."""
    # No headcount needs more numerals than this; thousands of digits would also exceed what
    # int() converts from a string (a ValueError the caller does not expect).
    if not text or len(text) > _CN_NUMBER_MAX:
        return None
    if any(c not in _CN_DIGITS and c not in _CN_UNITS for c in text):
        return None
    if not any(c in _CN_UNITS for c in text):
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, section, digit = 0, 0, None
    last_unit = 1
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        else:
            unit = _CN_UNITS[ch]
            if unit == 10000:
                total += (section + (digit or 0)) * unit
                section = 0
            else:
                section += (digit if digit is not None else 1) * unit
            digit, last_unit = None, unit
    if digit is not None and text[-2] in _CN_UNITS and last_unit >= 100:
        # 二百五 = 250, 一万五 = 15000: a digit right after 百/千/万 counts in the next unit down
        digit *= last_unit // 10
    return total + section + (digit or 0)


def _is_spoken_range(text: str) -> bool:
    """``五六十``, ``两三百``, ``十五六``: two neighbouring digits mean "about five or six"."""
    digits = [c for c in text if c in _CN_DIGITS and _CN_DIGITS[c] > 0]
    if len(digits) < 2 or not any(c in _CN_UNITS for c in text):
        return False
    return any(
        a in _CN_DIGITS and b in _CN_DIGITS and _CN_DIGITS[a] > 0 and _CN_DIGITS[b] > 0
        for a, b in itertools.pairwise(text)
    )


_HEADCOUNT = re.compile(
    r"(?:约莫|大约|大概|约|共计|合计|总共|共|有)?\s*(-?[\d,]+|[零〇一二两三四五六七八九十百千万]+)\s*"
    r"(?:余|多|来|几)?\s*(?:个人|人次|人|名|位|个)?\s*(?:左右|上下)?"
)
_RANGE = re.compile(r"\d+\s*(?:-|~|～|—|到|至)\s*\d+")


def parse_headcount(text: str) -> tuple[int | None, str | None]:
    """Parse a positive whole number of participants: ``50``, ``约50人``, ``５０人``, ``五十人``,
    ``50个人``; refuse ranges (``50-60人``, ``五六十人``) rather than guess."""
    raw = normalize(text).replace(" ", "").replace("約", "约")
    if _RANGE.search(raw):
        return None, "headcount_range"
    m = _HEADCOUNT.fullmatch(raw)
    if not m:
        return None, "headcount_unreadable"
    token = m.group(1)
    if token[0] in "-0123456789,":
        try:
            value = int(token.replace(",", ""))
        except ValueError:
            return None, "headcount_unreadable"
    else:
        if _is_spoken_range(token):
            return None, "headcount_range"
        parsed = _chinese_number(token)
        if parsed is None:
            return None, "headcount_unreadable"
        value = parsed
    if value <= 0:
        return None, "headcount_not_positive"
    if value > MAX_HEADCOUNT:
        return None, "headcount_too_large"
    return value, None


def parse_role(text: str) -> tuple[str | None, str | None]:
    """Accept one of 主办/协办/承办 (also typed)."""
    raw = normalize(text)
    return (raw, None) if raw in ROLES else (None, "role_invalid")


def check_text(text: str, limit: int, *, one_line: bool = False) -> tuple[str | None, str | None]:
    """A free-text answer: non-empty after trimming, at most ``limit`` characters; a name
    (``one_line``) must not span several lines (a pasted template would land in one cell)."""
    value = text.strip()
    if not value:
        return None, "text_empty"
    if len(value) > limit:
        return None, "text_too_long"
    if one_line and "\n" in value:
        return None, "text_one_line"
    return value, None


def window_closes_at(activity_date: date, tz: ZoneInfo) -> datetime:
    """The moment the 3-day window closes: the end of the third day after the activity."""
    return datetime.combine(activity_date + timedelta(days=WINDOW_DAYS + 1), time(0), tzinfo=tz)


@dataclass(frozen=True)
class Timeliness:
    """Whether a report is on time, and by how many days it is late."""

    on_time: bool
    late_days: int


def timeliness(activity_date: date, submitted_at: datetime, tz: ZoneInfo) -> Timeliness:
    """Judge a submission against the 3-day window (Asia/Shanghai by default)."""
    closes = window_closes_at(activity_date, tz)
    if submitted_at < closes:
        return Timeliness(True, 0)
    late = (submitted_at.astimezone(tz).date() - (activity_date + timedelta(days=WINDOW_DAYS))).days
    return Timeliness(False, max(late, 1))


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def reference_number(activity_id: int, year: int) -> str:
    """A short reference a user can quote on the phone: ``KX21-0042``."""
    return f"KX{year % 100:02d}-{activity_id:04d}"


HEADCOUNT_CONFIRM_AT = 10_000  # an activity this large is rare; an extra zero is not


def needs_headcount_confirmation(headcount: int) -> bool:
    """Whether a headcount is large enough to ask "is that right?" before storing it."""
    return headcount >= HEADCOUNT_CONFIRM_AT


# ---------------------------------------------------------------------------------------------
# who may report, and change a report


def may_report(actor: Actor, org: Target, *, org_active: bool) -> bool:
    """Whether the actor may report an activity for an association: its reporters and org
    admins, while the association is active."""
    return org_active and allowed(actor, Action.REPORT, org)


def may_continue_draft(actor: Actor, report: Target) -> bool:
    """A draft is its author's alone, and only while they may still report for its association."""
    return report.author_member_id == actor.member_id and allowed(actor, Action.REPORT, report)


def may_amend(
    actor: Actor,
    report: Target,
    activity_date: date | None,
    today: date,
    years: ReportingYears,
    *,
    returned: bool = False,
) -> bool:
    """Whether the actor may change, withdraw or resubmit a report today: its author or the org
    admin, until the deadline of the report's statistical year, inclusive, and in any case
    while its 3-day reporting window is open (an activity on 29 November, reported on
    1 December, can still be fixed on 2 December).

    A report the district ``returned`` (已退回) may always be corrected and resubmitted, also
    after that deadline (the card then says it came late): a return is never a dead end."""
    if not allowed(actor, Action.EDIT_REPORT, report):
        return False
    if activity_date is None:
        return False
    in_window = today <= activity_date + timedelta(days=WINDOW_DAYS)
    return returned or in_window or not years.is_closed(activity_date, today)


MIN_PHOTOS = 1  # 完成 on the evidence question needs at least this many photos


def evidence_ready(kinds: Iterable[str]) -> bool:
    """Whether the evidence question may end: at least :data:`MIN_PHOTOS` photo(s) among the
    files' kinds (documents such as sign-in sheets are welcome but not enough)."""
    return sum(1 for kind in kinds if kind == "photo") >= MIN_PHOTOS
