"""Review's part of the scheduler's messages, rendered when sent: 通过 / 退回 on a delivery
card while its report waits for review, the edits a correction made since its return, the
return itself (to the author and org admins, with 去修改 / 重新提交) and the district admins'
reminder of reports pending for more than two days."""

from __future__ import annotations

from typing import Any

from core import review_buttons as rv
from core.callbacks import Id
from core.enums import ActivityStatus
from core.review_rules import ReviewState
from core.rules import shorten
from core.texts import plain, t
from scheduler.messenger import Button, Outgoing
from scheduler.rows import Kind
from storage.db import AsyncSession
from storage.models import Activity
from storage.notices import audit_entry_of, member_of, report_with_district
from storage.registry import district_of

# The edits a correction made, read in storage; scheduler/delivery.py imports them from here.


def review_buttons(activity: Activity, kind: Kind, lang: str) -> tuple[tuple[Button, ...], ...]:
    """通过 / 退回 on a card while its report waits for review (pressed late, the handler says
    who decided first)."""
    if (
        kind == Kind.REPORT_WITHDRAWN
        or activity.status != ActivityStatus.SUBMITTED
        or activity.review_state != ReviewState.PENDING
    ):
        return ()
    return (
        (
            Button(plain(lang, "review_btn_approve"), rv.APPROVE.pack(Id(activity.id))),
            Button(plain(lang, "review_btn_return"), rv.RETURN.pack(Id(activity.id))),
        ),
    )


async def returned(session: AsyncSession, params: dict[str, Any], lang: str) -> Outgoing | None:
    """A return, to the report's author and its org admins: the reason, who returned it, and
    去修改 / 重新提交."""
    activity = await report_with_district(session, int(params["activity"]))
    entry = await audit_entry_of(session, int(params["audit"]))
    if activity is None or entry is None:
        return None
    reviewer = await member_of(session, entry.member_id) if entry.member_id else None
    text = t(
        lang,
        "review_returned_notice",
        ref=activity.ref_no or "",
        name=shorten(activity.name or "", 60),
        district=activity.organisation.district.name,
        by=reviewer.first_name if reviewer else "",
        reason=entry.new_value or "",
    )
    buttons = (
        Button(plain(lang, "review_btn_amend"), rv.AMEND.pack(Id(activity.id))),
        Button(plain(lang, "review_btn_resubmit"), rv.RESUBMIT.pack(Id(activity.id))),
    )
    return Outgoing(Kind.REPORT_RETURNED, text, (buttons,))


async def review_pending(
    session: AsyncSession, params: dict[str, Any], lang: str
) -> Outgoing | None:
    """The daily reminder of reports pending review for over two days."""
    district = await district_of(session, int(params["district"]))
    if district is None:
        return None
    text = t(lang, "review_pending_reminder", district=district.name, n=int(params["pending"]))
    open_queue = Button(plain(lang, "review_btn_open"), rv.QUEUE_PAGE.pack(rv.QueuePage(1, "new")))
    return Outgoing(Kind.REVIEW_PENDING, text, ((open_queue,),))
