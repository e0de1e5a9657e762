"""Annexes 1-1, 1-2, 1-3 and the bundle for a seeded district, read back with openpyxl."""

from __future__ import annotations

import asyncio
import re
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from exports import annex11, annex12, annex13, details
from exports.scope import Level, Scope
from exports.service import ExportResult, gather, write_exports
from storage.db import Database
from storage.evidence import EvidenceStore
from storage.migrate import upgrade
from tests.export_data import TRICKY_NAME, YEAR, Seeded, seed_export_data

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Env:
    db: Database
    store: EvidenceStore
    seeded: Seeded
    out: Path


@pytest.fixture
async def env(tmp_path: Path, backend: str | None) -> AsyncIterator[Env]:
    """A migrated database (SQLite, or PostgreSQL when parametrized) with the export seed."""
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    store = EvidenceStore(tmp_path / "evidence")
    async with db.session() as session:
        seeded = await seed_export_data(session, store)
    yield Env(db, store, seeded, tmp_path / "out")
    await db.dispose()


async def export(env: Env, annex: tuple[str, ...], scope: Scope, **kw: object) -> ExportResult:
    async with env.db.session() as session:
        data = await gather(session, scope, annex)
    return write_exports(data, env.out, env.store, TZ, **kw)  # type: ignore[arg-type]


def district_scope(env: Env, **kw: object) -> Scope:
    return Scope(Level.DISTRICT, YEAR, district_id=env.seeded.district_id, **kw)  # type: ignore[arg-type]


def row_values(ws: Worksheet, row: int) -> list[object]:
    return [c.value for c in ws[row]]


def joined(values: list[object]) -> list[object]:
    """Texts without the line breaks added at their break points (exports/headers.py): a
    header's, or a data cell's that would leave one character on a line."""
    return [v.replace("\n", "") if isinstance(v, str) else v for v in values]


def merges(ws: Worksheet) -> set[str]:
    return {str(r) for r in ws.merged_cells.ranges}


def assert_print_ready(ws: Worksheet, title_rows: str, freeze: str) -> None:
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1
    assert ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == title_rows
    assert ws.freeze_panes == freeze
    assert "&P" in (ws.oddFooter.center.text or "")


