"""A report as the lines of a chat card: shared by the report flow and the deliveries."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from core.report_steps import QUESTIONS, Question, Shown
from core.rules import format_date, shorten
from core.texts import Raw, plain, t
from core.years import ReportingYears


class EvidenceLike(Protocol):
    """What a card needs of an evidence file."""

    @property
    def kind(self) -> str: ...


class ReportLike(Protocol):
    """What a card needs of a report (a stored activity, or any channel's copy of one)."""

    @property
    def activity_date(self) -> date | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def content(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def headcount(self) -> int | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def evidence(self) -> Sequence[EvidenceLike]: ...


def card_line(lang: str, label_key: str, value: object) -> str:
    """``<b>label</b>：value`` (value escaped; ``（未填）`` when missing)."""
    shown = plain(lang, "card_missing") if value is None else value
    return t(lang, "card_line", label=plain(lang, label_key), value=shown)


def answer_value(lang: str, q: Question, activity: ReportLike, text_chars: int) -> object | None:
    """One answer as the card writes it (None when unanswered)."""
    value = getattr(activity, q.field)
    match q.shown:
        case Shown.FILES:
            photos = sum(1 for e in activity.evidence if e.kind == "photo")
            docs = len(activity.evidence) - photos
            return plain(lang, "card_evidence", photos=photos, docs=docs)
        case Shown.DATE:
            return format_date(value, lang) if value else None
        case Shown.LONG_TEXT:
            return shorten(value, text_chars) if value else None
        case Shown.HEADCOUNT:
            return plain(lang, "headcount_value", n=value) if value else None
    return value


def answer_lines(lang: str, activity: ReportLike, text_chars: int) -> list[str]:
    """One ``<b>label</b>：value`` line per question of the report flow (annex 1-3's answers
    and the evidence count), in the order they are asked.

    Long content and outcome are shortened to ``text_chars`` (they are stored whole), so the
    card always fits one Telegram message.
    """
    return [
        card_line(lang, q.label, answer_value(lang, q, activity, text_chars)) for q in QUESTIONS
    ]


def year_notes(
    lang: str,
    activity_date: date | None,
    submitted_at: datetime | None,
    tz: ZoneInfo,
    years: ReportingYears,
) -> list[str]:
    """What a card says of the statistical year: which year's tables a report counts toward
    when that is not its calendar year (计入2027年度统计), and that it was (last) submitted after
    that year's deadline, so the district sees a late correction for tables already due."""
    if activity_date is None:
        return []
    year = years.year_of(activity_date)
    notes: list[str] = []
    if year != activity_date.year:
        notes.append(t(lang, "card_stat_year", year=year))
    if submitted_at is not None and submitted_at.astimezone(tz).date() > years.deadline(year):
        notes.append(
            t(
                lang,
                "card_after_deadline",
                year=year,
                deadline=format_date(years.deadline(year), lang),
            )
        )
    return notes


MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units of the text as shown
_TAG = re.compile(r"<[^>]*>")


def visible_length(text_html: str) -> int:
    """What Telegram counts against :data:`MAX_MESSAGE`: the shown text (tags gone, entities
    one character) in UTF-16 code units, so an emoji counts twice."""
    shown = html.unescape(_TAG.sub("", text_html))
    return len(shown.encode("utf-16-le")) // 2


def cut_visible(text_html: str, limit: int = MAX_MESSAGE) -> Raw:
    """Last resort for a message still too long: its shown text cut to ``limit`` and escaped
    again (the markup goes, but the message cannot be rejected for a half-cut tag or entity)."""
    shown = html.unescape(_TAG.sub("", text_html))
    units = 0
    for i, char in enumerate(shown):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            return Raw(html.escape(shown[:i], quote=False) + "…")
    return Raw(html.escape(shown, quote=False))
