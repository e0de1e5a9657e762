"""Which rows an export holds: one association, one district or the whole city; a year or dates.

Only ``submitted`` activities count (drafts, withdrawn and cancelled reports never reach a form),
and of those the approved and pending ones (a report returned by the district waits for its
correction; ``approved_only`` keeps the approved ones alone), ordered by activity date.
Everything is read into the plain rows of :mod:`exports.rows`, so the writers never touch the
database.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.enums import ActivityStatus, OrgKind
from core.rules import EXPORTED_STATES, ReviewState
from core.years import ReportingYears
from exports.names import safe_name
from exports.rows import ActivityRow, DistrictFacts, EvidenceFile, OrgRow, Person
from storage.models import (
    Activity,
    District,
    DistrictFigures,
    Evidence,
    Member,
    Officer,
    Organisation,
)

CITY_NAME = "成都市"
_CHUNK = 500  # ids per IN (…) query


class Level(enum.StrEnum):
    """How wide an export is."""

    ORG = "org"
    DISTRICT = "district"
    CITY = "city"


@dataclass(frozen=True)
class Scope:
    """An export's rows: a level (with its org or district id) and a period: a statistical year
    (the activities since the previous year's deadline, up to its own) or dates within it."""

    level: Level
    year: int
    org_id: int | None = None
    district_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    approved_only: bool = False  # only reports the district approved (已通过)
    years: ReportingYears = field(default_factory=ReportingYears)

    @property
    def period(self) -> tuple[date, date]:
        """First and last activity date included (the whole statistical year unless dates
        were given)."""
        first, last = self.years.span(self.year)
        return self.date_from or first, self.date_to or last

    @property
    def has_range(self) -> bool:
        """Whether explicit dates narrow the year."""
        return self.date_from is not None or self.date_to is not None

    def key(self) -> str:
        """A short text naming the scope (stored with an export job)."""
        first, last = self.period
        where = {Level.ORG: f"org:{self.org_id}", Level.DISTRICT: f"district:{self.district_id}"}
        approved = ":approved" if self.approved_only else ""
        return f"{where.get(self.level, 'city')}:{first:%Y%m%d}-{last:%Y%m%d}{approved}"


async def scope_district_ids(session: AsyncSession, scope: Scope) -> list[int]:
    """The districts a scope covers, in the guide's order."""
    if scope.level == Level.DISTRICT:
        return [scope.district_id] if scope.district_id is not None else []
    if scope.level == Level.ORG:
        org = await session.get(Organisation, scope.org_id)
        return [org.district_id] if org else []
    return list(
        await session.scalars(select(District.id).order_by(District.sort_order, District.id))
    )


async def scope_name(session: AsyncSession, scope: Scope) -> str:
    """What a file name calls the scope: ``锦江区``, ``成都市``, ``锦江区_某某科协``."""
    if scope.level == Level.CITY:
        return CITY_NAME
    if scope.level == Level.DISTRICT:
        district = await session.get(District, scope.district_id)
        return district.name if district else "?"
    org = await session.get(Organisation, scope.org_id)
    if org is None:
        return "?"
    district = await session.get(District, org.district_id)
    return f"{district.name if district else ''}_{safe_name(org.name, 40)}"


def district_unit(district: str) -> str:
    """The 填报单位 of a district's form: its 区（市）县科协, which stamps it."""
    return f"{district}科协"


async def filing_unit(session: AsyncSession, scope: Scope) -> str:
    """Who fills and stamps the scope's forms: ``锦江区科协``, ``成都市科协``, or an association
    with its district, ``某某公司科协（锦江区）``."""
    if scope.level == Level.CITY:
        return district_unit(CITY_NAME)
    if scope.level == Level.DISTRICT:
        district = await session.get(District, scope.district_id)
        return district_unit(district.name) if district else ""  # left blank for the pen
    org = await session.get(Organisation, scope.org_id)
    if org is None:
        return ""
    district = await session.get(District, org.district_id)
    return f"{org.name}（{district.name}）" if district else org.name


async def load_activities(session: AsyncSession, scope: Scope) -> list[ActivityRow]:
    """Submitted activities in scope, ordered by date (then by id), with their evidence."""
    first, last = scope.period
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
    if scope.approved_only:
        query = query.where(Activity.review_state == ReviewState.APPROVED)
    else:
        # A report submitted before review existed and never migrated counts as pending.
        query = query.where(
            or_(Activity.review_state.is_(None), Activity.review_state.in_(EXPORTED_STATES))
        )
    if scope.level == Level.ORG:
        query = query.where(Activity.org_id == scope.org_id)
    elif scope.level == Level.DISTRICT:
        query = query.where(Organisation.district_id == scope.district_id)
    found = (await session.execute(query)).all()
    evidence = await _evidence_of(session, [a.id for a, *_ in found])
    rows = []
    for activity, org_name, kind, district_id, district_name, author in found:
        assert activity.activity_date is not None
        rows.append(
            ActivityRow(
                id=activity.id,
                activity_date=activity.activity_date,
                name=activity.name or "",
                content=activity.content or "",
                role=activity.role or "",
                headcount=activity.headcount,
                outcome=activity.outcome or "",
                org_name=org_name,
                org_kind=kind,
                district_id=district_id,
                district_name=district_name,
                submitted_at=activity.submitted_at,
                on_time=activity.on_time,
                late_days=activity.late_days,
                author_name=author or "",
                review_state=activity.review_state or ReviewState.PENDING,
                evidence=tuple(evidence.get(activity.id, ())),
            )
        )
    return rows


async def _evidence_of(
    session: AsyncSession, activity_ids: Sequence[int]
) -> dict[int, list[EvidenceFile]]:
    files: dict[int, list[EvidenceFile]] = defaultdict(list)
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
        for activity_id, sha, kind, name, mime, size in result.all():
            files[activity_id].append(EvidenceFile(sha, kind, name, mime, size or 0))
    return files


async def load_orgs(session: AsyncSession, scope: Scope, kind: OrgKind) -> list[OrgRow]:
    """Active associations of one kind in scope, with their officers, in registry order."""
    query = (
        select(Organisation, District.name)
        .join(District, Organisation.district_id == District.id)
        .where(Organisation.kind == kind.value, Organisation.active.is_(True))
        .options(selectinload(Organisation.officers))
        .order_by(District.sort_order, Organisation.id)
    )
    if scope.level == Level.ORG:
        query = query.where(Organisation.id == scope.org_id)
    elif scope.level == Level.DISTRICT:
        query = query.where(Organisation.district_id == scope.district_id)
    rows = []
    for org, district_name in (await session.execute(query)).all():
        people: dict[str, list[Person]] = defaultdict(list)
        for officer in sorted(org.officers, key=_officer_order):
            people[officer.role].append(Person(officer.name, officer.title, officer.phone))
        rows.append(
            OrgRow(
                id=org.id,
                kind=org.kind,
                name=org.name,
                district_id=org.district_id,
                district_name=district_name,
                approval_no=org.approval_no,
                approval_date=org.approval_date,
                address=org.address,
                employees=org.employees,
                tech_staff=org.tech_staff,
                association_members=org.association_members,
                ownership=org.ownership,
                unit_members=org.unit_members,
                individual_members=org.individual_members,
                secretariat_unit=org.secretariat_unit,
                officers={role: tuple(p) for role, p in people.items()},
            )
        )
    return rows


def _officer_order(officer: Officer) -> tuple[int, int]:
    return (officer.position, officer.id)


async def load_districts(session: AsyncSession, scope: Scope) -> list[DistrictFacts]:
    """The districts in scope with their association counts and the year's district figures."""
    ids = await scope_district_ids(session, scope)
    if not ids:
        return []
    counts: dict[tuple[int, str], int] = {}
    result = await session.execute(
        select(Organisation.district_id, Organisation.kind, func.count())
        .where(Organisation.district_id.in_(ids), Organisation.active.is_(True))
        .group_by(Organisation.district_id, Organisation.kind)
    )
    for district_id, kind, count in result.all():
        counts[(district_id, kind)] = int(count)
    figures = {
        f.district_id: f
        for f in await session.scalars(
            select(DistrictFigures).where(
                DistrictFigures.district_id.in_(ids), DistrictFigures.year == scope.year
            )
        )
    }
    districts = {
        d.id: d for d in await session.scalars(select(District).where(District.id.in_(ids)))
    }
    facts = []
    for district_id in ids:
        district = districts.get(district_id)
        if district is None:
            continue
        fig = figures.get(district_id)
        facts.append(
            DistrictFacts(
                id=district_id,
                name=district.name,
                enterprise_orgs=counts.get((district_id, OrgKind.ENTERPRISE.value), 0),
                zone_orgs=counts.get((district_id, OrgKind.ZONE.value), 0),
                local_enterprises=fig.local_enterprises if fig else None,
                tech_enterprises=fig.tech_enterprises if fig else None,
                zones=fig.zones if fig else None,
            )
        )
    return facts
