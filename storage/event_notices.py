"""The rows a report event's notices are built from (``scheduler/notices.py``), read by the use
case that wrote the event, in its own transaction: the event's audit entry, and the active
memberships of the people who may be told (the district's admins, the city admins, the
association's own people)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Row, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Role
from storage.models import AuditEntry, Membership


async def latest_entry(
    session: AsyncSession, activity_id: int, actions: Collection[str]
) -> Row[int, int, str, datetime] | None:
    """The report's newest audit entry of one of ``actions`` (flushed): (id, activity id,
    action, at); None when it has none."""
    return (
        await session.execute(
            select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, AuditEntry.at)
            .where(AuditEntry.activity_id == activity_id, AuditEntry.action.in_(list(actions)))
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    ).first()


async def audience(
    session: AsyncSession, district_id: int, org_id: int
) -> Sequence[Row[int, str, int | None, int | None]]:
    """The active memberships of the district's admins, the city admins and the association's
    members, in the order they were granted: (member id, role, org id, district id)."""
    rows = await session.execute(
        select(Membership.member_id, Membership.role, Membership.org_id, Membership.district_id)
        .where(
            Membership.active.is_(True),
            or_(
                and_(Membership.role == Role.DISTRICT_ADMIN, Membership.district_id == district_id),
                Membership.role == Role.CITY_ADMIN,
                Membership.org_id == org_id,
            ),
        )
        .order_by(Membership.id)
    )
    return rows.all()
