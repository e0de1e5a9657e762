"""Shared print layout for the annexes: fonts, borders, Chinese-aware sizes, A4 landscape setup.

Workbooks are written in openpyxl's write-only (streaming) mode so memory stays flat however
many rows a city export has. In that mode column widths, row heights, frozen panes and print
settings must be set before the rows they concern are appended; :class:`Sheet` keeps that order.
Every piece of user text goes through :func:`text_cell`, which writes it as a string, never as a
formula (a name starting with ``=`` stays a name in Excel, WPS and LibreOffice).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from copy import copy
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.properties import PageSetupProperties

BODY_FONT = "宋体"
HEAD_FONT = "黑体"
GB2312 = 134  # font charset: tells Excel / WPS the font is Chinese
BODY_PT = 10
LINE_PT = 13.5  # one line of 10 pt 宋体, with Excel's leading
MAX_ROW_PT = 409.0  # Excel's largest row height
FORMULA_STARTS = ("=", "+", "-", "@")
LATIN_UNITS = 1.2  # a Latin letter or digit in a proportional font, in column units
PAPER_A4 = "9"  # the OOXML paper size code of A4
FOOTER = "第 &P 页，共 &N 页"
UNIT_LABEL = "填报单位（盖章）："
DATE_LABEL = "填报日期：　　　　年　　月　　日"
NOTHING = "无"

_thin = Side(style="thin", color="000000")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)


def display_width(text: str) -> int:
    """Width in Excel character units: a Chinese character takes two, Latin one.

    Counted from the UTF-8 length (one byte per ASCII character, three per CJK character and
    full-width punctuation), which is exact for Chinese forms and far cheaper than asking
    unicodedata about every character of 10 000 rows.
    """
    n = len(text)
    return n + (len(text.encode()) - n) // 2


def usable_width(width: float) -> float:
    """The display width a cell's text has in a column ``width`` units wide (its margins off),
    counted on the safe side: the line of this width fits in every spreadsheet program."""
    return max(width - 1.5, 1.0)


def line_count(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` units wide."""
    usable = usable_width(width)
    return sum(max(1, math.ceil(display_width(line) / usable)) for line in text.split("\n"))


def row_height(
    values: Sequence[object], widths: Sequence[float], line_pt: float = LINE_PT
) -> float:
    """A row height (points) that shows every wrapped cell whole, capped at Excel's maximum."""
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and value:
            lines = max(lines, line_count(value, width))
    return min(MAX_ROW_PT, lines * line_pt + 6)


def fit_width(lines: Iterable[str], least: float, most: float) -> float:
    """The narrowest column (between ``least`` and ``most``) showing each line unbroken.

    Latin letters and digits are counted wider here than in :func:`display_width`: where 宋体
    is missing (LibreOffice on Linux, a Mac) they are drawn in a proportional font, about 1.2
    units each, and a telephone number must still fit."""
    widest = 0.0
    for line in lines:
        chars = len(line)
        wide = (len(line.encode()) - chars) // 2  # CJK and full-width characters
        widest = max(widest, 2 * wide + LATIN_UNITS * (chars - wide))
    return min(most, max(least, widest + 1.5))


def clean_text(value: str) -> str:
    """Drop characters XML cannot hold (control characters pasted from other programs)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


class StyleBook:
    """Named cell styles of one workbook, kept as style arrays and copied onto new cells."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self.arrays: dict[str, StyleArray] = {}
        body = Font(name=BODY_FONT, size=BODY_PT, charset=GB2312)
        head = Font(name=HEAD_FONT, size=11, charset=GB2312)
        wrap_left = Alignment(horizontal="left", vertical="center", wrap_text=True)
        wrap_center = Alignment(horizontal="center", vertical="center", wrap_text=True)
        link = Font(
            name=BODY_FONT, size=BODY_PT, charset=GB2312, color="0563C1", underline="single"
        )
        self._define(
            "label",
            Font(name=HEAD_FONT, size=12, charset=GB2312),
            None,
            Alignment(horizontal="left", vertical="center"),
        )
        self._define("title", Font(name=HEAD_FONT, size=16, charset=GB2312), None, wrap_center)
        self._define("subtitle", body, None, wrap_center)
        self._define("head", head, BORDER, wrap_center)
        self._define("body", body, BORDER, wrap_left)
        self._define("center", body, BORDER, wrap_center)
        self._define("link", link, BORDER, wrap_center)
        self._define("note", body, None, wrap_left)
        self._define("strong", head, BORDER, wrap_center)
        self._define("plain", body, None, wrap_center)
        stamp = Font(name=BODY_FONT, size=11, charset=GB2312)
        self._define("stamp", stamp, None, Alignment(horizontal="left", vertical="center"))
        self._define("stamp_date", stamp, None, Alignment(horizontal="right", vertical="center"))

    def _define(self, key: str, font: Font, border: Border | None, align: Alignment) -> None:
        cell = WriteOnlyCell(self.ws)
        cell.font = font
        if border is not None:
            cell.border = border
        cell.alignment = align
        self.arrays[key] = copy(cell._style)
        cell.quotePrefix = True  # "show as typed": Excel keeps =… as text when edited
        self.arrays[key + "+q"] = copy(cell._style)

    def cell(self, ws: WriteOnlyWorksheet, value: Any, style: str) -> WriteOnlyCell:
        """A styled cell; strings always stay strings (never formulas)."""
        cell = WriteOnlyCell(ws)
        # Set directly rather than through Cell.value, which would turn "=…" into a formula.
        if isinstance(value, str):
            value = clean_text(value)
            cell._value = value
            cell.data_type = "s"
            if value.startswith(FORMULA_STARTS):
                style += "+q"
        elif value is None or isinstance(value, int | float):
            cell._value = value
        else:
            cell.value = value
        # Shared, never mutated: a cell is serialised as soon as its row is appended.
        cell._style = self.arrays[style]
        return cell


