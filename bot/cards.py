"""A report as the lines of a chat card: shared by the report flow and the deliveries."""

from __future__ import annotations

from bot.texts import plain, t
from storage.models import Activity
from storage.rules import format_date, shorten


def card_line(lang: str, label_key: str, value: object) -> str:
    """``<b>label</b>：value`` (value escaped; ``（未填）`` when missing)."""
    shown = plain(lang, "card_missing") if value is None else value
    return t(lang, "card_line", label=plain(lang, label_key), value=shown)


def answer_lines(lang: str, activity: Activity, text_chars: int) -> list[str]:
    """One ``<b>label</b>：value`` line per answer of annex 1-3 and the evidence count.

    Long content and outcome are shortened to ``text_chars`` (they are stored whole), so the
    card always fits one Telegram message.
    """
    missing = plain(lang, "card_missing")

    def line(label: str, value: object) -> str:
        return t(
            lang, "card_line", label=plain(lang, label), value=missing if value is None else value
        )

    photos = sum(1 for e in activity.evidence if e.kind == "photo")
    docs = len(activity.evidence) - photos
    headcount = activity.headcount
    return [
        line("label_date", format_date(activity.activity_date) if activity.activity_date else None),
        line("label_name", activity.name),
        line("label_content", shorten(activity.content, text_chars) if activity.content else None),
        line("label_role", activity.role),
        line("label_headcount", plain(lang, "headcount_value", n=headcount) if headcount else None),
        line("label_outcome", shorten(activity.outcome, text_chars) if activity.outcome else None),
        line("label_evidence", plain(lang, "card_evidence", photos=photos, docs=docs)),
    ]
