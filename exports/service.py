"""One export, start to finish: read the scope's rows, write the workbooks and the bundle.

Shared by ``kexie export`` (bot/cli_export.py) and ``/export`` (handlers/export.py). Reading is
async (the database); writing is plain blocking work that the bot runs in a thread.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from core.enums import OrgKind
from exports.annex11 import RegistrySection, write_annex11
from exports.annex12 import write_annex12
from exports.annex13 import Section, write_annex13
from exports.bundle import PART_LIMIT, write_bundle
from exports.details import Thumbnailer
from exports.names import Entry, plan_entries, safe_name
from exports.rows import DistrictFacts, PrintedActivity, PrintedOrg
from exports.scope import (
    Level,
    Scope,
    district_unit,
    filing_unit,
    load_activities,
    load_districts,
    load_orgs,
    scope_name,
)
from exports.summary import activity_summary, enterprise_summary, zone_summary
from storage.db import AsyncSession
from storage.evidence import EvidenceStorage

ANNEXES = ("1-3", "1-1", "1-2")
CHOICES = (*ANNEXES, "all")

# stage, done, total: e.g. ("1-3", 1200, 10000)
Progress = Callable[[str, int, int], None]


def annexes_of(choice: str) -> tuple[str, ...]:
    """``all`` → every annex; otherwise the one named."""
    if choice == "all":
        return ANNEXES
    if choice not in ANNEXES:
        raise ValueError(choice)
    return (choice,)


@dataclass
class ExportData:
    """Everything the writers need, read from the database."""

    scope: Scope
    name: str  # the scope's name in file names
    annexes: tuple[str, ...]
    districts: list[DistrictFacts]
    unit: str = ""  # the 填报单位 of a district's or an association's forms
    activities: list[PrintedActivity] = field(default_factory=list)
    enterprises: list[PrintedOrg] = field(default_factory=list)
    zones: list[PrintedOrg] = field(default_factory=list)


@dataclass
class ExportResult:
    """The files written (workbooks first, then the bundle parts) and what they hold."""

    files: list[Path]
    activities: int
    enterprises: int
    zones: int
    evidence_files: int = 0
    missing: list[str] = field(default_factory=list)
    bundle_parts: int = 0


async def gather(session: AsyncSession, scope: Scope, annexes: Sequence[str]) -> ExportData:
    """Read the rows of every requested annex (and, for a city, all for the 汇总 sheet)."""
    data = ExportData(
        scope=scope,
        name=await scope_name(session, scope),
        annexes=tuple(annexes),
        districts=await load_districts(session, scope),
        unit=await filing_unit(session, scope),
    )
    if "1-3" in annexes or scope.level == Level.CITY:
        data.activities = await load_activities(session, scope)
    if "1-1" in annexes:
        data.enterprises = await load_orgs(session, scope, OrgKind.ENTERPRISE)
    if "1-2" in annexes:
        data.zones = await load_orgs(session, scope, OrgKind.ZONE)
    return data


def file_stem(data: ExportData) -> str:
    """``2021年锦江区`` (plus the dates when a range narrows the year)."""
    stem = f"{data.scope.year}年{safe_name(data.name, 60)}"
    if data.scope.has_range:
        first, last = data.scope.period
        stem += f"_{first:%Y%m%d}-{last:%Y%m%d}"
    return stem


# A city export has no page for a district with nothing to list: the office would not print a
# blank form for it, and its zeros are on the 汇总 sheet in front of the forms, which lists every
# district. A single district's (or association's) form is its answer, so it stays, with one
# "无" row (layout.Sheet.nothing_row); so does the city's when no district has any row.


def _sections13(data: ExportData) -> list[Section]:
    if data.scope.level != Level.CITY:
        return [("附件1-3", data.unit, plan_entries(data.activities))]
    sections: list[Section] = []
    for d in data.districts:
        mine = [r for r in data.activities if r.district_id == d.id]
        if mine:
            sections.append(
                (_sheet_title(d.name), district_unit(d.name), plan_entries(mine, d.name))
            )
    return sections or [("附件1-3", data.unit, [])]


def _registry_sections(
    data: ExportData, rows: list[PrintedOrg], label: str
) -> list[RegistrySection]:
    if data.scope.level != Level.CITY:
        district = data.districts[0] if data.districts else None
        return [(label, data.unit, rows, district)]
    sections: list[RegistrySection] = []
    for d in data.districts:
        mine = [r for r in rows if r.district_id == d.id]
        if mine:
            sections.append((_sheet_title(d.name), district_unit(d.name), mine, d))
    return sections or [(label, data.unit, [], None)]


def _sheet_title(name: str) -> str:
    # Sheet titles: at most 31 characters, none of []:*?/\ (district names never have them).
    return safe_name(name, 31).replace("[", "(").replace("]", ")")


def write_exports(
    data: ExportData,
    out_dir: Path,
    store: EvidenceStorage,
    tz: ZoneInfo,
    *,
    thumbnails: bool = True,
    part_limit: int = PART_LIMIT,
    progress: Progress | None = None,
    bundle: bool = True,
) -> ExportResult:
    """Write the workbooks of ``data.annexes`` into ``out_dir``, then the evidence bundle (when
    annex 1-3 is among them and ``bundle`` is left on). Blocking; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(data)
    city = data.scope.level == Level.CITY
    year = data.scope.year
    workbooks: list[Path] = []
    result = ExportResult(
        files=workbooks,
        activities=len(data.activities) if "1-3" in data.annexes else 0,
        enterprises=len(data.enterprises),
        zones=len(data.zones),
    )

    def report(stage: str, total: int) -> Callable[[int], None]:
        return lambda done: progress(stage, done, total) if progress else None

    entries: list[Entry] = []
    with tempfile.TemporaryDirectory(prefix="kexie-export-") as scratch:
        if "1-3" in data.annexes:
            sections = _sections13(data)
            entries = [e for _, _, es in sections for e in es]
            path = out_dir / f"附件1-3_{stem}.xlsx"
            total = len(entries)
            write_annex13(
                path,
                year,
                sections,
                summary=activity_summary(year, data.districts, data.activities) if city else None,
                thumbnails=Thumbnailer(store, Path(scratch)) if thumbnails else None,
                tz=tz,
                progress=report("1-3", total),
            )
            workbooks.append(path)
        if "1-1" in data.annexes:
            path = out_dir / f"附件1-1_{stem}.xlsx"
            sections11 = _registry_sections(data, data.enterprises, "附件1-1")
            summary11 = enterprise_summary(year, data.districts) if city else None
            write_annex11(path, year, sections11, summary=summary11)
            workbooks.append(path)
        if "1-2" in data.annexes:
            path = out_dir / f"附件1-2_{stem}.xlsx"
            sections12 = _registry_sections(data, data.zones, "附件1-2")
            summary12 = zone_summary(year, data.districts) if city else None
            write_annex12(path, year, sections12, summary=summary12)
            workbooks.append(path)
    if bundle and "1-3" in data.annexes:
        written = write_bundle(
            out_dir,
            f"{stem}_附件及佐证材料",
            list(workbooks),
            entries,
            store,
            part_limit=part_limit,
            progress=report("bundle", len(entries)),
        )
        result.files = [*workbooks, *written.parts]
        result.evidence_files = written.files
        result.missing = written.missing
        result.bundle_parts = len(written.parts)
    return result


def human_size(size: int) -> str:
    """``1.2 MB``, ``35 KB``."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} KB"
