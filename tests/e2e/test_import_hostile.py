"""Issue 8 for the registry import: hostile or unusual workbooks are refused with a sentence
before they are parsed, rows are streamed and stop at the limit, the parse runs in a child
process, merged cells fill every row they span, and a sheet of another district is refused."""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

import storage.import_archive as archive
import storage.import_sheet as importer
from core.texts import plain
from storage.db import Database
from storage.import_archive import check_archive
from storage.import_sheet import MAX_ROWS, read_sheet
from storage.importer import (
    error_lines,
    import_registry,
    note_lines,
    read_sheet_isolated,
    sheet_district,
)
from storage.models import Organisation
from storage.registry import district_by_name
from tests.harness import Kexie
from tests.hostile_sheets import many_rows, zip_bomb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TODAY = date(2021, 11, 5)
zh = functools.partial(plain, "zh")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def keys(parsed: importer.ParsedSheet) -> list[str]:
    return [e.key for e in parsed.errors]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 MB of sheet XML in ~0.2 MB: over the total cap and far over the ratio cap."""
    return zip_bomb(tmp_path_factory.mktemp("hostile") / "bomb.xlsx", 60_000_000)


@pytest.fixture(scope="module")
def rows_200k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_rows(tmp_path_factory.mktemp("hostile") / "rows.xlsx", 200_000, noise=0)


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if openpyxl is asked to open the workbook at all."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was parsed")

    monkeypatch.setattr(importer, "load_workbook", refuse)
    yield


# --- item 2: bounded before and during parsing -----------------------------------------------


def test_zip_bomb_is_refused_before_parsing(bomb: Path, no_parsing: None) -> None:
    parsed = read_sheet(bomb.read_bytes(), None, TODAY)
    assert keys(parsed) == ["imp_err_archive"]
    sentence = error_lines(importer.ImportResult("", errors=parsed.errors), zh)[0]
    assert "解压后" in sentence and "50 MB" in sentence


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_declared_ratio_total_and_entry_count_are_each_bounded(
    monkeypatch: pytest.MonkeyPatch, no_parsing: None
) -> None:
    # 4 MB of one byte: under the total cap, but about 1000:1.
    assert check_archive(_zip({"xl/worksheets/sheet1.xml": b" " * 4_000_000})) == (
        "imp_err_archive"
    )
    assert check_archive(_zip({f"xl/m{i}.xml": b"<a/>" for i in range(600)})) == ("imp_err_archive")
    plain_member = bytes(range(256)) * 8000  # ~2 MB, compresses only ~100:1 at most
    monkeypatch.setattr(archive, "MAX_RATIO", 10_000)
    monkeypatch.setattr(archive, "MAX_UNCOMPRESSED", 1_000_000)
    assert check_archive(_zip({"xl/a.xml": plain_member})) == "imp_err_archive"
    monkeypatch.setattr(archive, "MAX_UNCOMPRESSED", 10_000_000)
    assert check_archive(_zip({"xl/a.xml": plain_member})) is None


def test_a_shared_string_table_too_big_to_load_whole_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_parsing: None
) -> None:
    monkeypatch.setattr(archive, "MAX_SHARED_STRINGS", 100_000)
    table = b"<sst>" + b"".join(b"<si><t>%d</t></si>" % i for i in range(20_000)) + b"</sst>"
    assert check_archive(_zip({"xl/sharedStrings.xml": table})) == "imp_err_too_complex"


def test_200000_rows_are_refused_after_reading_only_the_limit(rows_200k: Path) -> None:
    parsed = read_sheet(rows_200k, None, TODAY)
    assert keys(parsed) == ["imp_err_too_many"]
    assert parsed.rows == []
    assert parsed.rows_read == MAX_ROWS + 1  # the loop stopped at the first row too many
    sentence = error_lines(importer.ImportResult("", errors=parsed.errors), zh)[0]
    assert "超过 5 000 行" in sentence


def _sheet(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    for cells in merges:
        ws.merge_cells(cells)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


HEAD = [
    "序号", "单位名称", "批准文号", "批准时间", "员工总数", "科技人员数", "科协会员数",
    "通信地址", "单位性质（国企/民企）", "主席", "副主席", "秘书长", "副秘书长", "联系人",
]  # fmt: skip


def test_row_loop_counts_rows_and_stops_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    three = _sheet([HEAD] + [[i, f"科协{i}号"] for i in range(1, 4)])
    assert keys(read_sheet(three, "1-1", TODAY)) == []
    lots = _sheet([HEAD] + [[i, f"科协{i}号"] for i in range(1, 500)])
    parsed = read_sheet(lots, "1-1", TODAY)
    assert keys(parsed) == ["imp_err_too_many"]
    assert parsed.rows_read == 4


def test_a_row_far_down_does_not_make_the_reader_walk_to_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One cell at row 1 000 000 (openpyxl fills the gap with empty rows): bounded too."""
    data = _sheet([HEAD, [1, "上面的科协"]])
    ws_xml = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    far = b'<row r="1000000"><c r="B1000000" t="inlineStr"><is><t>x</t></is></c></row>'
    parts[ws_xml] = parts[ws_xml].replace(b"</sheetData>", far + b"</sheetData>")
    parsed = read_sheet(_zip(parts), "1-1", TODAY)
    assert keys(parsed) == ["imp_err_too_many"]
    assert parsed.rows_read <= 2 * MAX_ROWS + 1


