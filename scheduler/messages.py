"""Turn a due item into outbox rows: a message kind and its parameters, not rendered text.

A row's payload is ``{"message": kind, "params": {...}}`` plus what the sender itself needs
(``expires_at``, ``quiet``, and for an album ``media``, ``documents`` and ``after``). The
parameters are ids, counts and dates; the text is rendered when the row is sent, in the
recipient's language then (:func:`scheduler.render.compose`). What must be decided now is
decided here: whether the subject still exists (nothing is queued otherwise), which files an
album holds, and the figures of a deadline reminder or the city summary as of this tick.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.review_rules import ReviewState
from scheduler.countdown import district_figures
from scheduler.digest_message import digest_reports, return_reminder_parts
from scheduler.outbox import OutRow
from scheduler.rows import DELIVERY_KINDS, Due, Kind, Recipient, Timing
from storage.db import AsyncSession
from storage.models import Activity
from storage.notices import activity_of, audit_actions, plan_of, report_with_evidence
from storage.registry import all_districts, district_of
from storage.reports import org_of
from storage.review import pending_count
from storage.status import district_status

ALBUM = "album"  # the message kind of a delivery's evidence files
ALBUM_MAX = 10  # files per album (Telegram's media group limit; other channels allow as many)

Part = tuple[str, dict[str, Any]]  # (key suffix, payload)


def message(kind: str, **params: Any) -> dict[str, Any]:
    """The payload of a message of ``kind`` with its parameters (JSON values)."""
    return {"message": kind, "params": params}


async def rows_for(
    session: AsyncSession, due: Due, person: Recipient, timing: Timing, now: datetime
) -> list[OutRow]:
    """The outbox rows for one due item (empty when its subject has vanished meanwhile, or
    when the person has no address: the rules leave such people out already)."""
    if person.address is None:
        return []
    to = person.address
    parts: list[Part]
    if due.kind in DELIVERY_KINDS:
        parts = await _delivery(session, due)
    elif due.kind in (Kind.DRAFT_MORNING, Kind.DRAFT_CLOSING):
        parts = await _draft(session, due)
    elif due.kind in (Kind.PLAN_ASK, Kind.PLAN_LAST_CALL, Kind.PLAN_MISSED):
        parts = await _plan(session, due)
    elif due.kind == Kind.QUIET_NUDGE:
        parts = await _nudge(session, due, timing)
    elif due.kind == Kind.DEADLINE:
        parts = await _deadline(session, due, timing)
    elif due.kind == Kind.REPORT_RETURNED:
        parts = await _returned(session, due)
    elif due.kind == Kind.REVIEW_PENDING:
        parts = await _review_pending(session, due, now)
    elif due.kind == Kind.RETURN_REMINDER:
        parts = await return_reminder_parts(session, due)
    elif due.kind == Kind.DAILY_DIGEST:
        ids = await digest_reports(session, due)
        parts = [("", message(due.kind, district=due.subject, date=due.slot, activities=ids))]
        parts = parts if ids else []
    else:
        parts = await _city_summary(session, due, timing)
    rows = []
    for suffix, payload in parts:
        payload["expires_at"] = due.expires_at.isoformat()
        payload["quiet"] = True
        rows.append(
            OutRow(
                key=due.key + suffix,
                to=to,
                kind=due.kind,
                payload=payload,
                member_id=person.id,
                not_before=now,
            )
        )
    return rows


async def _delivery(session: AsyncSession, due: Due) -> list[Part]:
    """The card, then (for a submission, or an edit that touched the files) the albums."""
    activity = await report_with_evidence(session, due.subject)
    if activity is None:
        return []
    edited_files = False
    if due.kind == Kind.REPORT_EDITED and due.refs:
        edited_files = "evidence" in set(await audit_actions(session, due.refs))
    parts: list[Part] = [("", message(due.kind, activity=activity.id, refs=list(due.refs)))]
    if not (due.kind in (Kind.REPORT_SUBMITTED, Kind.REPORT_RESUBMITTED) or edited_files):
        return parts
    return parts + album_parts(activity, due.key, due.key)


def album_parts(activity: Activity, key: str, after: str | None, label: str = "") -> list[Part]:
    """The albums of a report's evidence files (its ``evidence`` loaded): photos, then
    documents, :data:`ALBUM_MAX` to a message, the first of each captioned with the report's
    编号 and name (a delivery's, and /review's 本页全部通过). Each waits for the one before
    it, the first for the row keyed ``after``; their keys are ``key`` + ``#{label}album1``,
    ``#{label}docs1``…"""
    photos = [e for e in activity.evidence if e.kind == "photo"]
    documents = [e for e in activity.evidence if e.kind != "photo"]
    parts: list[Part] = []
    previous = after
    for tag, files in (("album", photos), ("docs", documents)):
        for n, start in enumerate(range(0, len(files), ALBUM_MAX), start=1):
            payload = message(ALBUM, activity=activity.id, caption=n == 1)
            payload["media"] = [
                {"evidence": e.id, "sha256": e.sha256, "file_name": e.file_name}
                for e in files[start : start + ALBUM_MAX]
            ]
            payload["documents"] = tag == "docs"
            if previous is not None:
                payload["after"] = previous
            suffix = f"#{label}{tag}{n}"
            parts.append((suffix, payload))
            previous = key + suffix
    return parts


