"""Data cells of the activity forms never leave one character alone on a line: at every line
width a spreadsheet program may give the column (exports/headers.print_text), read back from the
city's workbooks of a realistic world (tests/forms_world.py)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from exports.headers import orphaned, print_text, wrapped
from exports.layout import LINE_PT, display_width, usable_width
from exports.service import write_exports
from storage.evidence import EvidenceStore
from tests import forms_world
from tests.unit.test_export_print import widths


@pytest.fixture(scope="module")
def activities(tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    """The city's annex 1-3 workbook (its forms and the 明细 sheet)."""
    out = tmp_path_factory.mktemp("wrap")
    data = forms_world.export_data()
    data.annexes = ("1-3",)
    result = write_exports(
        data, out, EvidenceStore(out / "evidence"), ZoneInfo("Asia/Shanghai"),
        thumbnails=False, bundle=False,
    )  # fmt: skip
    return load_workbook(next(p for p in result.files if p.name.startswith("附件1-3")))


def test_a_lone_last_character_is_broken_off_earlier_and_brackets_kept_whole() -> None:
    name = "成都锦江区轨道交通装备制造科学技术协会"  # 19: 9 + 9 + 1 at 9 a line
    assert any(orphaned(lines) for lines in wrapped(name, 20))
    lines = print_text(name, 20).split("\n")
    assert "".join(lines) == name and len(lines) == 3
    assert all(len(line) >= 6 for line in lines), lines  # even, not 9 + 9 + 1
    title = "锦江区产学研对接会（第2期）"
    assert print_text(title, 22) == "锦江区产学研对接会\n（第2期）"  # before the bracket
    assert print_text("一行就够", 22) == "一行就够"  # nothing to do: unchanged


def test_no_data_cell_leaves_one_character_on_a_line(activities: Workbook) -> None:
    checked = broken = 0
    for ws in activities.worksheets:
        if ws.title == "汇总":
            continue
        first = 3 if ws.title == "明细" else 6
        cols = widths(ws)
        for row in ws.iter_rows(min_row=first):
            lines_needed = 1
            for cell in row:
                text = cell.value
                if not isinstance(text, str) or cell.border.left.style is None:
                    continue  # the 备注 line below the table, outside it
                width = cols[cell.column]
                for lines in wrapped(text, width):  # each paragraph at each line width
                    assert not orphaned(lines), (ws.title, cell.coordinate, text, lines)
                if "\n" in text:  # broken by hand: each line stays one line at every width
                    assert all(display_width(p) <= usable_width(width) for p in text.split("\n"))
                lines_needed = max(lines_needed, text.count("\n") + 1)
                broken += "\n" in text
                checked += 1
            assert ws.row_dimensions[row[0].row].height >= lines_needed * LINE_PT
    assert checked > 1000 and broken > 20  # the world's long names were broken by hand


def test_the_text_is_only_ever_broken() -> None:
    for activity in forms_world.activities(forms_world.orgs()):
        for text, width in ((activity.name, 22), (activity.content, 44), (activity.org_name, 24)):
            assert print_text(text, width).replace("\n", "") == text
