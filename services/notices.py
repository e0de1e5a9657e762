"""Queue the notices of a report's event in the use case's own transaction (the outbox pattern).

The use cases of ``services.report`` (提交, 重新提交 a withdrawn report, 撤回) and
``services.review`` (退回, 重新提交 a corrected one) call :func:`queue_event_notices` right after
writing the event: its rows (:func:`scheduler.notices.event_rows`) commit or roll back with the
event, under the keys the minute tick would use, so the tick later finds them queued and adds
nothing. After its commit the front wakes the sender (:data:`scheduler.notices.WAKE`).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from scheduler import outbox
from scheduler.notices import event_rows
from scheduler.reminders import quiet_ends
from scheduler.rows import AuditRow, OrgRow, Snapshot, Timing
from scheduler.snapshot import add_membership, load_people
from storage import event_notices
from storage.db import AsyncSession
from storage.models import Activity, utcnow


async def queue_event_notices(
    session: AsyncSession,
    activity: Activity,
    actions: Collection[str],
    timing: Timing,
    now: datetime | None = None,
) -> int:
    """Queue the notices of the event just written to ``activity`` (its newest audit entry of
    ``actions``; the report loaded with its association and evidence, as the use cases lock and
    load it); returns how many outbox rows were inserted.

    During quiet hours the rows wait for their end, the moment the tick would have queued them.
    """
    await session.flush()  # the event's audit entry needs its id: it is part of the key
    now = now or utcnow()
    found = await event_notices.latest_entry(session, activity.id, actions)
    if found is None:
        return 0
    entry = AuditRow(*found)
    org = activity.organisation
    snap = Snapshot()
    snap.orgs[org.id] = OrgRow(
        id=org.id, district_id=org.district_id, name=org.name, active=org.active
    )
    ids = {activity.author_id}
    for member_id, role, org_id, district_id in await event_notices.audience(
        session, org.district_id, org.id
    ):
        ids.add(member_id)
        add_membership(snap, member_id, role, org_id, district_id)
    await load_people(session, snap, ids)
    rows = event_rows(snap, entry, activity, timing, quiet_ends(now, timing))
    return await outbox.enqueue(session, rows, now)
