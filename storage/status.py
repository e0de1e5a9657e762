"""A district's reporting status for /status: registry gaps, silent associations, late reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import ActivityStatus, OrgKind
from core.years import ReportingYears
from storage.models import Activity, Organisation
from storage.registry import district_orgs, missing_fields


@dataclass
class DistrictStatus:
    """The counts and names the /status card shows for one district and year."""

    year: int
    enterprises: int = 0
    zones: int = 0
    incomplete: list[tuple[Organisation, int]] = field(default_factory=list)  # (org, missing)
    silent: list[Organisation] = field(default_factory=list)  # no activity reported this year
    reports: int = 0  # submitted this year
    late: int = 0  # of which late

    @property
    def organisations(self) -> int:
        """All active associations of the district."""
        return self.enterprises + self.zones


async def district_status(
    session: AsyncSession, district_id: int, year: int, years: ReportingYears
) -> DistrictStatus:
    """Count the district's associations, their registry gaps and the statistical year's reports."""
    status = DistrictStatus(year=year)
    orgs = await district_orgs(session, district_id, with_officers=True)
    for org in orgs:
        if org.kind == OrgKind.ENTERPRISE:
            status.enterprises += 1
        else:
            status.zones += 1
        gaps = len(missing_fields(org))
        if gaps:
            status.incomplete.append((org, gaps))
    if not orgs:
        return status
    rows = await session.execute(
        select(
            Activity.org_id,
            func.count(),
            func.sum(case((Activity.on_time.is_(False), 1), else_=0)),
        )
        .where(
            Activity.org_id.in_([o.id for o in orgs]),
            Activity.status == ActivityStatus.SUBMITTED,
            Activity.activity_date.between(*years.span(year)),
        )
        .group_by(Activity.org_id)
    )
    reported: set[int] = set()
    for org_id, count, late in rows.all():
        reported.add(org_id)
        status.reports += int(count)
        status.late += int(late or 0)
    status.silent = [o for o in orgs if o.id not in reported]
    return status
