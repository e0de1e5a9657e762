"""Data cells of the printed forms never leave one character alone on a line: at every line
width a spreadsheet program may give the column (exports/headers.print_text), read back from the
city's workbooks of a realistic world (tests/forms_world.py): the activities (annex 1-3 and the
明细 sheet) and the registries (annexes 1-1 and 1-2, their person cells aside: one person a
line, each fitted to its column)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from core.registry_rules import fold_space
from exports.annex11 import ANNEX_11, plain_row
from exports.annex12 import ANNEX_12
from exports.headers import orphaned, print_text, wrapped
from exports.layout import LINE_PT, display_width, usable_width
from exports.service import write_exports
from storage.evidence import EvidenceStore
from tests import forms_world
from tests.unit.test_export_print import widths

# The columns checked in each workbook: every one, or a registry's plain ones (persons after).
PLAIN = {
    "1-3": 99,
    "1-1": len(ANNEX_11.headers) - len(ANNEX_11.person_roles),
    "1-2": len(ANNEX_12.headers) - len(ANNEX_12.person_roles),
}


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Workbook]:
    """The city's workbooks of annexes 1-3 (its forms and the 明细 sheet), 1-1 and 1-2."""
    out = tmp_path_factory.mktemp("wrap")
    result = write_exports(
        forms_world.export_data(), out, EvidenceStore(out / "evidence"),
        ZoneInfo("Asia/Shanghai"), thumbnails=False, bundle=False,
    )  # fmt: skip
    return {
        annex: load_workbook(next(p for p in result.files if p.name.startswith(f"附件{annex}")))
        for annex in PLAIN
    }


def test_a_lone_last_character_is_broken_off_earlier_and_brackets_kept_whole() -> None:
    name = "成都锦江区轨道交通装备制造科学技术协会"  # 19: 9 + 9 + 1 at 9 a line
    assert any(orphaned(lines) for lines in wrapped(name, 20))
    lines = print_text(name, 20).split("\n")
    assert "".join(lines) == name and len(lines) == 3
    assert all(len(line) >= 6 for line in lines), lines  # even, not 9 + 9 + 1
    title = "锦江区产学研对接会（第2期）"
    assert print_text(title, 22) == "锦江区产学研对接会\n（第2期）"  # before the bracket
    assert print_text("一行就够", 22) == "一行就够"  # nothing to do: unchanged


@pytest.mark.parametrize("annex", list(PLAIN))
def test_no_data_cell_leaves_one_character_on_a_line(
    workbooks: dict[str, Workbook], annex: str
) -> None:
    checked = broken = 0
    for ws in workbooks[annex].worksheets:
        if ws.title == "汇总":
            continue
        first = 3 if ws.title == "明细" else 6
        cols = widths(ws)
        for row in ws.iter_rows(min_row=first, max_col=min(PLAIN[annex], ws.max_column)):
            if str(row[0].value or "").startswith("所属区"):
                break  # a registry's district summary row: labels laid across merged cells
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
    # the world's long names (and the zones' addresses and 秘书长执行单位) were broken by hand
    least = {"1-3": (1000, 20), "1-1": (120, 10), "1-2": (60, 15)}[annex]
    assert checked > least[0] and broken > least[1], (checked, broken)


def test_a_registry_cell_is_broken_only_where_the_import_joins_it_back() -> None:
    zone = "成都锦江区轨道交通装备制造科学技术协会"
    row = plain_row([1, zone, "锦民〔2020〕9号", 40], (6, 20, 14, 10))
    assert row == [1, "成都锦江区轨道\n交通装备制造\n科学技术协会", "锦民\n〔2020〕9号", 40]
    assert [fold_space(str(v)) for v in row[1:3]] == [zone, "锦民〔2020〕9号"]
    # Broken at its spaces the name would come back without them, as another association's:
    # left whole, to the program's wrapping.
    spaced = "成都高新区 ABC Technology 科学技术协会"
    assert print_text(spaced, 20) == "成都高新区 ABC\nTechnology\n科学技术协会"
    assert plain_row([spaced], (20,)) == [spaced]


def test_the_text_is_only_ever_broken() -> None:
    for activity in forms_world.activities(forms_world.orgs()):
        for text, width in ((activity.name, 22), (activity.content, 44), (activity.org_name, 24)):
            assert print_text(text, width).replace("\n", "") == text