def assert_one_page(ws: Worksheet) -> None:
    """A 汇总 sheet prints on one A4 portrait page, its whole table in the print area."""
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 1
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value is not None)
    assert ws.print_area == f"'汇总'!$A$1:${get_column_letter(ws.max_column)}${last}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_annex13_district_form(env: Env) -> None:
    result = await export(env, ("1-3",), district_scope(env))
    workbook_path, bundle_path = result.files
    assert workbook_path.name == f"附件1-3_{YEAR}年锦江区.xlsx"
    assert bundle_path.name == f"{YEAR}年锦江区_附件及佐证材料.zip"
    wb = load_workbook(workbook_path)
    assert wb.sheetnames == ["附件1-3", "明细"]
    ws = wb["附件1-3"]
    assert ws["A1"].value == "附件1-3"
    assert ws["A2"].value == f"{YEAR}年区（市）县企业科协、产业功能区科协\n工作情况统计表"
    assert ws["A2"].value.replace("\n", "") == (
        f"{YEAR}年区（市）县企业科协、产业功能区科协工作情况统计表"
    )
    # Whose form it is, under the title and outside the table (no border), date left for the pen.
    assert ws["A3"].value == "填报单位（盖章）：锦江区科协"
    assert ws["F3"].value.startswith("填报日期：") and ws["F3"].value.endswith("日")
    assert {"A3:E3", "F3:H3"} <= merges(ws) and ws["A3"].border.left.style is None
    assert row_values(ws, 4) == [
        "序号", "时间", "服务（活动）名称", "服务（活动）内容", "主办/协办/承办", "参与人数",
        "取得成效", "佐证材料",
    ]  # fmt: skip
    assert row_values(ws, 5) == [None] * 7 + ["以附件形式提供"]
    assert {"A2:H2", *(f"{c}4:{c}5" for c in "ABCDEFG")} <= merges(ws)
    assert "H4:H5" not in merges(ws)

    # Only the submitted activities of 锦江区 in the year, by date, numbered 1, 2, 3, 4.
    data = [row_values(ws, r) for r in range(6, 6 + len(env.seeded.submitted))]
    assert [r[0] for r in data] == [1, 2, 3, 4]
    assert [r[1] for r in data] == [
        "2021年3月8日",
        "2021年6月20日",
        "2021年11月3日",
        "2021年11月30日",
    ]
    assert joined([r[2] for r in data]) == [
        TRICKY_NAME, "院士专家工作站/培育:座谈*会?", "科技政策解读会", "年末学术交流",
    ]  # fmt: skip
    assert [r[4] for r in data] == ["主办", "主办", "协办", "主办"]
    assert [r[5] for r in data] == [30, 50, 120, None]
    assert data[3][3] == "第一行\n第二行\n第三行"
    assert [r[7] for r in data] == [
        "附件001（3张照片）", "附件002（1张照片、1个文件）", "附件003（2张照片）", "无",
    ]  # fmt: skip
    note_row = 6 + len(data)
    assert ws.max_row == note_row
    assert ws.cell(note_row, 1).value == annex13.NOTE
    assert f"A{note_row}:H{note_row}" in merges(ws)

    # User text is text: the formula-looking name is a string, and no formula is in the file.
    tricky = ws["C6"]
    assert tricky.data_type == "s" and tricky.quotePrefix
    assert tricky.value == '=HYPERLINK\n("http://x")讲座'  # broken: 讲座 stays whole
    with zipfile.ZipFile(workbook_path) as xlsx:
        for name in xlsx.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in xlsx.read(name).decode()

    # Print-ready.
    assert_print_ready(ws, "$4:$5", "A6")
    assert "锦江区科协" in ws.oddFooter.center.text  # a loose page still says whose it is
    assert ws["A4"].font.name == "黑体" and ws["C6"].font.name == "宋体"
    assert ws["C6"].alignment.wrap_text and ws["C6"].border.left.style == "thin"
    assert ws.column_dimensions["D"].width > ws.column_dimensions["A"].width
    assert ws.row_dimensions[9].height >= 3 * 13.5  # three-line content

    # Hyperlinks open folders that exist in the bundle, holding the counted files.
    with zipfile.ZipFile(bundle_path) as bundle:
        assert bundle.testzip() is None
        names = bundle.namelist()
    assert workbook_path.name in names
    for row, count in zip(range(6, 9), (3, 2, 2), strict=True):
        target = ws.cell(row, 8).hyperlink.target
        assert target.endswith("/") and not target.startswith("/")
        assert target in names
        inside = [n for n in names if n.startswith(target) and not n.endswith("/")]
        assert len(inside) == count
    assert ws["H9"].hyperlink is None
    assert "佐证材料/001_=HYPERLINK(_http___x_)讲座/01.jpg" in names
    assert "佐证材料/002_院士专家工作站_培育_座谈_会_/02_签到表.pdf" in names
    assert result.evidence_files == 7 and not result.missing


