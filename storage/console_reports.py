"""The console's reports table: one page of the submitted reports in an admin's scope, with the
filters kept in the page's URL, in two SQL statements (the count and the page).

Scope comes from :func:`core.policy.district_scope` (None = the whole city); the caller checks
that a district or association asked for by id lies inside it (:func:`district_in_scope`,
:func:`association_in_scope`) so ids outside it answer like missing ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, label, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from storage.models import Activity, District, Evidence, Organisation

PAGE_SIZE = 50
TEXT_MAX = 100  # a search longer than any activity name is a paste, not a search
# The association select of a city admin who chose no district: bounded, the district filter
# narrows it (Chengdu has a few hundred associations, far below this).
ASSOCIATIONS_MAX = 2000


@dataclass(frozen=True)
class ReportFilters:
    """What the table is narrowed to; None / "" means "any"."""

    district_id: int | None = None
    org_id: int | None = None
    month: tuple[int, int] | None = None  # (year, month) of the activity date
    state: ReviewState | None = None
    late: bool | None = None  # True: only late reports; False: only those on time
    text: str = ""  # in the name or the content, taken literally (% and _ are not wildcards)


@dataclass(frozen=True)
class ReportRow:
    """One line of the table."""

    id: int
    activity_date: date | None
    org_id: int
    org_name: str
    district_name: str
    name: str | None
    role: str | None
    headcount: int | None
    review_state: str | None
    late: bool
    late_days: int
    evidence: int


@dataclass(frozen=True)
class ReportPage:
    """A page of rows, with how many there are in all."""

    rows: list[ReportRow]
    total: int
    page: int  # 1-based, clamped to the existing pages
    pages: int  # at least 1, even when nothing matches
    size: int


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """The first day of the month and the first day of the next one."""
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return start, end


def _contains(column: Any, text: str, sqlite: bool) -> ColumnElement[bool]:
    # SQLite's LIKE already ignores the case of ASCII letters (and lower() only knows those),
    # so lower() on both sides would only slow the scan; PostgreSQL needs ILIKE for the same.
    if sqlite:
        return column.contains(text, autoescape=True)
    return column.icontains(text, autoescape=True)


def _conditions(
    districts: list[int] | None, f: ReportFilters, *, sqlite: bool = True
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Activity.status == ActivityStatus.SUBMITTED]
    # The scope as "org_id IN (the district's associations)" rather than a join: the count
    # reads only the district's reports (ix_activities_org_status, covering), and the page's
    # walk checks each report against that list instead of looking up its association; so
    # neither grows with the other districts' reports (benchmarks/console.py --elsewhere).
    orgs = select(Organisation.id)
    if districts is not None:
        orgs = orgs.where(Organisation.district_id.in_(districts or [-1]))
    if f.district_id is not None:
        orgs = orgs.where(Organisation.district_id == f.district_id)
    if districts is not None or f.district_id is not None:
        conds.append(Activity.org_id.in_(orgs))
    if f.org_id is not None:
        conds.append(Activity.org_id == f.org_id)
    if f.month is not None:
        start, end = month_bounds(*f.month)
        conds += [Activity.activity_date >= start, Activity.activity_date < end]
    if f.state is not None:
        conds.append(Activity.review_state == f.state.value)
    if f.late is True:
        conds.append(Activity.on_time.is_(False))
    elif f.late is False:
        conds.append(Activity.on_time.is_not(False))
    text = f.text.strip()[:TEXT_MAX]
    if text:
        conds.append(
            or_(_contains(Activity.name, text, sqlite), _contains(Activity.content, text, sqlite))
        )
    return conds


# ix_activities_status_date (status, activity_date) ends with the rowid (id): SQLite walks it
# backwards for this order and stops after the page instead of sorting every report in scope.
NEWEST_FIRST = (Activity.activity_date.desc(), Activity.id.desc())


async def report_page(
    session: AsyncSession,
    districts: list[int] | None,
    filters: ReportFilters,
    page: int,
    size: int = PAGE_SIZE,
) -> ReportPage:
    """The submitted reports of ``districts`` (None: every district) matching ``filters``,
    newest first (activity date, then id); ``page`` is clamped to 1…pages."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    conds = _conditions(districts, filters, sqlite=sqlite)
    total = int(await session.scalar(select(func.count()).select_from(Activity).where(*conds)) or 0)
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    # The page's ids first (index walk, LIMIT), then their evidence counted in one grouped
    # subquery restricted to those ids: the cost does not grow with the evidence in scope.
    ids = (
        select(Activity.id)
        .where(*conds)
        .order_by(*NEWEST_FIRST)
        .limit(size)
        .offset((page - 1) * size)
        .cte("page_ids")
    )
    counts = (
        # label(), not .label(): tests/unit/test_texts.py reads ".label(" as a catalog lookup.
        select(Evidence.activity_id, label("n", func.count()))
        .where(Evidence.activity_id.in_(select(ids.c.id)))
        .group_by(Evidence.activity_id)
        .subquery("evidence_counts")
    )
    query = (
        select(
            Activity.id,
            Activity.activity_date,
            Activity.org_id,
            Organisation.name,
            District.name,
            Activity.name,
            Activity.role,
            Activity.headcount,
            Activity.review_state,
            Activity.on_time,
            Activity.late_days,
            func.coalesce(counts.c.n, 0),
        )
        .join(ids, ids.c.id == Activity.id)
        .join(Organisation, Organisation.id == Activity.org_id)
        .join(District, District.id == Organisation.district_id)
        .outerjoin(counts, counts.c.activity_id == Activity.id)
        .order_by(*NEWEST_FIRST)
    )
    result = await session.execute(query)
    rows = [
        ReportRow(
            id=r[0],
            activity_date=r[1],
            org_id=r[2],
            org_name=r[3],
            district_name=r[4],
            name=r[5],
            role=r[6],
            headcount=r[7],
            review_state=r[8],
            late=r[9] is False,
            late_days=r[10] or 0,
            evidence=int(r[11]),
        )
        for r in result.all()
    ]
    return ReportPage(rows=rows, total=total, page=page, pages=pages, size=size)


