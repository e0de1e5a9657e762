"""Planned activities (``/plan``): a member's upcoming plans and the reports made for a plan.

The plan rows themselves are added and read by id with the ORM (``session.add`` / ``get``) in
``handlers/plan.py``; the queries are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from storage.models import Activity, Plan


async def upcoming_plans(
    session: AsyncSession, member_id: int, today: date, limit: int
) -> Sequence[Plan]:
    """The member's plans not cancelled and dated ``today`` or later, soonest first (at most
    ``limit``)."""
    return (
        await session.scalars(
            select(Plan)
            .where(
                Plan.member_id == member_id,
                Plan.cancelled.is_(False),
                Plan.planned_date >= today,
            )
            .order_by(Plan.planned_date, Plan.id)
            .limit(limit)
        )
    ).all()


async def plan_reports(session: AsyncSession, plan_id: int) -> Sequence[Activity]:
    """The reports (not cancelled) started from a plan, newest first."""
    return (
        await session.scalars(
            select(Activity)
            .where(Activity.plan_id == plan_id)
            .where(Activity.status != ActivityStatus.CANCELLED)
            .order_by(Activity.id.desc())
        )
    ).all()
