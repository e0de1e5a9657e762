"""The daily digest's outbox row and its rendering (每日汇总): one message listing the reports
that reached a district yesterday, each with its state, and 通过 / 退回 for those still pending;
and the reminder of a returned report still uncorrected, with 去修改.

Kept apart from ``scheduler/messages.py`` and ``scheduler/render.py``, which dispatch here."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.enums import ActivityStatus
from core.review_buttons import AMEND, APPROVE, RETURN
from core.review_rules import ReviewState
from core.rules import format_date, shorten
from core.texts import Raw, plain, t
from scheduler.digest import CARD_OF
from scheduler.messenger import Button, Outgoing
from scheduler.rows import Due, Kind
from storage import outbox as stored_outbox
from storage.db import AsyncSession
from storage.notices import activity_of, entries_with_status, submitted_reports
from storage.registry import district_of

DIGEST_LINES = 30  # reports listed; the rest are counted
DIGEST_BUTTONS = 10  # reports with 通过 / 退回 buttons (the others: /review)


async def digest_reports(session: AsyncSession, due: Due) -> list[int]:
    """The reports the digest lists: those of its audit entries still submitted, each once,
    except the entries already carded to its admin (on 逐条推送 then, or switched there and
    back since): the card's outbox key is the record that they were told."""
    if not due.refs:
        return []
    rows = await entries_with_status(session, due.refs)
    cards = {
        entry: Due(
            CARD_OF[action], due.member_id, activity, str(entry), due.due_at, due.expires_at
        ).key
        for entry, activity, action, _ in rows
        if action in CARD_OF
    }
    carded = await stored_outbox.existing_keys(session, list(cards.values()))
    ids = [
        activity
        for entry, activity, _, status in rows
        if status == ActivityStatus.SUBMITTED and cards.get(entry) not in carded
    ]
    return list(dict.fromkeys(ids))


async def render_digest(
    session: AsyncSession, params: dict[str, Any], lang: str
) -> Outgoing | None:
    """The digest in ``lang``; None when its district or every report is gone."""
    district = await district_of(session, int(params["district"]))
    ids = [int(i) for i in params.get("activities") or []]
    if district is None or not ids:
        return None
    by_id = {a.id: a for a in await submitted_reports(session, ids)}
    reports = [by_id[i] for i in ids if i in by_id]
    if not reports:
        return None
    lines = []
    rows: list[tuple[Button, ...]] = []
    for n, a in enumerate(reports[:DIGEST_LINES], start=1):
        state = a.review_state or ReviewState.PENDING
        lines.append(
            t(
                lang,
                "digest_line",
                n=n,
                ref=a.ref_no or "",
                name=shorten(a.name or "", 40),
                org=a.organisation.name if a.organisation else "",
                date=format_date(a.activity_date, lang) if a.activity_date else "",
                state=plain(lang, f"review_state_{state}"),
            )
        )
        if state == ReviewState.PENDING and len(rows) < DIGEST_BUTTONS:
            ref = a.ref_no or str(a.id)
            rows.append(
                (
                    Button(plain(lang, "review_btn_item_approve", ref=ref), APPROVE.pack(id=a.id)),
                    Button(plain(lang, "review_btn_item_return", ref=ref), RETURN.pack(id=a.id)),
                )
            )
    if len(reports) > DIGEST_LINES:
        lines.append(t(lang, "status_more", n=len(reports) - DIGEST_LINES))
    text = t(
        lang,
        "digest_head",
        district=district.name,
        date=format_date(date.fromisoformat(str(params["date"])), lang),
        n=len(reports),
        lines=Raw("\n".join(lines)),
    )
    return Outgoing(Kind.DAILY_DIGEST, text[:4096], tuple(rows))


async def return_reminder_parts(
    session: AsyncSession, due: Due
) -> list[tuple[str, dict[str, Any]]]:
    """The reminder's row, unless the report was corrected (or withdrawn) meanwhile."""
    activity = await activity_of(session, due.subject)
    if (
        activity is None
        or activity.status != ActivityStatus.SUBMITTED
        or activity.review_state != ReviewState.RETURNED
    ):
        return []
    return [("", {"message": due.kind, "params": {"activity": activity.id}})]


async def render_return_reminder(
    session: AsyncSession, params: dict[str, Any], lang: str
) -> Outgoing | None:
    """去修改 for a report returned three days ago; None once it is no longer returned."""
    activity = await activity_of(session, int(params["activity"]))
    if activity is None or activity.review_state != ReviewState.RETURNED:
        return None
    text = t(
        lang,
        "sch_return_reminder",
        ref=activity.ref_no or "",
        name=activity.name or "",
        reason=activity.review_reason or "",
    )
    amend = Button(plain(lang, "review_btn_amend"), AMEND.pack(id=activity.id))
    return Outgoing(Kind.RETURN_REMINDER, text, ((amend,),))
