"""The rows the scheduler's notices are built from when they are queued or sent
(``scheduler/digest_message.py``, ``scheduler/review_render.py``): the audit entries a daily
digest stands for, the reports it lists, a return's report, entry and reviewer."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import ActivityStatus
from storage.models import Activity, AuditEntry, Member, Organisation


async def entries_with_status(
    session: AsyncSession, entry_ids: Collection[int]
) -> Sequence[Row[int, int, str, str]]:
    """The audit entries ``entry_ids``, in order, with their report's status now:
    (entry id, activity id, action, status)."""
    rows = await session.execute(
        select(AuditEntry.id, AuditEntry.activity_id, AuditEntry.action, Activity.status)
        .join(Activity, Activity.id == AuditEntry.activity_id)
        .where(AuditEntry.id.in_(entry_ids))
        .order_by(AuditEntry.id)
    )
    return rows.all()


async def submitted_reports(session: AsyncSession, ids: Collection[int]) -> list[Activity]:
    """The reports of ``ids`` still submitted, in no particular order, with their association."""
    found = await session.scalars(
        select(Activity)
        .where(Activity.id.in_(ids), Activity.status == ActivityStatus.SUBMITTED)
        .options(selectinload(Activity.organisation))
    )
    return list(found.all())


async def report_with_district(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report with its association and the association's district."""
    return await session.scalar(
        select(Activity)
        .where(Activity.id == activity_id)
        .options(selectinload(Activity.organisation).selectinload(Organisation.district))
    )


async def activity_of(session: AsyncSession, activity_id: int) -> Activity | None:
    """A report by id (from the session's identity map when it is loaded already)."""
    return await session.get(Activity, activity_id)


async def audit_entry_of(session: AsyncSession, entry_id: int) -> AuditEntry | None:
    """An audit entry by id."""
    return await session.get(AuditEntry, entry_id)


async def member_of(session: AsyncSession, member_id: int) -> Member | None:
    """A member by id."""
    return await session.get(Member, member_id)
