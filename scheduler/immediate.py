"""The deliveries of one report, queued in the transaction that submits it (the outbox pattern).

The minute tick (:mod:`scheduler.jobs`) would find a submission in the audit log and queue its
card for the district admins up to a minute later. :func:`enqueue_deliveries` does the same
for one activity at once, in the caller's session, so the rows commit (or roll back) with the
submit itself: the same rules (:func:`scheduler.reminders.due_now` on a snapshot holding just
this report, its association and the people who may receive it), the same rows
(:func:`scheduler.messages.rows_for`) and the same unique keys, so the tick later finds them
queued and adds nothing. After the commit the caller wakes the sender (:data:`WAKE`).

Only the announcements of events are queued here (submitted, resubmitted, withdrawn, corrected,
returned). Amendments are not: edits in a row are announced once they have settled
(``Timing.edit_settle``), and a card queued before the last edit of a run would miss it.
During quiet hours the rows are queued not before they end, the moment the tick would have
queued them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Role
from scheduler import outbox
from scheduler.messages import rows_for
from scheduler.reminders import due_now, quiet_ends
from scheduler.rows import ActivityRow, AuditRow, Kind, OrgRow, Snapshot, Timing
from scheduler.snapshot import AUDIT_ACTIONS, add_membership, load_digested, load_people
from storage.models import (
    Activity,
    AuditEntry,
    Membership,
    Organisation,
    utcnow,
)

#: ``bot_data`` key of the :class:`asyncio.Event` the sender waits on between runs (the same
#: string as ``bot.jobs.WAKE``, which sits above this layer; a test checks they agree).
WAKE = "sender:wake"

#: What a report's own event announces; an amendment's card waits for its edits to settle.
EVENT_KINDS = frozenset(
    {
        Kind.REPORT_SUBMITTED,
        Kind.REPORT_RESUBMITTED,
        Kind.REPORT_WITHDRAWN,
        Kind.REPORT_CORRECTED,
        Kind.REPORT_RETURNED,
    }
)


async def enqueue_deliveries(
    session: AsyncSession, activity_id: int, timing: Timing, now: datetime | None = None
) -> int:
    """Queue, in ``session``'s transaction, the announcements now due for one report (see the
    module doc); returns how many outbox rows were inserted (0 when the tick already did)."""
    await session.flush()  # the event's audit entry needs its id: it is part of the key
    now = now or utcnow()
    snap = await _snapshot(session, activity_id, now, timing)
    if snap is None:
        return 0
    # Outside quiet hours this is now; inside them, their end: when the tick would queue it.
    moment = quiet_ends(now, timing)
    due = [
        d
        for d in due_now(snap, moment, timing)
        if d.kind in EVENT_KINDS and d.subject == activity_id
    ]
    if not due:
        return 0
    queued = await outbox.existing_keys(session, [d.key for d in due])
    rows = []
    for item in due:
        if item.key in queued:
            continue
        made = await rows_for(session, item, snap.people[item.member_id], timing, now)
        rows += [replace(r, not_before=moment) for r in made]
    return await outbox.enqueue(session, rows, now)


async def _snapshot(
    session: AsyncSession, activity_id: int, now: datetime, timing: Timing
) -> Snapshot | None:
    """The rows :func:`due_now` needs about one report, loaded as ``scheduler.snapshot`` loads
    them for every report (None when the report is gone)."""
    found = (
        await session.execute(
            select(
                Activity.id,
                Activity.org_id,
                Activity.author_id,
                Activity.status,
                Activity.activity_date,
                Activity.updated_at,
                Activity.plan_id,
                Organisation.district_id,
                Organisation.name,
                Organisation.active,
            )
            .join(Organisation, Organisation.id == Activity.org_id)
            .where(Activity.id == activity_id)
        )
    ).first()
    if found is None:
        return None
    snap = Snapshot()
    activity = ActivityRow(*found[:7])
    snap.activities = [activity]
    district_id = found.district_id
    snap.orgs[activity.org_id] = OrgRow(
        id=activity.org_id, district_id=district_id, name=found.name, active=found.active
    )
    # The same window as the tick's, so the same runs of edits are seen around the events.
    since = now - timing.delivery_valid - timing.edit_settle - timedelta(days=1)
    audits = await session.execute(
        select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, AuditEntry.at)
        .where(
            AuditEntry.activity_id == activity_id,
            AuditEntry.at >= since,
            AuditEntry.action.in_(AUDIT_ACTIONS),
        )
        .order_by(AuditEntry.id)
    )
    snap.audits = [AuditRow(*row) for row in audits.all()]
    if not snap.audits:
        return None

    # Who may receive it: the district's admins, city admins, the association's own people.
    memberships = await session.execute(
        select(Membership.member_id, Membership.role, Membership.org_id, Membership.district_id)
        .where(
            Membership.active.is_(True),
            or_(
                and_(Membership.role == Role.DISTRICT_ADMIN, Membership.district_id == district_id),
                Membership.role == Role.CITY_ADMIN,
                Membership.org_id == activity.org_id,
            ),
        )
        .order_by(Membership.id)
    )
    ids = {activity.author_id}
    for member_id, role, org_id, district in memberships.all():
        ids.add(member_id)
        add_membership(snap, member_id, role, org_id, district)

    await load_people(session, snap, ids)
    # An earlier event of this report (its submission before a resubmit…) may have been listed
    # in a digest of a recipient since back on 逐条推送: not carded to them now either.
    await load_digested(session, snap, since, ids)
    return snap
