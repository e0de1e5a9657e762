"""The printed forms of a realistic city (tests/forms_world.py), read back with openpyxl: whose
form each page is, headers broken at their break points only, one person per line with the
telephone whole, no blank district pages, and a 汇总 of each annex's own figures."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from core.registry_rules import parse_people
from exports import annex11, headers
from exports.layout import fit_width
from exports.service import write_exports
from storage.evidence import EvidenceStore
from tests import forms_world

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workbook]:
    """The city's three workbooks, by annex."""
    out = tmp_path_factory.mktemp("forms")
    store = EvidenceStore(out / "evidence")  # unused: no thumbnails, no bundle
    result = write_exports(
        forms_world.export_data(), out, store, TZ, thumbnails=False, bundle=False
    )
    return {p.name[2:5]: load_workbook(p) for p in result.files}


def widths(ws: Worksheet) -> dict[int, float]:
    """Each column's width (openpyxl groups equal neighbours into one dimension on reading)."""
    found: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        for col in range(dim.min or 1, (dim.max or dim.min or 1) + 1):
            found[col] = dim.width
    return found


def span_width(ws: Worksheet, row: int, col: int) -> float:
    """The width a cell's text has: its column's, or its merged range's."""
    cols = widths(ws)
    for merged in ws.merged_cells.ranges:
        if merged.min_row == row and merged.min_col == col:
            return sum(cols[c] for c in range(merged.min_col, merged.max_col + 1))
    return cols[col]


def head_cells(ws: Worksheet) -> list[tuple[str, float, str]]:
    """Every header and label cell (黑体, wrapping, below the title): text, width, where."""
    found = []
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            font = cell.font
            if isinstance(cell.value, str) and font.name == "黑体" and font.size <= 12:
                found.append((cell.value, span_width(ws, cell.row, cell.column), cell.coordinate))
    return found


def test_the_break_table_only_adds_line_breaks() -> None:
    for text, broken in headers.BREAKS.items():
        assert broken.replace("\n", "") == text
        lines = broken.split("\n")
        assert len(lines) >= 2 and all(len(line) >= 2 for line in lines), broken
        # A line break sits before an opening bracket, never just after one.
        assert "（\n" not in broken and "\n）" not in broken, broken


def test_no_header_breaks_again_or_leaves_one_character(city: dict[str, Workbook]) -> None:
    seen = 0
    for annex, wb in city.items():
        for ws in wb.worksheets:
            for text, width, where in head_cells(ws):
                for line in text.split("\n"):
                    assert len(line) >= 2, (annex, ws.title, where, text)
                    assert headers.fits(line, width), (annex, ws.title, where, text, width)
                seen += 1
    assert seen > 500  # every sheet of the three workbooks was looked at


def test_each_form_names_its_district_and_no_district_page_is_blank(
    city: dict[str, Workbook],
) -> None:
    data = forms_world.export_data()
    has = {
        "1-3": {a.district_name for a in data.activities},
        "1-1": {o.district_name for o in data.enterprises},
        "1-2": {o.district_name for o in data.zones},
    }
    for annex, wb in city.items():
        forms = [ws for ws in wb.worksheets if ws.title not in ("汇总", "明细")]
        assert {ws.title for ws in forms} == has[annex], annex  # none without rows
        assert wb.active is forms[0]  # it opens on the first form, not on the 汇总
        for ws in forms:
            assert ws["A3"].value == f"填报单位（盖章）：{ws.title}科协", (annex, ws.title)
            assert ws["A3"].border.bottom.style is None  # outside the official table
            assert f"{ws.title}科协" in ws.oddFooter.center.text
            assert ws.print_title_rows == "$4:$5"
    # 11 districts have no zone association, and 6 reported nothing this year (5 with no
    # association at all): no page for them, and the 汇总 still lists all 23.
    assert len(city["1-2"].sheetnames) == 1 + 12 and len(city["1-3"].sheetnames) == 1 + 17 + 1
    for wb in city.values():
        assert wb["汇总"].cell(25, 2).value == "成都东部新区"


def test_each_summary_carries_its_own_annex(city: dict[str, Workbook]) -> None:
    def line(annex: str, district: str) -> list[object]:
        ws = city[annex]["汇总"]
        row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 2).value == district)
        return [c.value for c in ws[row]][2:]

    # 锦江区 has 8 enterprise and 4 zone associations: 12 on the activity 汇总, 8 on 1-1's.
    assert line("1-3", "锦江区")[0] == 12
    assert line("1-1", "锦江区") == [8, 1200, 40, "20.0%"]
    assert line("1-2", "锦江区") == [4, 2, "200.0%"]
    assert line("1-1", "武侯区")[1:] == ["未填报", "未填报", "未填报"]
    for wb in city.values():
        ws = wb["汇总"]
        assert ws.page_setup.fitToHeight == 1 and ws.page_setup.orientation == "portrait"


def test_each_person_on_two_lines_read_back_whole(city: dict[str, Workbook]) -> None:
    """A person prints as ``姓名/职务/`` over the phone: each line unbroken in its column (or the
    column at its widest), the row tall enough, and the cell read back as the same people."""
    low, high = annex11.PERSON_WIDTH
    people = 0
    for annex, form in (("1-1", annex11.ANNEX_11), ("1-2", forms_world_annex12())):
        for ws in city[annex].worksheets[1:]:
            cols = widths(ws)
            first = len(form.headers) - len(form.person_roles) + 1
            for row in range(6, ws.max_row):  # the data rows, above the summary row
                height = ws.row_dimensions[row].height
                most = 1
                for col in range(first, len(form.headers) + 1):
                    text = ws.cell(row, col).value or ""
                    if not text or text == "无":
                        continue
                    lines = text.split("\n")
                    most = max(most, len(lines))
                    for line in lines:
                        assert fit_width([line], low, high) <= cols[col] or cols[col] == high
                    role = "vice_chair"  # a role that holds several people
                    found, error = parse_people(role, text)
                    assert error is None and found is not None, (ws.title, row, col, text)
                    assert len(found) == len(lines) // 2, (ws.title, row, col, text)
                    assert all(p.phone and "/" not in p.phone for p in found), text
                    people += len(found)
                assert height >= most * 13.5, (ws.title, row)
                assert ws.cell(row, first).alignment.wrap_text
    assert people > 200


def forms_world_annex12() -> annex11.RegistryForm:
    from exports.annex12 import ANNEX_12

    return ANNEX_12


def test_a_district_without_zone_associations_prints_one_nothing_row(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    data = forms_world.export_data("金牛区")  # one enterprise association, one zone association
    data.zones = []
    result = write_exports(data, tmp_path, store, TZ, thumbnails=False, bundle=False)
    ws = load_workbook(next(p for p in result.files if p.name.startswith("附件1-2")))["附件1-2"]
    assert ws["A3"].value == "填报单位（盖章）：金牛区科协"
    assert ws["A6"].value == "无" and f"A6:{get_column_letter(14)}6" in {
        str(r) for r in ws.merged_cells.ranges
    }
    assert ws["A7"].value == "所属区（市）县" and ws.max_row == 7  # the district's figures stay