async def test_the_isolated_reader_gives_the_same_sheet_in_a_child_process(
    tmp_path: Path,
) -> None:
    path = FIXTURES / "annex_1_1_merged.xlsx"
    here = read_sheet(path, "1-1", TODAY)
    there = await read_sheet_isolated(path, "1-1", TODAY)
    assert there == here and there.rows


async def test_a_child_that_runs_out_of_memory_is_a_sentence_not_a_crash() -> None:
    parsed = await read_sheet_isolated(
        FIXTURES / "annex_1_1_merged.xlsx", "1-1", TODAY, memory_limit=16 * 1024 * 1024
    )
    assert keys(parsed) == ["imp_err_too_complex"]


# --- item 11: .xls, password-protected, formulas ---------------------------------------------


def test_xls_and_password_protected_workbooks_are_named(no_parsing: None) -> None:
    assert keys(read_sheet(fixture("legacy.xls"), None, TODAY)) == ["imp_err_xls"]
    assert keys(read_sheet(fixture("protected.xlsx"), None, TODAY)) == ["imp_err_protected"]
    assert "另存为" in zh("imp_err_xls") and ".xlsx" in zh("imp_err_xls")
    assert "密码" in zh("imp_err_protected")


def test_a_formula_in_the_name_column_is_named_not_missing() -> None:
    parsed = read_sheet(fixture("annex_1_1_formula.xlsx"), "1-1", TODAY)
    assert [(e.row, e.column, e.key) for e in parsed.errors] == [(5, "B", "imp_err_formula_name")]
    line = error_lines(importer.ImportResult("", errors=parsed.errors), zh)[0]
    assert line.startswith("第5行 B列（单位名称）") and "B5" in line and "公式" in line


def test_a_formula_with_its_computed_value_is_read_as_that_value() -> None:
    data = _sheet([HEAD, [1, "有值的科协", None, None, "=60", 6]])
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    ws_xml = "xl/worksheets/sheet1.xml"
    parts[ws_xml] = parts[ws_xml].replace(b"<f>60</f><v />", b"<f>60</f><v>60</v>")
    parsed = read_sheet(_zip(parts), "1-1", TODAY)
    assert parsed.errors == [] and parsed.rows[0].values["employees"] == 60


# --- item 5: merged cells over data rows -----------------------------------------------------