async def test_details_sheet_is_separate_with_thumbnails(env: Env) -> None:
    result = await export(env, ("1-3",), district_scope(env))
    wb = load_workbook(result.files[0])
    ws = wb["明细"]
    assert ws["A1"].value == details.TITLE
    assert joined(row_values(ws, 2)) == list(details.HEADERS)
    assert ws["G2"].value == "是否按时\n（逾期天数）"  # broken before the bracket
    rows = [row_values(ws, r) for r in range(3, ws.max_row + 1)]
    # The grid is closed: every cell of every row, the thumbnail's included, has its borders.
    for line in ws.iter_rows(min_row=2, max_row=ws.max_row, max_col=len(details.HEADERS)):
        for cell in line:
            assert cell.border.left.style == cell.border.right.style == "thin", cell.coordinate
            assert cell.border.top.style == cell.border.bottom.style == "thin", cell.coordinate
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert joined([r[2] for r in rows]) == [
        "成都智造科技有限公司科协",
        "锦江国资公司科协",
        "锦江产业功能区科协",
        "成都智造科技有限公司科协",
    ]
    assert [r[3] for r in rows] == ["企业科协", "企业科协", "产业功能区科协", "企业科协"]
    assert {r[4] for r in rows} == {"锦江区"}
    assert rows[0][5] == "2021年3月8日 14:00"  # 06:00 UTC in Asia/Shanghai
    assert [r[6] for r in rows] == ["是", "否（逾期2天）", "是", "是"]
    assert [r[7] for r in rows] == [3, 1, 2, 0]
    assert {r[8] for r in rows} == {"王芳"}
    assert len(ws._images) == 3  # the three rows with a photo
    # The official sheet has none of these columns.
    assert "填报单位" not in row_values(wb["附件1-3"], 4)


async def test_without_thumbnails(env: Env) -> None:
    result = await export(env, ("1-3",), district_scope(env), thumbnails=False)
    assert load_workbook(result.files[0])["明细"]._images == []


async def test_empty_scope_is_an_empty_form(env: Env) -> None:
    result = await export(env, ("1-3", "1-1", "1-2"), Scope(Level.DISTRICT, 2019, district_id=999))
    wb13 = load_workbook(result.files[0])
    ws = wb13["附件1-3"]
    assert ws["A2"].value.startswith("2019年")
    assert ws["A3"].value == "填报单位（盖章）："  # an unknown district: left for the pen
    assert row_values(ws, 4)[0] == "序号"
    # An empty form says so, as an office fills it: one 无 row across the table.
    assert ws["A6"].value == "无" and "A6:H6" in merges(ws)
    assert ws["A7"].value == annex13.NOTE and ws.max_row == 7
    assert wb13["明细"].max_row == 2
    ws11 = load_workbook(result.files[1])["附件1-1"]
    assert ws11["A6"].value == "无" and "A6:N6" in merges(ws11)
    assert ws11.max_row == 6  # no district: no summary row either
    with zipfile.ZipFile(result.files[-1]) as bundle:
        assert bundle.testzip() is None
        assert not [n for n in bundle.namelist() if n.startswith("佐证材料")]


async def test_date_range_narrows_the_year(env: Env) -> None:
    from datetime import date

    scope = district_scope(env, date_from=date(2021, 6, 1), date_to=date(2021, 11, 29))
    result = await export(env, ("1-3",), scope, thumbnails=False)
    assert result.files[0].name == f"附件1-3_{YEAR}年锦江区_20210601-20211129.xlsx"
    ws = load_workbook(result.files[0])["附件1-3"]
    assert [ws.cell(r, 3).value for r in (6, 7)] == [
        "院士专家工作站/培育:座谈*会?",
        "科技政策解读会",
    ]
    assert ws["A8"].value == annex13.NOTE


async def test_org_scope(env: Env) -> None:
    scope = Scope(Level.ORG, YEAR, org_id=env.seeded.enterprise_ids[0])
    result = await export(env, ("1-3", "1-1"), scope, thumbnails=False)
    ws = load_workbook(result.files[0])["附件1-3"]
    # An association's own form: it fills and stamps it, its district named beside it.
    assert ws["A3"].value == "填报单位（盖章）：成都智造科技有限公司科协（锦江区）"
    assert joined([ws.cell(r, 3).value for r in (6, 7)]) == [TRICKY_NAME, "年末学术交流"]
    ws11 = load_workbook(result.files[1])["附件1-1"]
    assert ws11["A3"].value == ws["A3"].value
    assert joined([ws11["B6"].value]) == ["成都智造科技有限公司科协"]
    assert ws11["A7"].value == "所属区（市）县"  # the district summary follows the one row


