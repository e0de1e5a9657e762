"""Queue the nudges of /chase (催报): a polite reminder to an association's reporters and org
admins, naming the district that asks. One outbox row per recipient, held by the sender during
quiet hours like every non-urgent message; at most one nudge per association per 24 hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.messages import message
from scheduler.outbox import OutRow, enqueue
from storage.chase import (
    CHASE_GAP,
    CHASE_KIND,
    chase_key_prefix,
    chase_lines,
    chase_recipients,
    last_chase,
)
from storage.models import Organisation

NUDGE_VALID = timedelta(days=3)  # a nudge not sent within three days is stale


@dataclass(frozen=True)
class Nudged:
    """The outcome of one 提醒: how many were queued, or when the previous nudge went."""

    queued: int
    previous: datetime | None = None  # set when refused: a nudge went less than 24 h ago


async def nudge(
    session: AsyncSession, org: Organisation, district_id: int, now: datetime
) -> Nudged:
    """Queue a nudge to every reachable reporter and org admin of ``org`` (once per 24 h)."""
    previous = await last_chase(session, org.id)
    if previous is not None and now - previous < CHASE_GAP:
        return Nudged(0, previous)
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
    return Nudged(await enqueue(session, rows, now))


async def quiet_orgs(
    session: AsyncSession, district_id: int, now: datetime, today: date, quiet_days: int
) -> tuple[list[Organisation], int]:
    """全部提醒: associations silent for ``quiet_days`` or more (or never reported) that may be
    nudged now, and how many people would receive it."""
    orgs: list[Organisation] = []
    people = 0
    for line in await chase_lines(session, district_id, today):
        if line.silent_days is not None and line.silent_days < quiet_days:
            continue
        previous = await last_chase(session, line.org.id)
        if previous is not None and now - previous < CHASE_GAP:
            continue
        orgs.append(line.org)
        people += len(await chase_recipients(session, line.org.id))
    return orgs, people