def _prepared_cells(row: Sequence[WriteOnlyCell | None], row_idx: int) -> Iterator[WriteOnlyCell]:
    """Stand-in for WriteOnlyWorksheet._values_to_row when every value is already a cell: it
    skips openpyxl's per-cell attempt to bind a Cell as a value (an exception per cell)."""
    for col_idx, cell in enumerate(row, 1):
        if cell is None:
            continue
        cell.column = col_idx
        cell.row = row_idx
        if cell.hyperlink is not None:
            cell.hyperlink.ref = cell.coordinate
        yield cell


class Sheet:
    """A write-only worksheet with its column widths, written row by row, set up for print."""

    def __init__(
        self,
        wb: Workbook,
        title: str,
        widths: Sequence[float],
        styles: StyleBook | None = None,
    ) -> None:
        ws = wb.create_sheet(title)
        assert isinstance(ws, WriteOnlyWorksheet)
        ws._values_to_row = _prepared_cells
        self.ws = ws
        self.widths = list(widths)
        self.styles = styles or StyleBook(ws)
        self.row_no = 0
        for index, width in enumerate(self.widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width

    @property
    def last_col(self) -> str:
        """The letter of the last column."""
        return get_column_letter(len(self.widths))

    def print_setup(
        self,
        *,
        title_rows: str | None,
        freeze: str | None,
        unit: str = "",
        one_page: bool = False,
    ) -> None:
        """A4 landscape, all columns on one page width, repeated header rows, page numbers (and
        the 填报单位 in the footer, so a loose page still says whose it is). ``one_page``: a
        short table on one A4 portrait page, shrunk rather than spilt."""
        ws = self.ws
        ws.page_setup.paperSize = PAPER_A4
        ws.page_setup.orientation = "portrait" if one_page else "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1 if one_page else 0  # else as many pages down as needed
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.4
        ws.page_margins.top = 0.6
        ws.page_margins.bottom = 0.7
        ws.page_margins.footer = 0.3
        # "&" starts a header/footer code: a name's own ampersand is written doubled.
        ws.oddFooter.center.text = (unit.replace("&", "&&") + "　" if unit else "") + FOOTER
        ws.oddFooter.center.font = BODY_FONT
        ws.oddFooter.center.size = 9
        if title_rows:
            ws.print_title_rows = title_rows
        if freeze:
            ws.freeze_panes = freeze

    def append(
        self,
        cells: Sequence[tuple[Any, str] | None],
        *,
        height: float | None = None,
        fit: bool = True,
    ) -> int:
        """Append one row of (value, style) pairs (None: an empty unstyled cell); return its
        number. The height fits the wrapped text unless given."""
        self.row_no += 1
        if height is None and fit:
            height = row_height([c[0] if c else None for c in cells], self.widths)
        if height is not None:
            self.ws.row_dimensions[self.row_no].height = height
        styles = self.styles
        self.ws.append([styles.cell(self.ws, c[0], c[1]) if c else None for c in cells])
        return self.row_no

    def merge(self, first_col: int, first_row: int, last_col: int, last_row: int) -> None:
        """Merge a rectangle (1-based column numbers)."""
        self.ws.merged_cells.add(
            CellRange(min_col=first_col, min_row=first_row, max_col=last_col, max_row=last_row)
        )

    def banner(self, label: str, title: str, title_lines: int = 1) -> None:
        """The ``附件1-x`` label row and the merged title row above a form."""
        width = len(self.widths)
        self.append([(label, "label")], height=22)
        row = self.append(
            [(title, "title"), *[(None, "title")] * (width - 1)], height=26.0 * title_lines + 8
        )
        self.merge(1, row, width, row)

    def unit_line(self, unit: str) -> int:
        """``填报单位（盖章）：… 填报日期：`` under the title, outside the official table: the
        stamped page names who filled it (a city export holds one form per district), and the
        date is left for the pen, as on the paper the office stamps."""
        width = len(self.widths)
        split = max(1, math.ceil(width * 0.6))
        left = [(f"{UNIT_LABEL}{unit}", "stamp")] + [(None, "stamp")] * (split - 1)
        right = [(DATE_LABEL, "stamp_date")] + [(None, "stamp_date")] * (width - split - 1)
        row = self.append([*left, *right], height=24)
        self.merge(1, row, split, row)
        if width - split > 1:
            self.merge(split + 1, row, width, row)
        return row

    def nothing_row(self) -> int:
        """One ``无`` row across the table: a form with nothing to list, as an office fills it."""
        return self.full_width(NOTHING, "center", height=24)

    def full_width(self, text: str, style: str, *, height: float | None = None) -> int:
        """One merged row across the table (a note, a summary line)."""
        width = len(self.widths)
        if height is None:
            height = row_height([text], [sum(self.widths)])
        row = self.append([(text, style), *[(None, style)] * (width - 1)], height=height)
        self.merge(1, row, width, row)
        return row


def open_on(wb: Workbook, index: int) -> None:
    """Open the workbook on sheet ``index`` (the first official form, not the 汇总 before it)."""
    if index < len(wb.worksheets):
        wb.active = index
