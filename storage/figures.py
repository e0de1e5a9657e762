"""The counts the charts draw (``scheduler/charts.py``): a statistical year's submitted reports
per month, on time or late, and per association or district, largest first."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from storage.models import Activity, District, Organisation


def _submitted(span: tuple[date, date], district_id: int | None) -> Select[()]:
    """The submitted reports dated within ``span``, of one district (or the city, ``None``),
    joined to their association; no columns yet."""
    base = (
        select()
        .select_from(Activity)
        .join(Organisation, Organisation.id == Activity.org_id)
        .where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.activity_date.between(*span),
        )
    )
    if district_id is not None:
        base = base.where(Organisation.district_id == district_id)
    return base


async def month_counts(
    session: AsyncSession, span: tuple[date, date], district_id: int | None
) -> list[tuple[int, bool | None, int]]:
    """(calendar month 1..12, on time — None when unknown, count) of the submitted reports
    dated within ``span``, of one district (or the city, ``None``)."""
    month = extract("month", Activity.activity_date)
    rows = await session.execute(
        _submitted(span, district_id)
        .add_columns(month, Activity.on_time, func.count())
        .group_by(month, Activity.on_time)
    )
    return [(int(m), on_time, int(count)) for m, on_time, count in rows.all()]


async def bar_counts(
    session: AsyncSession, span: tuple[date, date], district_id: int | None, top: int
) -> list[tuple[str, int]]:
    """(name, count) of the submitted reports dated within ``span``, largest first: per
    district for the city (``district_id`` None, every district), else per association of
    the district (the ``top`` ones)."""
    base = _submitted(span, district_id)
    if district_id is None:
        bars = await session.execute(
            base.join(District, District.id == Organisation.district_id)
            .add_columns(District.name, func.count())
            .group_by(District.id, District.name)
            .order_by(func.count().desc(), District.name)
        )
    else:
        bars = await session.execute(
            base.add_columns(Organisation.name, func.count())
            .group_by(Organisation.id, Organisation.name)
            .order_by(func.count().desc(), Organisation.name)
            .limit(top)
        )
    return [(str(name), int(count)) for name, count in bars.all()]


async def returned_count(
    session: AsyncSession, span: tuple[date, date], district_id: int | None
) -> int:
    """How many submitted reports dated within ``span`` stand returned, of one district (or
    the city, ``None``): counted in the console overview's figures (as in /status), left out
    of annex 1-3 (``exports/scope.py``)."""
    query = (
        select(func.count())
        .select_from(Activity)
        .join(Organisation, Organisation.id == Activity.org_id)
        .where(
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.review_state == ReviewState.RETURNED,
            Activity.activity_date.between(*span),
        )
    )
    if district_id is not None:
        query = query.where(Organisation.district_id == district_id)
    return int(await session.scalar(query) or 0)
