"""The 汇总 sheet of a city export: per district, associations, activities, headcount, on time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook

from exports.layout import Sheet, StyleBook
from exports.rows import ActivityRow, DistrictFacts

HEADERS = ("序号", "区（市）县", "已建科协数量", "活动数量", "参与人数合计", "按时报送率")
WIDTHS = (6, 26, 14, 12, 14, 14)


@dataclass(frozen=True)
class SummaryLine:
    """One district's counts for the period."""

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


def percent(part: int, whole: int | None) -> str:
    """``12.5%``; ``—`` when the whole is zero or unknown."""
    if not whole:
        return "—"
    return f"{part * 100 / whole:.1f}%"


def summary_lines(facts: Sequence[DistrictFacts], rows: Sequence[ActivityRow]) -> list[SummaryLine]:
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


def add_summary_sheet(
    wb: Workbook, year: int, lines: Sequence[SummaryLine], styles: StyleBook | None = None
) -> Sheet:
    """Write the 汇总 sheet with a 合计 row."""
    sheet = Sheet(wb, "汇总", WIDTHS, styles)
    sheet.print_setup(title_rows="2:2", freeze="A3")
    sheet.full_width(f"{year}年各区（市）县科协工作情况汇总", "title", height=30)
    sheet.append([(h, "head") for h in HEADERS], height=24)
    for seq, line in enumerate(lines, start=1):
        sheet.append(
            [
                (seq, "center"),
                (line.district, "center"),
                (line.associations, "center"),
                (line.activities, "center"),
                (line.headcount, "center"),
                (line.rate, "center"),
            ]
        )
    total = SummaryLine(
        "合计",
        sum(x.associations for x in lines),
        sum(x.activities for x in lines),
        sum(x.headcount for x in lines),
        sum(x.on_time for x in lines),
        sum(x.judged for x in lines),
    )
    row = sheet.append(
        [
            ("合计", "strong"),
            ("", "strong"),
            (total.associations, "strong"),
            (total.activities, "strong"),
            (total.headcount, "strong"),
            (total.rate, "strong"),
        ]
    )
    sheet.merge(1, row, 2, row)
    return sheet
