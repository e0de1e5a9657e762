"""Turn a due item into outbox rows: the text in the recipient's language, buttons, an album.

Rendering happens when the tick enqueues (so the sender only sends): a report's delivery is a
card plus, for a submission, an album of its photos that follows the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.cards import MAX_MESSAGE, answer_lines, card_line, cut_visible, visible_length
from core.rules import WINDOW_DAYS, format_date, format_datetime, shorten
from core.texts import Raw, plain, t
from scheduler.outbox import OutRow
from scheduler.reminders import DELIVERY_KINDS, Due, Kind, Person, Timing
from storage.models import (
    Activity,
    AnnualDeadline,
    AuditEntry,
    District,
    Member,
    Organisation,
    Plan,
)
from storage.status import district_status

CARD_TEXT_CHARS = 500
CHANGE_CHARS = 120
# (card text, changed value) lengths tried in turn until a delivery card fits one message.
TEXT_BUDGETS = ((CARD_TEXT_CHARS, CHANGE_CHARS), (200, 60), (80, 24), (30, 10))
ALBUM_MAX = 10  # Telegram's media group limit

FIELD_LABELS = {
    "activity_date": "label_date",
    "name": "label_name",
    "content": "label_content",
    "role": "label_role",
    "headcount": "label_headcount",
    "outcome": "label_outcome",
    "evidence": "label_evidence",
}

Buttons = list[list[list[str]]]  # JSON-friendly rows of [label, callback data]


async def render(
    session: AsyncSession, due: Due, person: Person, timing: Timing, now: datetime
) -> list[OutRow]:
    """The outbox rows for one due item (empty when its subject has vanished meanwhile)."""
    lang = person.language
    parts: list[tuple[str, dict[str, Any]]]
    if due.kind in DELIVERY_KINDS:
        parts = await _delivery(session, due, lang, timing)
    elif due.kind in (Kind.DRAFT_MORNING, Kind.DRAFT_CLOSING):
        parts = await _draft(session, due, lang)
    elif due.kind in (Kind.PLAN_ASK, Kind.PLAN_LAST_CALL, Kind.PLAN_MISSED):
        parts = await _plan(session, due, lang)
    elif due.kind == Kind.QUIET_NUDGE:
        parts = await _nudge(session, due, lang, now, timing)
    elif due.kind == Kind.DEADLINE:
        parts = await _deadline(session, due, lang, now, timing)
    else:
        parts = await _city_summary(session, due, lang, now, timing)
    rows = []
    for suffix, payload in parts:
        payload["expires_at"] = due.expires_at.isoformat()
        payload["quiet"] = True
        rows.append(
            OutRow(
                key=due.key + suffix,
                chat_id=person.telegram_id,
                kind=due.kind,
                payload=payload,
                member_id=person.id,
                not_before=now,
            )
        )
    return rows


def _message(text: str, buttons: Buttons | None = None) -> dict[str, Any]:
    return {"text": text, "buttons": buttons or []}


# ---------------------------------------------------------------------------------------------
# deliveries


async def _delivery(
    session: AsyncSession, due: Due, lang: str, timing: Timing
) -> list[tuple[str, dict[str, Any]]]:
    activity = await session.scalar(
        select(Activity)
        .where(Activity.id == due.subject)
        .options(
            selectinload(Activity.organisation).selectinload(Organisation.district),
            selectinload(Activity.evidence),
            selectinload(Activity.author),
        )
    )
    if activity is None:
        return []
    refs: list[AuditEntry] = []
    if due.refs:
        refs = list(
            (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.id.in_(due.refs)).order_by(AuditEntry.id)
                )
            ).all()
        )
    # Who amended, withdrew or resubmitted it: not always its author (an org admin may).
    by = None
    if due.kind != Kind.REPORT_SUBMITTED:
        member_ids = list(dict.fromkeys(e.member_id for e in refs if e.member_id is not None))
        if member_ids:
            names = await session.execute(
                select(Member.id, Member.first_name).where(Member.id.in_(member_ids))
            )
            found = dict(names.all())
            sep = "、" if lang == "zh" else ", "
            by = sep.join(str(found[m]) for m in member_ids if found.get(m)) or None
    entries: list[AuditEntry] = []
    changes: list[Change] = []
    if due.kind == Kind.REPORT_EDITED and refs:
        entries = refs
        later = (
            await session.execute(
                select(AuditEntry.old_value, AuditEntry.new_value)
                .where(
                    AuditEntry.activity_id == activity.id,
                    AuditEntry.action == "evidence",
                    AuditEntry.id > max(due.refs),
                )
                .order_by(AuditEntry.id)
            )
        ).all()
        changes = net_changes(
            [(e.field, e.old_value, e.new_value) for e in entries if e.action == "edit"]
        )
        files = [(e.old_value, e.new_value) for e in entries if e.action == "evidence"]
        if files:
            after = evidence_count_before(len(activity.evidence), [(o, n) for o, n in later])
            before = evidence_count_before(after, files)
            if before != after:
                changes.append(Change("evidence", str(before), str(after)))
    text = _fitted(activity, due.kind, lang, timing, changes, edited=bool(entries), by=by)
    parts: list[tuple[str, dict[str, Any]]] = [("", _message(text))]
    with_album = due.kind in (Kind.REPORT_SUBMITTED, Kind.REPORT_RESUBMITTED) or any(
        e.action == "evidence" for e in entries
    )
    if with_album:
        caption = t(lang, "sch_album_caption", ref=activity.ref_no or "", name=activity.name or "")
        photos = [e for e in activity.evidence if e.kind == "photo"]
        documents = [e for e in activity.evidence if e.kind != "photo"]
        previous = due.key  # each part waits for the one before it: card, photos, documents
        for tag, files_ in (("album", photos), ("docs", documents)):
            for n, start in enumerate(range(0, len(files_), ALBUM_MAX), start=1):
                media = [
                    {"file_id": e.telegram_file_id, "sha256": e.sha256, "file_name": e.file_name}
                    for e in files_[start : start + ALBUM_MAX]
                ]
                payload: dict[str, Any] = {
                    "media": media,
                    "documents": tag == "docs",
                    "caption": caption if n == 1 else "",
                    "after": previous,
                }
                parts.append((f"#{tag}{n}", payload))
                previous = due.key + f"#{tag}{n}"
    return parts


@dataclass(frozen=True)
class Change:
    """One field of an amendment: the value before the first edit and after the last one."""

    field: str
    old: str | None
    new: str | None


def net_changes(edits: Sequence[tuple[str | None, str | None, str | None]]) -> list[Change]:
    """Audit ``(field, old, new)`` entries in order, as one change per field (in the order the
    fields were first touched); a field changed back to where it started is left out."""
    first: dict[str, str | None] = {}
    last: dict[str, str | None] = {}
    for field_name, old, new in edits:
        key = field_name or ""
        first.setdefault(key, old)
        last[key] = new
    return [Change(f, first[f], last[f]) for f in first if first[f] != last[f]]


def evidence_count_before(after: int, entries: Sequence[tuple[str | None, str | None]]) -> int:
    """How many evidence files there were before the evidence audit ``entries`` (old, new),
    given ``after`` once they were applied: an added file has no old value, clearing them all
    records how many there were."""
    count = after
    for old, _new in reversed(entries):
        if old is None:
            count -= 1
        else:
            try:
                count = int(old)
            except ValueError:
                count -= 1
    return max(count, 0)


def _change_value(lang: str, field_name: str, value: str | None, chars: int) -> str:
    if value is None or value == "":
        return "—"
    if field_name == "headcount" and value.isdigit():
        return plain(lang, "headcount_value", n=value)
    if field_name == "evidence":
        return plain(lang, "sch_evidence_total", n=value)
    return shorten(value, chars)


def change_lines(lang: str, changes: Sequence[Change], chars: int) -> Raw:
    """The 修改内容 block: one ``field：old → new`` line per change, values escaped."""
    lines = [t(lang, "sch_changes")]
    for c in changes:
        lines.append(
            t(
                lang,
                "sch_change_line",
                field=plain(lang, FIELD_LABELS.get(c.field, "label_evidence")),
                old=_change_value(lang, c.field, c.old, chars),
                new=_change_value(lang, c.field, c.new, chars),
            )
        )
    if not changes:
        lines.append(t(lang, "sch_changes_none"))
    return Raw("\n".join(lines))


def _fitted(
    activity: Activity,
    kind: Kind,
    lang: str,
    timing: Timing,
    changes: Sequence[Change],
    *,
    edited: bool,
    by: str | None = None,
) -> Raw:
    """The card (and its changes) within Telegram's limit: long texts are shortened further
    until it fits, as it is shown (entities count once, emoji twice)."""
    text = Raw("")
    for card_chars, change_chars in TEXT_BUDGETS:
        text = delivery_card(activity, kind, lang, timing, card_chars, by=by)
        if edited:
            text = Raw(text + "\n\n" + change_lines(lang, changes, change_chars))
        if visible_length(text) <= MAX_MESSAGE:
            return text
    return cut_visible(text)


def delivery_card(
    activity: Activity,
    kind: Kind,
    lang: str,
    timing: Timing,
    text_chars: int = CARD_TEXT_CHARS,
    *,
    by: str | None = None,
) -> Raw:
    """The card district admins receive: every field, lateness, reporter, photos count, and
    ``by`` whom it was amended, withdrawn or resubmitted."""
    org = activity.organisation
    head = t(
        lang,
        f"sch_head_{kind}",
        ref=activity.ref_no or "",
        district=org.district.name,
        org=org.name,
    )

    def line(label: str, value: object) -> str:
        return card_line(lang, label, value)

    lines = [
        head,
        "",
        *answer_lines(lang, activity, text_chars),
        line("label_author", activity.author.first_name if activity.author else None),
        line(
            "label_submitted_at",
            format_datetime(activity.submitted_at, timing.tz) if activity.submitted_at else None,
        ),
        line("label_status", plain(lang, f"status_{activity.status}")),
    ]
    if by:
        lines.append(line("label_changed_by", shorten(by, 200)))
    if activity.submitted_at is not None:
        lines.append(
            t(lang, "card_on_time")
            if activity.on_time
            else t(lang, "card_late", days=activity.late_days)
        )
    return Raw("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# drafts and plans


async def _draft(session: AsyncSession, due: Due, lang: str) -> list[tuple[str, dict[str, Any]]]:
    activity = await session.get(Activity, due.subject)
    if activity is None or activity.status != "draft" or activity.activity_date is None:
        return []
    key = "sch_draft_morning" if due.kind == Kind.DRAFT_MORNING else "sch_draft_closing"
    text = t(
        lang,
        key,
        name=activity.name or plain(lang, "report_untitled"),
        date=format_date(activity.activity_date),
    )
    return [
        ("", _message(text, [[[plain(lang, "sch_btn_resume"), f"sched:{activity.id}:resume"]]]))
    ]


async def _plan(session: AsyncSession, due: Due, lang: str) -> list[tuple[str, dict[str, Any]]]:
    plan = await session.get(Plan, due.subject)
    if plan is None or plan.cancelled:
        return []
    report = [plain(lang, "sch_btn_report_plan"), f"sched:{plan.id}:plan"]
    not_held = [plain(lang, "sch_btn_not_held"), f"plan:cancel:{plan.id}"]
    day = format_date(plan.planned_date)
    if due.kind == Kind.PLAN_ASK:
        text = t(lang, "sch_plan_ask", name=plan.name, date=day)
        return [("", _message(text, [[report], [not_held]]))]
    if due.kind == Kind.PLAN_LAST_CALL:
        text = t(lang, "sch_plan_last_call", name=plan.name, date=day)
        return [("", _message(text, [[report], [not_held]]))]
    who = await session.get(Member, plan.member_id)
    org = await session.get(Organisation, plan.org_id)
    text = t(
        lang,
        "sch_plan_missed",
        who=who.first_name if who else "",
        name=plan.name,
        date=day,
        org=org.name if org else "",
        closed=format_date(plan.planned_date + timedelta(days=WINDOW_DAYS)),
    )
    return [("", _message(text, [[report]]))]


# ---------------------------------------------------------------------------------------------
# nudges, the annual deadline, the city summary


async def _nudge(
    session: AsyncSession, due: Due, lang: str, now: datetime, timing: Timing
) -> list[tuple[str, dict[str, Any]]]:
    org = await session.get(Organisation, due.subject)
    if org is None or not org.active:
        return []
    text = t(lang, "sch_nudge", org=org.name, days=timing.quiet_days)
    buttons = [
        [[plain(lang, "welcome_buttons_report"), "menu:report"]],
        [[plain(lang, "sch_btn_mute_nudges"), "settings:nudges:off"]],
    ]
    return [("", _message(text, buttons))]


def _deadline_of(due: Due) -> tuple[date, int]:
    deadline, _, days = due.slot.rpartition("-")
    return date.fromisoformat(deadline), int(days.rstrip("d"))


async def _deadline(
    session: AsyncSession, due: Due, lang: str, now: datetime, timing: Timing
) -> list[tuple[str, dict[str, Any]]]:
    district = await session.get(District, due.subject)
    if district is None:
        return []
    deadline, days = _deadline_of(due)
    status = await district_status(session, district.id, deadline.year)
    text = t(
        lang,
        "sch_deadline",
        deadline=format_date(deadline),
        days=days,
        district=district.name,
        year=deadline.year,
        orgs=status.organisations,
        enterprises=status.enterprises,
        zones=status.zones,
        reports=status.reports,
        late=status.late,
        silent=len(status.silent),
        incomplete=len(status.incomplete),
    )
    return [("", _message(text, [[[plain(lang, "sch_btn_export"), "export:start"]]]))]


async def _city_summary(
    session: AsyncSession, due: Due, lang: str, now: datetime, timing: Timing
) -> list[tuple[str, dict[str, Any]]]:
    year = due.subject
    row = await session.get(AnnualDeadline, year)
    deadline = row.deadline if row is not None else date(year, *timing.deadline_month_day)
    districts = (await session.scalars(select(District).order_by(District.sort_order))).all()
    totals = {"orgs": 0, "reports": 0, "late": 0, "silent": 0}
    lines = []
    for d in districts:
        s = await district_status(session, d.id, year)
        if not s.organisations:
            continue
        totals["orgs"] += s.organisations
        totals["reports"] += s.reports
        totals["late"] += s.late
        totals["silent"] += len(s.silent)
        lines.append(
            t(
                lang,
                "sch_city_line",
                district=d.name,
                reports=s.reports,
                late=s.late,
                silent=len(s.silent),
                orgs=s.organisations,
            )
        )
    text = t(
        lang,
        "sch_city_summary",
        date=format_date(date.fromisoformat(due.slot)),
        deadline=format_date(deadline),
        year=year,
        lines=Raw("\n".join(lines) or t(lang, "sch_city_empty")),
        **totals,
    )
    return [("", _message(text[:4096], [[[plain(lang, "sch_btn_export"), "export:start"]]]))]
