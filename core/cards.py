"""A report as the lines of a chat card: shared by the report flow and the deliveries."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from core.report_steps import BY_FIELD, QUESTIONS, Question, Shown
from core.rules import format_date, shorten
from core.texts import Raw, plain, t
from core.years import ReportingYears


class EvidenceLike(Protocol):
    """What a card needs of an evidence file."""

    @property
    def kind(self) -> str: ...


class ReportLike(Protocol):
    """What a card needs of a report (a stored activity, or any channel's copy of one) beyond
    its answers: the kinds of its evidence files. The answers are read by the question table's
    field names (:attr:`core.report_steps.Question.field`), so a new question changes nothing
    here; tests/unit/test_report_steps.py checks each field is a column of the activity."""

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


def answers(lang: str, activity: ReportLike, text_chars: int) -> list[tuple[str, object | None]]:
    """(label catalog key, value as the card writes it or None when unanswered) per question,
    in the order they are asked: the card's answer lines and the console's answer rows. Long
    content and outcome are shortened to ``text_chars`` (they are stored whole)."""
    return [(q.label, answer_value(lang, q, activity, text_chars)) for q in QUESTIONS]


def answer_lines(lang: str, activity: ReportLike, text_chars: int) -> list[str]:
    """One ``<b>label</b>：value`` line per question of the report flow (annex 1-3's answers
    and the evidence count), in the order they are asked.

    Long content and outcome are shortened to ``text_chars`` (they are stored whole), so the
    card always fits one Telegram message.
    """
    return [card_line(lang, key, value) for key, value in answers(lang, activity, text_chars)]


def change_value(lang: str, field: str | None, value: str | None, chars: int | None) -> str:
    """One side of a change line ``field：old → new`` (an audit entry's stored text), written as
    the table's :attr:`~core.report_steps.Question.shown` says: ``—`` for nothing, ``40人``,
    ``共 3 个`` files; other text shortened to ``chars`` (None: whole)."""
    if value is None or value == "":
        return "—"
    q = BY_FIELD.get(field or "")
    shown = q.shown if q is not None else Shown.AS_IS
    if shown is Shown.HEADCOUNT and value.isdigit():
        return plain(lang, "headcount_value", n=value)
    if shown is Shown.FILES:
        return plain(lang, "sch_evidence_total", n=value)
    return value if chars is None else shorten(value, chars)


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
