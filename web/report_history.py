"""A report's audit history as the console's report page lists it: who, when, and what, with
changed values written ``field：old → new`` as the district's delivery cards write them
(:func:`core.cards.change_value`, named and written as the question table says)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup

from core.cards import change_value
from core.report_steps import label_key
from core.texts import plain
from storage.console_report import HistoryEntry
from web.page import Page

# Audit actions (storage/reports.py, storage/review.py) → the sentence that tells them.
ACTION_KEYS = {
    "submit": "web_hist_submit",
    "resubmit": "web_hist_resubmit",
    "withdraw": "web_hist_withdraw",
    "approve": "web_hist_approve",
    "return": "web_hist_return",
    "correct": "web_hist_correct",
    "reopen": "web_hist_reopen",
}


@dataclass(frozen=True)
class HistoryLine:
    """One line of the history: when, who, and what (catalog HTML)."""

    at: datetime
    who: str | None
    text: Markup


def _text(p: Page, entry: HistoryEntry) -> Markup:
    lang = p.lang
    if entry.action == "edit":
        field = plain(lang, label_key(entry.field) or "web_hist_field_unknown")
        old = change_value(lang, entry.field, entry.old, None)
        new = change_value(lang, entry.field, entry.new, None)
        return p.t("web_hist_edit", field=field, old=old, new=new)
    if entry.action == "evidence":
        if entry.old is None:  # one file added: its name, or its kind for a photo
            name = entry.new or ""
            if name in ("photo", "document"):
                name = plain(lang, f"web_evidence_kind_{name}")
            return p.t("web_hist_evidence_added", name=name)
        return p.t("web_hist_evidence_cleared", n=entry.old)
    if entry.action == "return":
        return p.t("web_hist_return", reason=entry.new or "")
    key = ACTION_KEYS.get(entry.action)
    if key is None:
        return p.t("web_hist_other", action=entry.action)
    return p.t(key, ref=entry.new or "")


def history_lines(p: Page, entries: list[HistoryEntry]) -> list[HistoryLine]:
    """The lines of ``entries`` in the visitor's language."""
    return [HistoryLine(e.at, e.who, _text(p, e)) for e in entries]