async def test_a_december_activity_counts_toward_the_next_years_tables(env: Env) -> None:
    """The statistical year: 1 December of YEAR belongs to YEAR + 1, 30 November to YEAR."""
    scope = Scope(Level.ORG, YEAR + 1, org_id=env.seeded.enterprise_ids[0])
    result = await export(env, ("1-3",), scope, thumbnails=False)
    ws = load_workbook(result.files[0])["附件1-3"]
    assert ws.cell(6, 2).value == f"{YEAR}年12月1日"
    assert ws.cell(6, 3).value == "下一年度的活动"
    assert ws.cell(7, 1).value == annex13.NOTE  # the only one


async def test_annex11(env: Env) -> None:
    result = await export(env, ("1-1",), district_scope(env))
    assert [p.name for p in result.files] == [f"附件1-1_{YEAR}年锦江区.xlsx"]  # no bundle
    ws = load_workbook(result.files[0])["附件1-1"]
    assert ws["A1"].value == "附件1-1"
    assert ws["A2"].value == f"{YEAR}年企业科协组织建设统计表"
    assert ws["A3"].value == "填报单位（盖章）：锦江区科协" and {"A3:I3", "J3:N3"} <= merges(ws)
    assert joined(row_values(ws, 4)) == [
        "序号", "单位名称", "批准文号", "批准时间", "员工总数", "科技人员数", "科协会员数",
        "通信地址", "单位性质（国企/民企）", "主席", "副主席", "秘书长", "副秘书长", "联系人",
    ]  # fmt: skip
    # Broken before the bracket and between words, never leaving one character on a line.
    assert ws["F4"].value == "科技\n人员数" and ws["I4"].value == "单位性质\n（国企/民企）"
    assert row_values(ws, 5) == [None] * 9 + ["姓名/职务/电话"] * 5
    assert {"A2:N2", *(f"{c}4:{c}5" for c in "ABCDEFGHI")} <= merges(ws)
    first = row_values(ws, 6)
    # 12 characters in a column 20 wide: 11 + 1 at LibreOffice's width, so broken 6 + 6.
    assert first[1] == "成都智造科技\n有限公司科协"
    assert joined(first[:9]) == [
        1, "成都智造科技有限公司科协", "锦科协〔2021〕3号", "2021年3月15日", 320, 85, 60,
        "成都市锦江区工业园区1号", "民企",
    ]  # fmt: skip
    # A person on two lines, broken after the title's slash (the import joins them back).
    assert first[9] == "张三/总工程师/\n028-12345678"
    assert first[10] == "李四/副总经理/\n13800000001\n王五/研发部长/\n13800000002"
    assert first[11] == "赵六/办公室主任/\n13800000003"
    assert first[12] is None or first[12] == ""
    assert first[13] == "=钱七/干事/\n13800000004" and ws["N6"].data_type == "s"
    assert ws.row_dimensions[6].height >= 4 * 13.5  # two vice-chairs on four lines
    # Each person column is wide enough for its longest line: a landline and its hyphen whole.
    assert ws.column_dimensions["J"].width >= 1.5 + 1.2 * 12  # 028-12345678
    # M is empty (the hint's width, 18) but carries the summary's 比例（已建/科技企业）: widened.
    assert ws.column_dimensions["M"].width == 20 > annex11.PERSON_WIDTH[0]
    assert row_values(ws, 7)[:2] == [2, "锦江国资公司科协"]  # the inactive one is left out
    summary = joined([v for v in row_values(ws, 8) if v not in (None, "")])
    assert summary == [
        "所属区（市）县", "锦江区", "已建企业科协数量", "2个", "属地企业数量", "500个",
        "科技企业数量", "8个", "比例（已建/科技企业）", "25.0%",
    ]  # fmt: skip
    assert {"A8:B8", "C8:D8", "E8:G8"} <= merges(ws)
    assert ws.max_row == 8
    assert_print_ready(ws, "$4:$5", "A6")


