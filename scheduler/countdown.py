"""The annual countdown's figures: what the deadline reminder tells a district admin (科协 counts,
reports this year, late ones, associations not heard from, registry gaps, reports waiting for
review) and when the year's deadline is. Shared by the reminder (``scheduler/messages.py``) and
the console's overview (``web/overview.py``), so both always show the same numbers."""

from __future__ import annotations

from dataclasses import dataclass

from core.years import ReportingYears
from storage.db import AsyncSession
from storage.registry import all_districts
from storage.review import pending_count
from storage.status import district_status

FIGURES = ("orgs", "enterprises", "zones", "reports", "late", "silent", "incomplete", "pending")
MAX_DISTRICTS = 100  # Chengdu has 23; a bound for the city's per-district table all the same


async def district_figures(
    session: AsyncSession, district_id: int, year: int, years: ReportingYears
) -> dict[str, int]:
    """The countdown's counts for one district and statistical year (keys: :data:`FIGURES`)."""
    status = await district_status(session, district_id, year, years)
    return {
        "orgs": status.organisations,
        "enterprises": status.enterprises,
        "zones": status.zones,
        "reports": status.reports,
        "late": status.late,
        "silent": len(status.silent),
        "incomplete": len(status.incomplete),
        "pending": await pending_count(session, district_id, years.span(year)),
    }


@dataclass(frozen=True)
class DistrictLine:
    """One district's figures in the city's view."""

    district_id: int
    name: str
    figures: dict[str, int]


async def city_figures(
    session: AsyncSession, year: int, years: ReportingYears
) -> list[DistrictLine]:
    """Every district's countdown figures (the city summary's lines), in the usual order."""
    districts = await all_districts(session, MAX_DISTRICTS)
    return [
        DistrictLine(d.id, d.name, await district_figures(session, d.id, year, years))
        for d in districts
    ]


def totals(lines: list[DistrictLine]) -> dict[str, int]:
    """The city's totals of :func:`city_figures`."""
    return {name: sum(line.figures[name] for line in lines) for name in FIGURES}
