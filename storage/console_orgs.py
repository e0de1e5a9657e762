"""The console's association registry (web/associations.py): a page of the associations in an
admin's scope with their registry completeness and reporting figures, and one association with
its annex fields, members and latest reports.

The figures are the chat's: completeness counts the annex 1-1 / 1-2 fields as the /org card
does (:func:`storage.registry.missing_fields`), the last report is the newest submitted
activity's date as /chase takes it (:func:`storage.chase.chase_lines`), reports this year are
counted as /status counts them, and "quiet" is the rule of /chase's 全部提醒."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import ColumnElement

from core.enums import ActivityStatus, Role
from core.registry_rules import FieldSpec, fields_for
from core.years import ReportingYears
from storage.chase import last_chase
from storage.models import Activity, District, Membership, Organisation
from storage.registry import display_value, field_value, missing_fields

PAGE_SIZE = 50  # associations per page of the registry
LATEST_REPORTS = 10  # reports listed on one association's page


def is_quiet(last_report: date | None, today: date, quiet_days: int) -> bool:
    """/chase's 全部提醒 rule: never reported, or silent for ``quiet_days`` days or more."""
    return last_report is None or (today - last_report).days >= quiet_days


@dataclass(frozen=True)
class OrgFigures:
    """What the registry shows of one association beside its name."""

    org: Organisation  # district and officers loaded
    missing: list[FieldSpec]  # annex fields still empty, in the annex's order
    reports_this_year: int
    last_report: date | None
    quiet: bool

    @property
    def total(self) -> int:
        """The number of annex fields of the association's kind."""
        return len(fields_for(self.org.kind))

    @property
    def filled(self) -> int:
        """The annex fields filled in."""
        return self.total - len(self.missing)


@dataclass(frozen=True)
class OrgPage:
    """One page of the registry."""

    rows: list[OrgFigures]
    total: int  # associations matching, all pages
    page: int  # 1-based, clamped to the last page
    pages: int


def _submitted(org_id: Any) -> ColumnElement[bool]:
    return and_(Activity.org_id == org_id, Activity.status == ActivityStatus.SUBMITTED)


def _this_year(years: ReportingYears, today: date) -> ColumnElement[bool]:
    """Activities of the statistical year still open ``today``."""
    return Activity.activity_date.between(*years.span(years.year_of(today)))


def _scope(districts: list[int] | None, district_id: int | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Organisation.active.is_(True)]
    if districts is not None:
        where.append(Organisation.district_id.in_(districts or [-1]))
    if district_id is not None:
        where.append(Organisation.district_id == district_id)
    return where


async def org_page(
    session: AsyncSession,
    districts: list[int] | None,
    *,
    district_id: int | None = None,
    page: int = 1,
    today: date,
    years: ReportingYears,
    quiet_days: int,
) -> OrgPage:
    """The active associations of ``districts`` (None: the whole city), optionally of one
    district, by district then kind then name, ``PAGE_SIZE`` a page.

    Three queries whatever the page: the count, the page with its figures (correlated
    subqueries on the (org, status) index, evaluated for the page's rows only), and the page's
    officers (for completeness)."""
    where = _scope(districts, district_id)
    total = int(await session.scalar(select(func.count(Organisation.id)).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    reports = (
        select(func.count(Activity.id))
        .where(_submitted(Organisation.id), _this_year(years, today))
        .correlate(Organisation)
        .scalar_subquery()
    )
    last = (
        select(func.max(Activity.activity_date))
        .where(_submitted(Organisation.id))
        .correlate(Organisation)
        .scalar_subquery()
    )
    result = await session.execute(
        select(Organisation, reports, last)
        .join(District, District.id == Organisation.district_id)
        .where(*where)
        .options(selectinload(Organisation.officers), selectinload(Organisation.district))
        .order_by(District.sort_order, District.id, Organisation.kind, Organisation.name)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [
        OrgFigures(org, missing_fields(org), int(count or 0), day, is_quiet(day, today, quiet_days))
        for org, count, day in result.all()
    ]
    return OrgPage(rows, total, page, pages)


@dataclass(frozen=True)
class FieldLine:
    """One annex field of an association: its catalog key and the shown value (None: missing)."""

    key: str
    value: str | None


@dataclass(frozen=True)
class OrgDetail:
    """One association as its console page shows it."""

    figures: OrgFigures
    fields: list[FieldLine]
    members: int  # active reporters and org admins, each counted once
    reports: list[Activity]  # the latest submitted, newest first (``LATEST_REPORTS`` at most)
    last_chase: datetime | None  # when /chase or the console last nudged it


async def org_detail(
    session: AsyncSession,
    org_id: int,
    districts: list[int] | None,
    *,
    today: date,
    years: ReportingYears,
    quiet_days: int,
) -> OrgDetail | None:
    """The active association ``org_id`` if it lies in ``districts`` (None: the whole city);
    None otherwise, so that a missing id and one outside the scope look the same."""
    org = await session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id, *_scope(districts, None))
        .options(selectinload(Organisation.officers), selectinload(Organisation.district))
    )
    if org is None:
        return None
    this_year = await session.scalar(
        select(func.count(Activity.id)).where(_submitted(org.id), _this_year(years, today))
    )
    last = await session.scalar(select(func.max(Activity.activity_date)).where(_submitted(org.id)))
    members = await session.scalar(
        select(func.count(func.distinct(Membership.member_id))).where(
            Membership.org_id == org.id,
            Membership.active.is_(True),
            Membership.role.in_([Role.REPORTER, Role.ORG_ADMIN]),
        )
    )
    latest = await session.scalars(
        select(Activity)
        .where(_submitted(org.id))
        .order_by(Activity.activity_date.desc(), Activity.id.desc())
        .limit(LATEST_REPORTS)
    )
    figures = OrgFigures(
        org, missing_fields(org), int(this_year or 0), last, is_quiet(last, today, quiet_days)
    )
    lines = [
        FieldLine(spec.key, display_value(field_value(org, spec))) for spec in fields_for(org.kind)
    ]
    return OrgDetail(
        figures, lines, int(members or 0), list(latest.all()), await last_chase(session, org.id)
    )