async def test_annex12(env: Env) -> None:
    result = await export(env, ("1-2",), district_scope(env))
    ws = load_workbook(result.files[0])["附件1-2"]
    assert ws["A1"].value == "附件1-2"
    assert ws["A2"].value == f"{YEAR}年产业功能区科协组织建设统计表"
    assert ws["A3"].value == "填报单位（盖章）：锦江区科协"
    assert joined(row_values(ws, 4)) == list(annex12.ANNEX_12.headers)
    assert row_values(ws, 4)[4:9] == [
        "通信地址", "单位\n会员数量", "个人\n会员数量", "秘书长\n执行单位", "法人代表",
    ]  # fmt: skip
    assert row_values(ws, 5) == [None] * 8 + ["姓名/职务/电话"] * 6
    assert {f"{c}4:{c}5" for c in "ABCDEFGH"} <= merges(ws)
    row = row_values(ws, 6)
    assert row[2] == "锦民\n〔2020〕9号"  # 锦民〔2020〕9 / 号 in 14: broken before the bracket
    assert joined(row[:8]) == [
        1, "锦江产业功能区科协", "锦民〔2020〕9号", "2020年9月1日", "锦江区功能区大道8号", 40, 300,
        "锦江区科技局",
    ]  # fmt: skip
    assert row[8] == "孙八/主任/\n028-8888"
    assert row[9] == "周九/主任/"
    assert row[13] == "吴十//\n13900000000"
    summary = joined([v for v in row_values(ws, 7) if v not in (None, "")])
    assert summary == [
        "所属区（市）县", "锦江区", "已建功能区科协数量", "1",
        "产业功能区数量", "4", "比例", "25.0%",
    ]  # fmt: skip
    assert ws.max_row == 7
    assert_print_ready(ws, "$4:$5", "A6")


async def test_missing_district_figures_say_so(env: Env) -> None:
    scope = Scope(Level.DISTRICT, YEAR, district_id=env.seeded.other_district_id)
    result = await export(env, ("1-1",), scope)
    ws = load_workbook(result.files[0])["附件1-1"]
    assert ws["A3"].value == "填报单位（盖章）：青羊区科协"
    summary = joined([v for v in row_values(ws, 7) if v not in (None, "")])
    assert summary[1:4] == ["青羊区", "已建企业科协数量", "1个"]
    assert summary[5] == summary[7] == summary[9] == "未填报"