async def _draft(session: AsyncSession, due: Due) -> list[Part]:
    activity = await activity_of(session, due.subject)
    if activity is None or activity.status != "draft" or activity.activity_date is None:
        return []
    return [("", message(due.kind, activity=activity.id))]


async def _plan(session: AsyncSession, due: Due) -> list[Part]:
    plan = await plan_of(session, due.subject)
    if plan is None or plan.cancelled:
        return []
    return [("", message(due.kind, plan=plan.id))]


async def _nudge(session: AsyncSession, due: Due, timing: Timing) -> list[Part]:
    org = await org_of(session, due.subject)
    if org is None or not org.active:
        return []
    return [("", message(due.kind, org=org.id, days=timing.quiet_days))]


async def _returned(session: AsyncSession, due: Due) -> list[Part]:
    """A return, unless the report was corrected (or withdrawn) before it could be sent."""
    activity = await activity_of(session, due.subject)
    if activity is None or activity.review_state != ReviewState.RETURNED:
        return []
    return [("", message(due.kind, activity=activity.id, audit=due.refs[0]))]


async def _review_pending(session: AsyncSession, due: Due, now: datetime) -> list[Part]:
    district = await district_of(session, due.subject)
    if district is None:
        return []
    total = await pending_count(session, district.id)
    if not total:
        return []
    return [("", message(due.kind, district=district.id, pending=total))]


def deadline_of(due: Due) -> tuple[date, int]:
    """The deadline and the days left named by a deadline reminder's slot (``…-7d``)."""
    deadline, _, days = due.slot.rpartition("-")
    return date.fromisoformat(deadline), int(days.rstrip("d"))


async def _deadline(session: AsyncSession, due: Due, timing: Timing) -> list[Part]:
    district = await district_of(session, due.subject)
    if district is None:
        return []
    deadline, days = deadline_of(due)
    year = timing.years.year_of(deadline)
    figures = await district_figures(session, district.id, year, timing.years)
    params = message(
        due.kind,
        district=district.id,
        deadline=deadline.isoformat(),
        days=days,
        year=year,
        **figures,
    )
    return [("", params)]


async def _city_summary(session: AsyncSession, due: Due, timing: Timing) -> list[Part]:
    year = due.subject
    deadline = timing.years.deadline(year)
    districts = await all_districts(session)
    lines = []
    for d in districts:
        s = await district_status(session, d.id, year, timing.years)
        if not s.organisations:
            continue
        lines.append(
            {
                "district": d.id,
                "orgs": s.organisations,
                "reports": s.reports,
                "late": s.late,
                "silent": len(s.silent),
            }
        )
    payload = message(
        due.kind, year=year, date=due.slot, deadline=deadline.isoformat(), districts=lines
    )
    return [("", payload)]