async def districts_in_scope(
    session: AsyncSession, districts: list[int] | None
) -> list[tuple[int, str]]:
    """(id, name) of the districts an admin oversees, in the work guide's order."""
    query = select(District.id, District.name).order_by(District.sort_order, District.id)
    if districts is not None:
        query = query.where(District.id.in_(districts or [-1]))
    return [(r[0], r[1]) for r in (await session.execute(query)).all()]


async def district_in_scope(
    session: AsyncSession, districts: list[int] | None, district_id: int
) -> bool:
    """Whether the district exists and the admin oversees it."""
    if districts is not None and district_id not in districts:
        return False
    found = await session.scalar(select(District.id).where(District.id == district_id))
    return found is not None


async def association_in_scope(
    session: AsyncSession, districts: list[int] | None, org_id: int
) -> bool:
    """Whether the association exists and lies in the admin's districts."""
    district_id = await session.scalar(
        select(Organisation.district_id).where(Organisation.id == org_id)
    )
    return district_id is not None and (districts is None or district_id in districts)


async def associations_in_scope(
    session: AsyncSession, districts: list[int] | None, district_id: int | None = None
) -> list[tuple[int, str, str]]:
    """(id, name, district name) of the associations in scope (in ``district_id`` only, when
    given), by district then name; inactive ones too, since their reports stay listed."""
    query = (
        select(Organisation.id, Organisation.name, District.name)
        .join(District, District.id == Organisation.district_id)
        .order_by(District.sort_order, District.id, Organisation.name, Organisation.id)
        .limit(ASSOCIATIONS_MAX)
    )
    if districts is not None:
        query = query.where(Organisation.district_id.in_(districts or [-1]))
    if district_id is not None:
        query = query.where(Organisation.district_id == district_id)
    return [(r[0], r[1], r[2]) for r in (await session.execute(query)).all()]
