"""Chasing (催报): a district's associations by how long they have been silent, and who hears a
nudge. The nudges themselves are outbox rows (``scheduler/chase.py`` queues them); the last one
sent to an association is read back from there, so no other table records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus, Role
from core.registry_rules import fields_for
from storage.models import Activity, Member, Membership, Organisation, OutboxMessage
from storage.registry import district_orgs, missing_fields

CHASE_KIND = "chase_nudge"  # the outbox kind of a nudge sent from /chase
CHASE_GAP = timedelta(hours=24)  # at most one nudge per association in this time


@dataclass(frozen=True)
class ChaseLine:
    """One association as /chase lists it."""

    org: Organisation
    last_report: date | None  # the activity date of its newest submitted report
    silent_days: int | None  # days since that date; None = never reported
    complete: int  # registry completeness, percent of the annex fields filled


def chase_key_prefix(org_id: int) -> str:
    """The outbox keys of one association's nudges start with this."""
    return f"{CHASE_KIND}:{org_id}:"


async def chase_lines(session: AsyncSession, district_id: int, today: date) -> list[ChaseLine]:
    """The district's active associations, never-reported first, then the longest silent."""
    orgs = await district_orgs(session, district_id, with_officers=True)
    if not orgs:
        return []
    rows = await session.execute(
        select(Activity.org_id, func.max(Activity.activity_date))
        .where(
            Activity.org_id.in_([o.id for o in orgs]),
            Activity.status == ActivityStatus.SUBMITTED,
        )
        .group_by(Activity.org_id)
    )
    last: dict[int, date | None] = {org_id: day for org_id, day in rows.all()}
    lines = []
    for org in orgs:
        day = last.get(org.id)
        total = len(fields_for(org.kind)) or 1
        filled = total - len(missing_fields(org))
        silent = (today - day).days if day is not None else None
        lines.append(ChaseLine(org, day, silent, round(100 * filled / total)))
    # Never reported first, then by days of silence, longest first; names break ties.
    lines.sort(key=lambda c: (c.silent_days is not None, -(c.silent_days or 0), c.org.name))
    return lines


async def chase_recipients(session: AsyncSession, org_id: int) -> list[Member]:
    """The association's active reporters and org admins who can be reached, each once."""
    rows = await session.scalars(
        select(Member)
        .join(Membership, Membership.member_id == Member.id)
        .where(
            Membership.org_id == org_id,
            Membership.active.is_(True),
            Membership.role.in_([Role.REPORTER, Role.ORG_ADMIN]),
            Member.unreachable.is_(False),
        )
        .order_by(Member.id)
    )
    return list(dict.fromkeys(rows.unique().all()))


async def last_chase(session: AsyncSession, org_id: int) -> datetime | None:
    """When the association was last nudged from /chase (the moment it was queued)."""
    return await session.scalar(
        select(func.max(OutboxMessage.created_at)).where(
            OutboxMessage.kind == CHASE_KIND,
            OutboxMessage.key.startswith(chase_key_prefix(org_id), autoescape=True),
        )
    )


async def latest_nudge_size(session: AsyncSession, org_id: int) -> int:
    """How many people the association's latest nudge was queued for: its outbox rows, which
    one 提醒 writes together with one ``created_at`` (:func:`scheduler.chase.queue_nudge`)."""
    nudges = (
        OutboxMessage.kind == CHASE_KIND,
        OutboxMessage.key.startswith(chase_key_prefix(org_id), autoescape=True),
    )
    latest = select(func.max(OutboxMessage.created_at)).where(*nudges).scalar_subquery()
    count = select(func.count(OutboxMessage.id)).where(*nudges, OutboxMessage.created_at == latest)
    return int(await session.scalar(count) or 0)