def test_a_merged_value_applies_to_every_row_it_spans() -> None:
    parsed = read_sheet(fixture("annex_1_1_merged_rows.xlsx"), "1-1", TODAY)
    assert parsed.errors == []
    first, second = parsed.rows
    assert second.values["approval_no"] == first.values["approval_no"] == "成科协〔2020〕8号"
    assert second.values["approval_date"] == date(2020, 6, 1)
    assert [(n.ref, n.header) for n in parsed.notes] == [
        ("C5:C6", "批准文号"),
        ("D5:D6", "批准时间"),
    ]
    lines = note_lines(parsed.notes, zh)
    assert lines[0] == "合并单元格 C5:C6（批准文号）的内容已用于第5至6行。"


def test_a_horizontal_merge_fills_no_other_column() -> None:
    data = _sheet([HEAD, [1, "横向合并科协", "文号一", None, 10, 2]], merges=("C2:D2",))
    parsed = read_sheet(data, "1-1", TODAY)
    assert parsed.errors == [] and "approval_date" not in parsed.rows[0].values
    assert parsed.notes == []


def test_a_merge_over_an_empty_row_makes_no_association_of_it() -> None:
    rows = [HEAD, [1, "上行科协", "文号一", None, 10, 2], [None], [2, "下行科协", None, None, 5, 1]]
    parsed = read_sheet(_sheet(rows, merges=("C2:C3",)), "1-1", TODAY)
    assert parsed.errors == []
    assert [r.name for r in parsed.rows] == ["上行科协", "下行科协"]
    assert parsed.notes == [] and "approval_no" not in parsed.rows[1].values


async def test_merged_rows_are_stored_and_reported(db: Database) -> None:
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        result = await import_registry(
            session, district, "1-1", fixture("annex_1_1_merged_rows.xlsx"), TODAY
        )
    assert result.ok, result.errors
    async with db.session() as session:
        second = await session.scalar(
            select(Organisation).where(Organisation.name == "合并乙科技公司科协")
        )
        assert second is not None and second.approval_no == "成科协〔2020〕8号"
    assert [n.ref for n in result.notes] == ["C5:C6", "D5:D6"]


# --- item 4: the district named in the sheet -------------------------------------------------


async def test_a_sheet_of_another_district_is_refused_naming_both(db: Database) -> None:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        result = await import_registry(
            session, jinjiang, "1-1", fixture("annex_1_1_wuhou.xlsx"), TODAY
        )
    assert [e.key for e in result.errors] == ["imp_err_other_district"]
    line = error_lines(result, zh)[0]
    assert "武侯区" in line and "锦江区" in line
    async with db.session() as session:
        assert (await session.scalars(select(Organisation))).all() == []
        wuhou = await district_by_name(session, "武侯区")
        assert wuhou is not None
        ok = await import_registry(session, wuhou, "1-1", fixture("annex_1_1_wuhou.xlsx"), TODAY)
    assert ok.ok and ok.created == ["武侯示例科技公司科协"]


async def test_the_district_may_be_written_with_the_city_or_as_the_association(
    db: Database,
) -> None:
    async with db.session() as session:
        jinjiang = await district_by_name(session, "锦江区")
        assert jinjiang is not None
        for written in ("成都市锦江区", "锦江区科协", "锦江"):
            sheet = read_sheet(fixture("annex_1_1_merged.xlsx"), "1-1", TODAY)
            sheet.district = written
            assert (await sheet_district(session, sheet)) == jinjiang, written
            result = await import_registry(session, jinjiang, "1-1", sheet, TODAY)
            assert result.ok, (written, result.errors)
        # The short names people write for the two zones are matched as the CLI matches them.
        zones = (("高新区", "成都高新区"), ("天府新区科协", "四川天府新区成都直管区"))
        for written, meant in zones:
            sheet.district = written
            found = await sheet_district(session, sheet)
            assert found is not None and found.name == meant, written
        sheet.district = "成都市武侯区"
        result = await import_registry(session, jinjiang, "1-1", sheet, TODAY)
        assert [e.key for e in result.errors] == ["imp_err_other_district"]


