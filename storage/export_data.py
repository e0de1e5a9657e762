"""What an export reads: submitted activities with their evidence, associations with their
officers, districts with their association counts and figures.

The queries of :mod:`exports.scope`, which decides what a scope holds and turns these rows into
the writers' plain rows. Narrowing: ``org_id`` (one association) or else ``district_id`` (one
district) or neither (the whole city).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import ActivityStatus
from core.review_rules import EXPORTED_STATES, ReviewState
from storage.models import (
    Activity,
    District,
    DistrictFigures,
    Evidence,
    Member,
    Organisation,
)

_CHUNK = 500  # ids per IN (…) query


class ActivityHit(NamedTuple):
    """A submitted activity with its association's name and kind, its district and author."""

    activity: Activity
    org_name: str
    org_kind: str
    district_id: int
    district_name: str
    author_name: str | None


class EvidenceLine(NamedTuple):
    """One evidence file of an activity."""

    activity_id: int
    sha256: str
    kind: str
    file_name: str | None
    mime_type: str | None
    size: int | None


async def organisation(session: AsyncSession, org_id: int | None) -> Organisation | None:
    """An association by id (from the session's identity map when already loaded)."""
    return await session.get(Organisation, org_id)


async def district(session: AsyncSession, district_id: int | None) -> District | None:
    """A district by id (from the session's identity map when already loaded)."""
    return await session.get(District, district_id)


async def district_ids(session: AsyncSession) -> list[int]:
    """Every district's id, in the guide's order."""
    return list(
        await session.scalars(select(District.id).order_by(District.sort_order, District.id))
    )


async def activity_hits(
    session: AsyncSession,
    first: date,
    last: date,
    *,
    approved_only: bool,
    org_id: int | None = None,
    district_id: int | None = None,
) -> list[ActivityHit]:
    """Submitted activities dated ``first`` … ``last``, approved (``approved_only``) or also
    pending, ordered by date (then by id)."""
    query = (
        select(
            Activity,
            Organisation.name,
            Organisation.kind,
            District.id,
            District.name,
            Member.first_name,
        )
        .join(Organisation, Activity.org_id == Organisation.id)
        .join(District, Organisation.district_id == District.id)
        .join(Member, Activity.author_id == Member.id)
        .where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.activity_date >= first,
            Activity.activity_date <= last,
        )
        .order_by(Activity.activity_date, Activity.id)
    )
    if approved_only:
        query = query.where(Activity.review_state == ReviewState.APPROVED)
    else:
        # A report submitted before review existed and never migrated counts as pending.
        query = query.where(
            or_(Activity.review_state.is_(None), Activity.review_state.in_(EXPORTED_STATES))
        )
    if org_id is not None:
        query = query.where(Activity.org_id == org_id)
    elif district_id is not None:
        query = query.where(Organisation.district_id == district_id)
    return [ActivityHit(*row) for row in (await session.execute(query)).all()]


async def evidence_lines(session: AsyncSession, activity_ids: Sequence[int]) -> list[EvidenceLine]:
    """The evidence files of these activities, by activity, then in their order."""
    lines: list[EvidenceLine] = []
    for start in range(0, len(activity_ids), _CHUNK):
        chunk = activity_ids[start : start + _CHUNK]
        result = await session.execute(
            select(
                Evidence.activity_id,
                Evidence.sha256,
                Evidence.kind,
                Evidence.file_name,
                Evidence.mime_type,
                Evidence.size,
            )
            .where(Evidence.activity_id.in_(chunk))
            .order_by(Evidence.activity_id, Evidence.position, Evidence.id)
        )
        lines.extend(EvidenceLine(*row) for row in result.all())
    return lines


async def orgs_with_officers(
    session: AsyncSession,
    kind: str,
    *,
    org_id: int | None = None,
    district_id: int | None = None,
) -> list[tuple[Organisation, str]]:
    """Active associations of one kind with their officers loaded, each with its district's
    name, in registry order (the guide's district order, then id)."""
    query = (
        select(Organisation, District.name)
        .join(District, Organisation.district_id == District.id)
        .where(Organisation.kind == kind, Organisation.active.is_(True))
        .options(selectinload(Organisation.officers))
        .order_by(District.sort_order, Organisation.id)
    )
    if org_id is not None:
        query = query.where(Organisation.id == org_id)
    elif district_id is not None:
        query = query.where(Organisation.district_id == district_id)
    return [(org, name) for org, name in (await session.execute(query)).all()]


async def org_counts(session: AsyncSession, ids: Sequence[int]) -> dict[tuple[int, str], int]:
    """Active associations per (district id, kind) in these districts."""
    result = await session.execute(
        select(Organisation.district_id, Organisation.kind, func.count())
        .where(Organisation.district_id.in_(ids), Organisation.active.is_(True))
        .group_by(Organisation.district_id, Organisation.kind)
    )
    return {(district_id, kind): int(count) for district_id, kind, count in result.all()}


async def figures_of(
    session: AsyncSession, ids: Sequence[int], year: int
) -> dict[int, DistrictFigures]:
    """The year's district figures of these districts, by district id (absent when none)."""
    found = await session.scalars(
        select(DistrictFigures).where(
            DistrictFigures.district_id.in_(ids), DistrictFigures.year == year
        )
    )
    return {f.district_id: f for f in found}


async def districts_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, District]:
    """These districts, by id."""
    return {d.id: d for d in await session.scalars(select(District).where(District.id.in_(ids)))}
