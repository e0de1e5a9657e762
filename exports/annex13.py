"""Annex 1-3: ``{year}年区（市）县企业科协、产业功能区科协工作情况统计表`` (one row per activity).

The official sheet keeps exactly the official columns (annex-spec.md); the reporting association,
submission time, lateness and photo count go on the separate 明细 sheet (exports/details.py).
Above the table, outside it, the 填报单位 line names whose form it is: a city export holds one
form per district, and the stamped pages must tell them apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from core.rules import format_date
from exports.details import Thumbnailer, add_details_sheet
from exports.headers import head_row, print_row
from exports.layout import Sheet, StyleBook, open_on, row_height
from exports.names import Entry
from exports.summary import SummaryTable, add_summary_sheet

LABEL = "附件1-3"
HEADERS = (
    "序号",
    "时间",
    "服务（活动）名称",
    "服务（活动）内容",
    "主办/协办/承办",
    "参与人数",
    "取得成效",
    "佐证材料",
)
SUBHEADER = "以附件形式提供"
NOTE = "备注：此表由各企业科协、产业功能区科协填写，经各区（市）县科协汇总后报送市科协创新发展部。"
# 时间 is 17 wide: LibreOffice draws digits in a proportional font, wider than half a Chinese
# character, and at 15 printed 2021年11月10 / 日.
WIDTHS = (6, 17, 22, 44, 17, 10, 33, 19)
HEADER_ROWS = (4, 5)  # the two header rows, below the 填报单位 line; data starts on row 6
STYLES = ("center", "center", "body", "body", "center", "center", "body", "link")

Progress = Callable[[int], None]  # called with the number of rows written so far
Section = tuple[str, str, Sequence[Entry]]  # sheet title, 填报单位, numbered entries


def title(year: int) -> str:
    """The form's title; the guide breaks it after 产业功能区科协."""
    return f"{year}年区（市）县企业科协、产业功能区科协\n工作情况统计表"


def add_form(
    wb: Workbook,
    section: Section,
    year: int,
    styles: StyleBook | None = None,
    progress: Progress | None = None,
    done: int = 0,
) -> Sheet:
    """Write one official annex 1-3 sheet: label, title, the 填报单位 line, two header rows, the
    rows (or one ``无`` row), the 备注 line."""
    sheet_title, unit, entries = section
    sheet = Sheet(wb, sheet_title, WIDTHS, styles)
    first, second = HEADER_ROWS
    sheet.print_setup(title_rows=f"{first}:{second}", freeze=f"A{second + 1}", unit=unit)
    sheet.banner(LABEL, title(year), title_lines=2)
    sheet.unit_line(unit)
    head_row(sheet, HEADERS, height=30)
    head_row(sheet, [None] * (len(HEADERS) - 1) + [SUBHEADER], height=30)
    for col in range(1, len(HEADERS)):
        sheet.merge(col, first, col, second)
    ws, cell = sheet.ws, sheet.styles.cell
    for count, entry in enumerate(entries, start=1):
        row = entry.row
        # Broken by hand where the program would leave one character on a line (headers.py).
        values = print_row(
            (
                entry.seq,
                format_date(row.activity_date),
                row.name,
                row.content,
                row.role,
                row.headcount,
                row.outcome,
                entry.label,
            ),
            WIDTHS,
        )
        sheet.row_no += 1
        sheet.ws.row_dimensions[sheet.row_no].height = row_height(values, WIDTHS)
        cells = [cell(ws, v, s) for v, s in zip(values, STYLES, strict=True)]
        if entry.link:
            cells[-1].hyperlink = entry.link
        ws.append(cells)
        if progress is not None and count % 200 == 0:
            progress(done + count)
    if not entries:
        sheet.nothing_row()
    sheet.full_width(NOTE, "note")
    return sheet


def write_annex13(
    path: Path,
    year: int,
    sections: Sequence[Section],
    *,
    summary: SummaryTable | None = None,
    thumbnails: Thumbnailer | None = None,
    details: bool = True,
    tz: ZoneInfo | None = None,
    progress: Progress | None = None,
) -> None:
    """Write the annex 1-3 workbook: an optional 汇总 sheet (city), one form per section
    (sheet title, 填报单位, numbered entries), then the 明细 sheet. It opens on the first form."""
    wb = Workbook(write_only=True)
    styles: StyleBook | None = None
    if summary is not None:
        styles = add_summary_sheet(wb, summary).styles
    done = 0
    for section in sections:
        styles = add_form(wb, section, year, styles, progress, done).styles
        done += len(section[2])
    if details:
        all_entries = [e for _, _, entries in sections for e in entries]
        add_details_sheet(wb, all_entries, styles, thumbnails, tz or ZoneInfo("Asia/Shanghai"))
    open_on(wb, 1 if summary is not None else 0)
    wb.save(path)