def test_the_summary_row_names_the_district() -> None:
    assert read_sheet(fixture("annex_1_1_wuhou.xlsx"), None, TODAY).district == "武侯区"
    assert read_sheet(fixture("annex_1_1_merged.xlsx"), None, TODAY).district == "锦江区"
    assert read_sheet(fixture("annex_1_1_plain.xlsx"), None, TODAY).district is None


# --- through the chat ------------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _orgs(kexie: Kexie) -> list[tuple[str, int]]:
    async with kexie.session() as session:
        return [
            (o.name, o.district_id) for o in (await session.scalars(select(Organisation))).all()
        ]


async def test_chat_another_districts_sheet_refused_city_admin_imports_it(kexie: Kexie) -> None:
    admin = await kexie.member(8101, "district_admin", district="锦江区")
    await admin.send_document(fixture("annex_1_1_wuhou.xlsx"), "武侯.xlsx", XLSX)
    refused = await admin.expect_any("没有导入任何内容")
    assert "武侯区" in refused.text and "锦江区" in refused.text
    assert await _orgs(kexie) == []

    city = await kexie.member(8102, "city_admin")
    await city.send_document(fixture("annex_1_1_wuhou.xlsx"), "武侯.xlsx", XLSX)
    done = await city.expect_any("已导入附件1-1（武侯区）")
    assert "新增 1 个" in done.text
    wuhou = await kexie.district("武侯区")
    assert await _orgs(kexie) == [("武侯示例科技公司科协", wuhou.id)]

    # A sheet without the summary row: the city admin is told how to name the district.
    await city.send_document(fixture("annex_1_1_plain.xlsx"), "plain.xlsx", XLSX)
    await city.expect_any("所属区（市）县")


async def test_chat_hostile_and_unusual_files_get_their_sentence(
    kexie: Kexie, bomb: Path, rows_200k: Path
) -> None:
    admin = await kexie.member(8201, "district_admin", district="锦江区")
    await admin.send_document(fixture("legacy.xls"), "名册.xls", "application/vnd.ms-excel")
    await admin.expect_any("另存为")
    await admin.send_document(fixture("protected.xlsx"), "名册.xlsx", XLSX)
    await admin.expect_any("密码")
    await admin.send_document(fixture("annex_1_1_formula.xlsx"), "名册.xlsx", XLSX)
    formula = await admin.expect_any("公式")
    assert "B5" in formula.text
    await admin.send_document(bomb.read_bytes(), "bomb.xlsx", XLSX)
    await admin.expect_any("解压后")
    await admin.send_document(rows_200k.read_bytes(), "rows.xlsx", XLSX)
    await admin.expect_any("超过 5 000 行")
    await admin.send_document(fixture("annex_1_1_merged_rows.xlsx"), "合并.xlsx", XLSX)
    done = await admin.expect_any("已导入附件1-1（锦江区）")
    assert "C5:C6" in done.text and "第5至6行" in done.text
    # Meanwhile and after, another user is answered.
    other = await kexie.member(8202, "district_admin", district="青羊区")
    await other.send("/help")
    await other.expect_any("/export")


async def test_chat_only_admins_may_import(kexie: Kexie) -> None:
    org = await kexie.org("成都示例科技有限公司科协")
    for user_id, role in ((8301, "reporter"), (8302, "org_admin")):
        user = await kexie.member(user_id, role, org=org)
        await user.send_document(fixture("annex_1_1_plain.xlsx"), "名册.xlsx", XLSX)
        await user.expect_any("只有区（市）县科协和市科协管理员可以导入登记表")
        await user.send_document(fixture("legacy.xls"), "名册.xls", "application/vnd.ms-excel")
        await user.expect_any("只有区（市）县科协和市科协管理员可以导入登记表")
    assert await _orgs(kexie) == [("成都示例科技有限公司科协", (await kexie.district()).id)]