async def test_city_export(env: Env) -> None:
    result = await export(env, ("1-3", "1-1", "1-2"), Scope(Level.CITY, YEAR), thumbnails=False)
    wb = load_workbook(result.files[0])
    # A page for each district with something to list; the 21 others are on the 汇总 with their
    # zeros, and get no blank form.
    assert wb.sheetnames == ["汇总", "锦江区", "青羊区", "明细"]
    assert wb.active.title == "锦江区"  # it opens on the first form
    summary = wb["汇总"]
    assert_one_page(summary)
    lines = {
        summary.cell(r, 2).value or summary.cell(r, 1).value: row_values(summary, r)
        for r in range(3, summary.max_row + 1)
    }
    assert lines["锦江区"][2:6] == [3, 4, 200, "75.0%"]
    assert lines["青羊区"][2:6] == [1, 1, 50, "100.0%"]
    assert lines["合计"][2:6] == [4, 5, 250, "80.0%"]
    assert lines["金牛区"][2:6] == [0, 0, 0, "—"]
    # Each district's form names its district, numbers from 1, and its folders sit under the
    # district's name.
    qingyang = wb["青羊区"]
    assert qingyang["A3"].value == "填报单位（盖章）：青羊区科协"
    assert wb["锦江区"]["A3"].value == "填报单位（盖章）：锦江区科协"
    assert qingyang["A6"].value == 1 and qingyang["C6"].value == "青羊区的活动"
    assert qingyang["H6"].value == "无" and qingyang["H6"].hyperlink is None  # no evidence
    assert wb["锦江区"]["H6"].hyperlink.target.startswith("佐证材料/锦江区/001_")
    assert wb["锦江区"]["H8"].hyperlink.target == "佐证材料/锦江区/003_科技政策解读会/"
    with zipfile.ZipFile(result.files[-1]) as bundle:
        names = set(bundle.namelist())
    for sheet in ("锦江区", "青羊区"):
        ws = wb[sheet]
        for r in range(6, ws.max_row):
            link = ws.cell(r, 8).hyperlink
            assert link is None or link.target in names
    assert {p.name for p in result.files[:3]} <= names  # every workbook is in the bundle
    # The 1-1 workbook's 汇总 carries annex 1-1's figures: enterprise associations only (锦江区
    # has two and a zone association, which the 1-3 汇总 counts), against the district's figures.
    wb11 = load_workbook(result.files[1])
    assert wb11.sheetnames == ["汇总", "锦江区", "青羊区"] and wb11.active.title == "锦江区"
    assert wb11["锦江区"]["A8"].value == "所属区（市）县"
    summary11 = wb11["汇总"]
    assert_one_page(summary11)
    assert joined(row_values(summary11, 2)) == [
        "序号", "区（市）县", "已建企业科协数量", "属地企业数量", "科技企业数量",
        "比例（已建/科技企业）",
    ]  # fmt: skip
    lines11 = {summary11.cell(r, 2).value: row_values(summary11, r) for r in range(3, 26)}
    assert lines11["锦江区"][2:] == [2, 500, 8, "25.0%"]
    assert lines11["青羊区"][2:] == [1, "未填报", "未填报", "未填报"]
    assert row_values(summary11, 26)[0] == "合计" and row_values(summary11, 26)[2:] == [
        3, 500, 8, "25.0%",
    ]  # only the districts that entered their figures count in the ratio  # fmt: skip
    assert summary11["A27"].value.startswith("注：22个区（市）县未填报")
    # The 1-2 workbook: 锦江区 alone has a zone association, so it alone has a page.
    wb12 = load_workbook(result.files[2])
    assert wb12.sheetnames == ["汇总", "锦江区"] and wb12.active.title == "锦江区"
    summary12 = wb12["汇总"]
    assert_one_page(summary12)
    assert row_values(summary12, 3)[1:] == ["锦江区", 1, 4, "25.0%"]
    assert row_values(summary12, 4)[1:] == ["青羊区", 0, "未填报", "未填报"]


async def test_bundle_splits_into_valid_parts(env: Env) -> None:
    result = await export(env, ("1-3",), district_scope(env), thumbnails=False, part_limit=40_000)
    parts = result.files[1:]
    assert len(parts) > 1 and result.bundle_parts == len(parts)
    assert all(re.search(r"_分卷\d+\.zip$", p.name) for p in parts)
    seen: list[str] = []
    for part in parts:
        assert part.stat().st_size <= 40_000
        with zipfile.ZipFile(part) as zf:
            assert zf.testzip() is None
            seen += [n for n in zf.namelist() if not n.endswith("/")]
    assert seen[0] == result.files[0].name  # the workbook travels in the first part
    assert len(seen) == 1 + 7 and len(set(seen)) == len(seen)


async def test_missing_evidence_is_reported_not_fatal(env: Env) -> None:
    async with env.db.session() as session:
        data = await gather(session, district_scope(env), ("1-3",))
    lost = data.activities[0].evidence[0]
    env.store.path_for(lost.sha256).unlink()
    result = write_exports(data, env.out, env.store, TZ)
    assert len(result.missing) == 1 and result.evidence_files == 6


def test_hyperlinks_and_headers_constants_match_spec() -> None:
    assert annex13.HEADERS[-1] == "佐证材料" and annex13.SUBHEADER == "以附件形式提供"
    assert annex11.ANNEX_11.headers[8] == "单位性质（国企/民企）"
    assert len(annex11.ANNEX_11.headers) == len(annex12.ANNEX_12.headers) == 14
