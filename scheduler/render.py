"""Render an outbox row when it is sent: its message kind and parameters become text in the
recipient's language (the catalog's small HTML subset), buttons and albums of evidence files.

Nothing here knows a channel: buttons are a label and callback data packed with the codecs of
:mod:`core.schedule_buttons`; files are content-addressed attachments with whatever file ids
channels already have for them. The channel (``channels/telegram/messenger.py``) turns these
into its own calls. Rows queued before payloads held a kind and parameters (pre-rendered
``text`` and ``buttons``, or ``media`` with file ids and a ``caption``) are sent as they are.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from core.callbacks import Id
from core.rules import WINDOW_DAYS, format_date
from core.schedule_buttons import (
    CANCEL_PLAN,
    MENU_REPORT,
    MUTE_NUDGES,
    REPORT_PLAN,
    RESUME_DRAFT,
    START_EXPORT,
)
from core.texts import Raw, plain, t
from scheduler.charts import countdown_picture
from scheduler.delivery import TELEGRAM, album, delivery, reader
from scheduler.digest_message import render_digest, render_return_reminder
from scheduler.messages import ALBUM
from scheduler.messenger import Album, Attachment, Button, Outgoing, Picture
from scheduler.review_look import REVIEW_LOOK, confirmation
from scheduler.review_render import returned, review_pending
from scheduler.rows import DELIVERY_KINDS, Kind, Timing
from storage.chase import CHASE_KIND
from storage.db import AsyncSession
from storage.evidence import EvidenceStorage
from storage.notices import activity_of, district_names, member_of, plan_of
from storage.registry import district_of
from storage.reports import org_of

Rendered = Outgoing | Album | Picture


async def compose(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    lang: str,
    timing: Timing,
    store: EvidenceStorage | None = None,
) -> Rendered | None:
    """The message an outbox row of ``kind`` stands for, in ``lang``; None when its subject is
    gone (the row is then skipped). ``store`` supplies the bytes of files no channel knows."""
    message = payload.get("message")
    if message is None:
        return _as_stored(kind, payload, store)
    params: dict[str, Any] = payload.get("params") or {}
    if message == ALBUM:
        return await album(session, params, payload, lang, store)
    if message in DELIVERY_KINDS:
        return await delivery(session, Kind(message), params, lang, timing)
    if message in (Kind.DRAFT_MORNING, Kind.DRAFT_CLOSING):
        return await _draft(session, Kind(message), params, lang)
    if message in (Kind.PLAN_ASK, Kind.PLAN_LAST_CALL, Kind.PLAN_MISSED):
        return await _plan(session, Kind(message), params, lang)
    if message == Kind.QUIET_NUDGE:
        return await _nudge(session, params, lang)
    if message == Kind.DEADLINE:
        # 7 days and less before the deadline, the reminder carries the /status chart.
        reminder = await _deadline(session, params, lang)
        return await countdown_picture(session, reminder, params, lang, timing.years)
    if message == Kind.CITY_SUMMARY:
        return await _city_summary(session, params, lang)
    if message == Kind.REPORT_RETURNED:
        return await returned(session, params, lang)
    if message == Kind.REVIEW_PENDING:
        return await review_pending(session, params, lang)
    if message == REVIEW_LOOK:
        return await confirmation(session, params, lang)
    if message == CHASE_KIND:
        return await _chase(session, params, lang)
    if message == Kind.DAILY_DIGEST:
        return await render_digest(session, params, lang)
    if message == Kind.RETURN_REMINDER:
        return await render_return_reminder(session, params, lang)
    raise ValueError(f"unknown message kind {message!r}")


def _button(lang: str, label_key: str, data: str) -> Button:
    return Button(plain(lang, label_key), data)


def _text(kind: str, text: str, *rows: tuple[Button, ...]) -> Outgoing:
    return Outgoing(kind, text, tuple(rows))


def _as_stored(kind: str, payload: dict[str, Any], store: EvidenceStorage | None) -> Rendered:
    """A row in the earlier format: text and buttons, or an album, already rendered."""
    media = payload.get("media")
    if not media:
        buttons = tuple(
            tuple(Button(str(label), str(data)) for label, data in row)
            for row in payload.get("buttons") or []
        )
        return Outgoing(kind, str(payload["text"]), buttons)
    files = tuple(
        Attachment(
            sha256=str(item.get("sha256") or ""),
            file_name=item.get("file_name"),
            file_ids={TELEGRAM: str(item["file_id"])} if item.get("file_id") else {},
            read=reader(store, str(item.get("sha256") or "")),
        )
        for item in media
    )
    caption = payload.get("caption") or None
    return Album(kind, files, caption, bool(payload.get("documents")))


# ---------------------------------------------------------------------------------------------
# drafts and plans


async def _draft(
    session: AsyncSession, kind: Kind, params: dict[str, Any], lang: str
) -> Outgoing | None:
    activity = await activity_of(session, int(params["activity"]))
    if activity is None or activity.activity_date is None:
        return None
    key = "sch_draft_morning" if kind == Kind.DRAFT_MORNING else "sch_draft_closing"
    text = t(
        lang,
        key,
        name=activity.name or plain(lang, "report_untitled"),
        date=format_date(activity.activity_date, lang),
    )
    resume = _button(lang, "sch_btn_resume", RESUME_DRAFT.pack(Id(activity.id)))
    return _text(kind, text, (resume,))


async def _plan(
    session: AsyncSession, kind: Kind, params: dict[str, Any], lang: str
) -> Outgoing | None:
    plan = await plan_of(session, int(params["plan"]))
    if plan is None:
        return None
    report = _button(lang, "sch_btn_report_plan", REPORT_PLAN.pack(Id(plan.id)))
    not_held = _button(lang, "sch_btn_not_held", CANCEL_PLAN.pack(Id(plan.id)))
    day = format_date(plan.planned_date, lang)
    if kind == Kind.PLAN_ASK:
        text = t(lang, "sch_plan_ask", name=plan.name, date=day)
        return _text(kind, text, (report,), (not_held,))
    if kind == Kind.PLAN_LAST_CALL:
        text = t(lang, "sch_plan_last_call", name=plan.name, date=day)
        return _text(kind, text, (report,), (not_held,))
    who = await member_of(session, plan.member_id)
    org = await org_of(session, plan.org_id)
    text = t(
        lang,
        "sch_plan_missed",
        who=who.first_name if who else "",
        name=plan.name,
        date=day,
        org=org.name if org else "",
        closed=format_date(plan.planned_date + timedelta(days=WINDOW_DAYS), lang),
    )
    return _text(kind, text, (report,))


# ---------------------------------------------------------------------------------------------
# nudges, the annual deadline, the city summary


async def _nudge(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing | None:
    org = await org_of(session, int(params["org"]))
    if org is None:
        return None
    text = t(lang, "sch_nudge", org=org.name, days=int(params["days"]))
    return _text(
        Kind.QUIET_NUDGE,
        text,
        (_button(lang, "welcome_buttons_report", MENU_REPORT.pack()),),
        (_button(lang, "sch_btn_mute_nudges", MUTE_NUDGES.pack()),),
    )


async def _chase(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing | None:
    """A nudge from /chase: the district asks the association politely to report."""
    org = await org_of(session, int(params["org"]))
    district = await district_of(session, int(params["district"]))
    if org is None or district is None or not org.active:
        return None
    text = t(lang, "sch_chase_nudge", org=org.name, district=district.name)
    return _text(CHASE_KIND, text, (_button(lang, "welcome_buttons_report", MENU_REPORT.pack()),))


async def _deadline(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing | None:
    district = await district_of(session, int(params["district"]))
    if district is None:
        return None
    counts = ("orgs", "enterprises", "zones", "reports", "late", "silent", "incomplete")
    text = t(
        lang,
        "sch_deadline",
        deadline=format_date(date.fromisoformat(params["deadline"]), lang),
        days=int(params["days"]),
        district=district.name,
        year=int(params["year"]),
        **{name: int(params[name]) for name in counts},
    )
    pending = int(params.get("pending") or 0)  # rows queued before review have none
    if pending:
        text = Raw(text + "\n" + t(lang, "review_deadline_pending", n=pending))
    export = _button(lang, "sch_btn_export", START_EXPORT.pack())
    return _text(Kind.DEADLINE, text, (export,))


async def _city_summary(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing:
    figures: list[dict[str, Any]] = params.get("districts") or []
    ids = [int(f["district"]) for f in figures]
    names = await district_names(session, ids) if ids else {}
    totals = {"orgs": 0, "reports": 0, "late": 0, "silent": 0}
    lines = []
    for f in figures:
        for name in totals:
            totals[name] += int(f[name])
        lines.append(
            t(
                lang,
                "sch_city_line",
                district=names.get(int(f["district"]), ""),
                reports=int(f["reports"]),
                late=int(f["late"]),
                silent=int(f["silent"]),
                orgs=int(f["orgs"]),
            )
        )
    text = t(
        lang,
        "sch_city_summary",
        date=format_date(date.fromisoformat(params["date"]), lang),
        deadline=format_date(date.fromisoformat(params["deadline"]), lang),
        year=int(params["year"]),
        lines=Raw("\n".join(lines) or t(lang, "sch_city_empty")),
        **totals,
    )
    export = _button(lang, "sch_btn_export", START_EXPORT.pack())
    return _text(Kind.CITY_SUMMARY, text[:4096], (export,))
