"""Which rows an export holds: one association, one district or the whole city; a year or dates.

Only ``submitted`` activities count (drafts, withdrawn and cancelled reports never reach a form),
and of those the approved and pending ones (a report returned by the district waits for its
correction; ``approved_only`` keeps the approved ones alone), ordered by activity date.
Everything is read (by :mod:`storage.export_data`) into the plain rows of :mod:`exports.rows`,
so the writers never touch the database.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from core.enums import OrgKind
from core.registry_rules import Person
from core.review_rules import ReviewState
from core.years import ReportingYears
from exports.names import safe_name
from exports.rows import DistrictFacts, EvidenceFile, PrintedActivity, PrintedOrg
from storage import export_data
from storage.db import AsyncSession
from storage.models import Officer

CITY_NAME = "成都市"


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
        org = await export_data.organisation(session, scope.org_id)
        return [org.district_id] if org else []
    return await export_data.district_ids(session)


async def scope_name(session: AsyncSession, scope: Scope) -> str:
    """What a file name calls the scope: ``锦江区``, ``成都市``, ``锦江区_某某科协``."""
    if scope.level == Level.CITY:
        return CITY_NAME
    if scope.level == Level.DISTRICT:
        district = await export_data.district(session, scope.district_id)
        return district.name if district else "?"
    org = await export_data.organisation(session, scope.org_id)
    if org is None:
        return "?"
    district = await export_data.district(session, org.district_id)
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
        district = await export_data.district(session, scope.district_id)
        return district_unit(district.name) if district else ""  # left blank for the pen
    org = await export_data.organisation(session, scope.org_id)
    if org is None:
        return ""
    district = await export_data.district(session, org.district_id)
    return f"{org.name}（{district.name}）" if district else org.name


def _narrowing(scope: Scope) -> tuple[int | None, int | None] | None:
    """The ``(org_id, district_id)`` a scope narrows the rows to (neither for the city);
    ``None`` when it names no association or district to narrow to, and so holds no rows."""
    if scope.level == Level.ORG:
        return (scope.org_id, None) if scope.org_id is not None else None
    if scope.level == Level.DISTRICT:
        return (None, scope.district_id) if scope.district_id is not None else None
    return None, None


async def load_activities(session: AsyncSession, scope: Scope) -> list[PrintedActivity]:
    """Submitted activities in scope, ordered by date (then by id), with their evidence."""
    narrowing = _narrowing(scope)
    if narrowing is None:
        return []
    first, last = scope.period
    org_id, district_id = narrowing
    found = await export_data.activity_hits(
        session,
        first,
        last,
        approved_only=scope.approved_only,
        org_id=org_id,
        district_id=district_id,
    )
    evidence: dict[int, list[EvidenceFile]] = defaultdict(list)
    for line in await export_data.evidence_lines(session, [h.activity.id for h in found]):
        evidence[line.activity_id].append(
            EvidenceFile(line.sha256, line.kind, line.file_name, line.mime_type, line.size or 0)
        )
    rows = []
    for hit in found:
        activity = hit.activity
        assert activity.activity_date is not None
        rows.append(
            PrintedActivity(
                id=activity.id,
                activity_date=activity.activity_date,
                name=activity.name or "",
                content=activity.content or "",
                role=activity.role or "",
                headcount=activity.headcount,
                outcome=activity.outcome or "",
                org_name=hit.org_name,
                org_kind=hit.org_kind,
                district_id=hit.district_id,
                district_name=hit.district_name,
                submitted_at=activity.submitted_at,
                on_time=activity.on_time,
                late_days=activity.late_days,
                author_name=hit.author_name or "",
                review_state=activity.review_state or ReviewState.PENDING,
                evidence=tuple(evidence.get(activity.id, ())),
            )
        )
    return rows


async def load_orgs(session: AsyncSession, scope: Scope, kind: OrgKind) -> list[PrintedOrg]:
    """Active associations of one kind in scope, with their officers, in registry order."""
    narrowing = _narrowing(scope)
    if narrowing is None:
        return []
    org_id, district_id = narrowing
    found = await export_data.orgs_with_officers(
        session, kind.value, org_id=org_id, district_id=district_id
    )
    rows = []
    for org, district_name in found:
        people: dict[str, list[Person]] = defaultdict(list)
        for officer in sorted(org.officers, key=_officer_order):
            people[officer.role].append(
                Person(officer.name, officer.title or "", officer.phone or "")
            )
        rows.append(
            PrintedOrg(
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
    counts = await export_data.org_counts(session, ids)
    figures = await export_data.figures_of(session, ids, scope.year)
    districts = await export_data.districts_of(session, ids)
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
