"""The 汇总 sheet of a city export: one line per district with the figures of its own annex.

Annex 1-3's counts activities (associations, activities, headcount, on time); annex 1-1's
counts enterprise associations against the district's figures, annex 1-2's zone associations.
A short table: it prints on one A4 portrait page, shrunk rather than spilt (a 合计 row alone on
page 2 was the old fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook

from exports.headers import head_row
from exports.layout import Sheet, StyleBook
from exports.rows import DistrictFacts, PrintedActivity

Cell = str | int
MISSING = "未填报"


@dataclass(frozen=True)
class SummaryTable:
    """A 汇总 sheet: its title, the columns after 序号 and 区（市）县, a line per district, the
    合计 line and a note below the table (said only when some figures are missing)."""

    title: str
    headers: tuple[str, ...]
    widths: tuple[float, ...]
    lines: tuple[tuple[str, tuple[Cell, ...]], ...]  # district, its figures
    total: tuple[Cell, ...]
    note: str = ""


@dataclass(frozen=True)
class SummaryLine:
    """One district's activity counts for the period."""

    district: str
    associations: int
    activities: int
    headcount: int
    on_time: int
    judged: int  # activities whose timeliness is known

    @property
    def rate(self) -> str:
        """The on-time rate as a percentage, ``—`` when nothing was judged."""
        return percent(self.on_time, self.judged)

    def cells(self) -> tuple[Cell, ...]:
        """The figures as the sheet shows them."""
        return (self.associations, self.activities, self.headcount, self.rate)


def percent(part: int, whole: int | None) -> str:
    """``12.5%``; ``—`` when the whole is zero or unknown."""
    if not whole:
        return "—"
    return f"{part * 100 / whole:.1f}%"


def summary_lines(
    facts: Sequence[DistrictFacts], rows: Sequence[PrintedActivity]
) -> list[SummaryLine]:
    """Count the rows of each district (every district listed, also those without activity)."""
    lines = []
    for district in facts:
        mine = [r for r in rows if r.district_id == district.id]
        lines.append(
            SummaryLine(
                district=district.name,
                associations=district.enterprise_orgs + district.zone_orgs,
                activities=len(mine),
                headcount=sum(r.headcount or 0 for r in mine),
                on_time=sum(1 for r in mine if r.on_time),
                judged=sum(1 for r in mine if r.on_time is not None),
            )
        )
    return lines


def activity_summary(
    year: int, facts: Sequence[DistrictFacts], rows: Sequence[PrintedActivity]
) -> SummaryTable:
    """The 汇总 of annex 1-3: associations (both kinds), activities, headcount, on-time rate."""
    lines = summary_lines(facts, rows)
    total = SummaryLine(
        "合计",
        sum(x.associations for x in lines),
        sum(x.activities for x in lines),
        sum(x.headcount for x in lines),
        sum(x.on_time for x in lines),
        sum(x.judged for x in lines),
    )
    return SummaryTable(
        title=f"{year}年各区（市）县科协工作情况汇总",
        headers=("已建科协数量", "活动数量", "参与人数合计", "按时报送率"),
        widths=(15, 12, 15, 13),
        lines=tuple((x.district, x.cells()) for x in lines),
        total=total.cells(),
    )


def _known(values: Sequence[int | None]) -> int:
    return sum(v for v in values if v is not None)


def _missing_note(figure: str, missing: int) -> str:
    if not missing:
        return ""
    return f"注：{missing}个区（市）县未填报{figure}，合计与比例只计已填报的区（市）县。"


def enterprise_summary(year: int, facts: Sequence[DistrictFacts]) -> SummaryTable:
    """The 汇总 of annex 1-1: each district's summary row, one line per district."""

    def shown(value: int | None) -> Cell:
        return MISSING if value is None else value

    lines = tuple(
        (
            d.name,
            (
                d.enterprise_orgs,
                shown(d.local_enterprises),
                shown(d.tech_enterprises),
                MISSING
                if d.tech_enterprises is None
                else percent(d.enterprise_orgs, d.tech_enterprises),
            ),
        )
        for d in facts
    )
    filled = [d for d in facts if d.tech_enterprises is not None]
    missing = sum(1 for d in facts if d.tech_enterprises is None or d.local_enterprises is None)
    total = (
        sum(d.enterprise_orgs for d in facts),
        _known([d.local_enterprises for d in facts]),
        _known([d.tech_enterprises for d in facts]),
        percent(
            sum(d.enterprise_orgs for d in filled), _known([d.tech_enterprises for d in filled])
        ),
    )
    return SummaryTable(
        title=f"{year}年各区（市）县企业科协组织建设情况汇总",
        headers=("已建企业科协数量", "属地企业数量", "科技企业数量", "比例（已建/科技企业）"),
        widths=(19, 15, 15, 22),
        lines=lines,
        total=total,
        note=_missing_note("属地企业数量或科技企业数量", missing),
    )


def zone_summary(year: int, facts: Sequence[DistrictFacts]) -> SummaryTable:
    """The 汇总 of annex 1-2: each district's zone associations against its zones."""
    lines = tuple(
        (
            d.name,
            (
                d.zone_orgs,
                MISSING if d.zones is None else d.zones,
                MISSING if d.zones is None else percent(d.zone_orgs, d.zones),
            ),
        )
        for d in facts
    )
    filled = [d for d in facts if d.zones is not None]
    total = (
        sum(d.zone_orgs for d in facts),
        _known([d.zones for d in facts]),
        percent(sum(d.zone_orgs for d in filled), _known([d.zones for d in filled])),
    )
    return SummaryTable(
        title=f"{year}年各区（市）县产业功能区科协组织建设情况汇总",
        headers=("已建功能区科协数量", "产业功能区数量", "比例"),
        widths=(21, 17, 12),
        lines=lines,
        total=total,
        note=_missing_note("产业功能区数量", len(facts) - len(filled)),
    )


def add_summary_sheet(wb: Workbook, table: SummaryTable, styles: StyleBook | None = None) -> Sheet:
    """Write the 汇总 sheet: title, header, a line per district, 合计, and the note if any."""
    sheet = Sheet(wb, "汇总", (6, 24, *table.widths), styles)
    sheet.print_setup(title_rows="2:2", freeze="A3", one_page=True)
    sheet.full_width(table.title, "title", height=30)
    head_row(sheet, ("序号", "区（市）县", *table.headers), height=24)
    for seq, (district, cells) in enumerate(table.lines, start=1):
        sheet.append([(seq, "center"), (district, "center"), *((c, "center") for c in cells)])
    row = sheet.append([("合计", "strong"), ("", "strong"), *((c, "strong") for c in table.total)])
    sheet.merge(1, row, 2, row)
    if table.note:
        sheet.full_width(table.note, "note")
    sheet.ws.print_area = f"A1:{sheet.last_col}{sheet.row_no}"
    return sheet
