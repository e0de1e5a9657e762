"""Queue the nudges of /chase (催报): a polite reminder to an association's reporters and org
admins, naming the district that asks. One outbox row per recipient, held by the sender during
quiet hours like every non-urgent message. Who may nudge, and the once-a-day rule, are the use
case's (:mod:`services.chase`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.messages import message
from scheduler.outbox import OutRow, enqueue
from storage.chase import CHASE_KIND, chase_key_prefix, chase_recipients
from storage.db import AsyncSession
from storage.models import Organisation

NUDGE_VALID = timedelta(days=3)  # a nudge not sent within three days is stale


async def queue_nudge(
    session: AsyncSession, org: Organisation, district_id: int, now: datetime
) -> int:
    """Queue a nudge to every reachable reporter and org admin of ``org``; returns how many
    outbox rows were queued."""
    stamp = int(now.timestamp())
    rows = []
    for member in await chase_recipients(session, org.id):
        to = member.address()
        if to is None:
            continue
        payload = message(CHASE_KIND, org=org.id, district=district_id)
        payload["expires_at"] = (now + NUDGE_VALID).isoformat()
        payload["quiet"] = True
        rows.append(
            OutRow(
                key=f"{chase_key_prefix(org.id)}{stamp}:{member.id}",
                to=to,
                kind=CHASE_KIND,
                payload=payload,
                member_id=member.id,
                not_before=now,
            )
        )
    return await enqueue(session, rows, now)
