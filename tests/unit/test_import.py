"""The registry import: all-or-nothing, errors by row and column, re-import updates by name."""

from __future__ import annotations

import functools
import io
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select

from core.enums import OrgKind
from core.registry_rules import Person, fields_for
from core.texts import plain
from exports.scope import Level, Scope
from exports.service import gather, write_exports
from storage.db import Database
from storage.evidence import EvidenceStore
from storage.import_sheet import ANNEXES, read_sheet
from storage.importer import error_lines, import_registry
from storage.models import District, Organisation
from storage.officers import people_of, replace_officers
from storage.registry import (
    create_organisation,
    district_by_name,
    load_organisation,
    missing_fields,
)
from tests import forms_world

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TODAY = date(2021, 11, 5)


def sheet(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


async def _district(db: Database, name: str = "锦江区") -> District:
    async with db.session() as session:
        found = await district_by_name(session, name)
        assert found is not None
        return found


async def _org(db: Database, name: str) -> Organisation:
    async with db.session() as session:
        org_id = await session.scalar(select(Organisation.id).where(Organisation.name == name))
        assert org_id is not None
        org = await load_organisation(session, org_id)
        assert org is not None
        return org


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def test_merged_annex_1_1_is_imported_with_every_field(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        result = await import_registry(
            session, district, "1-1", sheet("annex_1_1_merged.xlsx"), TODAY
        )
    assert result.ok, result.errors
    assert result.created == ["成都示例科技有限公司科协", "锦江示例制造集团科协"]
    assert result.updated == []
    org = await _org(db, "成都示例科技有限公司科协")
    assert org.kind == OrgKind.ENTERPRISE and org.district_id == district.id
    assert (org.approval_no, org.approval_date) == ("成科协〔2019〕12号", date(2019, 5, 20))
    assert (org.employees, org.tech_staff, org.association_members) == (320, 85, 60)
    assert (org.address, org.ownership) == ("成都市锦江区示例路1号", "民企")
    assert people_of(org, "chair") == [Person("张三", "主席", "13800000000")]
    assert people_of(org, "vice_chair") == [
        Person("李四", "副主席", "13900000001"),
        Person("王五", "副主席", "028-12345678"),
    ]
    assert people_of(org, "contact") == [Person("孙八", "科协干事", "13500000004")]
    assert missing_fields(org) == []
    second = await _org(db, "锦江示例制造集团科协")
    assert second.approval_date == date(2020, 8, 1)  # typed as 2020年8月1日
    assert people_of(second, "chair") == [Person("周九", "总工程师", "028-87654321")]
    assert [f.key for f in missing_fields(second)] == ["deputy_secretary_general"]


async def test_reimport_updates_by_name_and_keeps_empty_cells(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        await import_registry(session, district, "1-1", sheet("annex_1_1_merged.xlsx"), TODAY)
    async with db.session() as session:
        result = await import_registry(
            session, district, "1-1", sheet("annex_1_1_update.xlsx"), TODAY
        )
    assert result.ok
    assert (result.created, result.updated) == ([], ["成都示例科技有限公司科协"])
    assert await _count(db) == 2
    org = await _org(db, "成都示例科技有限公司科协")
    assert (org.employees, org.tech_staff) == (350, 90)
    assert org.approval_no == "成科协〔2019〕12号"  # empty cell: kept
    assert people_of(org, "chair") == [Person("张三丰", "主席", "13800000009")]
    assert len(people_of(org, "vice_chair")) == 2  # empty cell: kept


async def test_existing_association_made_in_chat_is_updated_not_duplicated(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        await create_organisation(session, district, OrgKind.ENTERPRISE, "成都简表科技公司科协")
    async with db.session() as session:
        result = await import_registry(
            session, district, "1-1", sheet("annex_1_1_plain.xlsx"), TODAY
        )
    assert result.ok and result.updated == ["成都简表科技公司科协"]
    org = await _org(db, "成都简表科技公司科协")
    assert org.approval_date == date(2018, 3, 15)
    assert await _count(db) == 1


async def test_any_error_imports_nothing_and_names_row_and_column(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        result = await import_registry(
            session, district, "1-1", sheet("annex_1_1_errors.xlsx"), TODAY
        )
    assert not result.ok
    assert {(e.row, e.column, e.key) for e in result.errors} == {
        (2, "J", "reg_err_phone"),
        (3, "F", "reg_err_tech_exceeds"),
        (4, "E", "reg_err_count_negative"),
        (5, "D", "reg_err_date_future"),
        (5, "I", "reg_err_ownership"),
        (6, "B", "imp_err_duplicate"),
        (7, "B", "imp_err_name_missing"),
    }
    assert await _count(db) == 0  # not even the correct row 8
    lines = error_lines(result, functools.partial(plain, "zh"))
    assert (
        lines[0]
        == "第2行 J列（主席）：电话号码不正确：手机号为11位（1开头），座机写成 028-12345678。"
    )


async def test_tech_staff_checked_against_the_registry(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        await import_registry(session, district, "1-1", sheet("annex_1_1_merged.xlsx"), TODAY)
        org_id = await session.scalar(
            select(Organisation.id).where(Organisation.name == "成都示例科技有限公司科协")
        )
    async with db.session() as session:
        org = await load_organisation(session, org_id or 0)
        assert org is not None
        org.employees, org.tech_staff = 1000, 95
    async with db.session() as session:
        # The update sheet sets 350 employees and 90 tech staff together: fine.
        result = await import_registry(
            session, district, "1-1", sheet("annex_1_1_update.xlsx"), TODAY
        )
    assert result.ok


async def test_zone_annex_1_2_with_hint_row_and_form(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        result = await import_registry(
            session, district, "1-2", sheet("annex_1_2_zone.xlsx"), TODAY
        )
    assert result.ok, result.errors
    org = await _org(db, "锦江示例产业功能区科协")
    assert org.kind == OrgKind.ZONE
    assert (org.unit_members, org.individual_members) == (35, 420)
    assert org.secretariat_unit == "锦江示例园区管委会"
    assert org.zone_form == "内设"
    assert people_of(org, "legal_rep") == [Person("何法人", "主任", "028-66668888")]
    assert missing_fields(org) == []


async def test_wrong_annex_unreadable_and_kind_clash(db: Database) -> None:
    district = await _district(db)
    async with db.session() as session:
        wrong = await import_registry(
            session, district, "1-2", sheet("annex_1_1_plain.xlsx"), TODAY
        )
        broken = await import_registry(session, district, "1-1", sheet("not_a_sheet.xlsx"), TODAY)
    assert [e.key for e in wrong.errors] == ["imp_err_wrong_annex"]
    assert [e.key for e in broken.errors] == ["imp_err_unreadable"]
    async with db.session() as session:
        await create_organisation(session, district, OrgKind.ZONE, "成都简表科技公司科协")
    async with db.session() as session:
        clash = await import_registry(
            session, district, "1-1", sheet("annex_1_1_plain.xlsx"), TODAY
        )
    assert [(e.row, e.column, e.key) for e in clash.errors] == [(2, "B", "imp_err_kind_clash")]


async def test_same_name_in_another_district_is_another_association(db: Database) -> None:
    jinjiang, qingyang = await _district(db, "锦江区"), await _district(db, "青羊区")
    async with db.session() as session:
        await import_registry(session, jinjiang, "1-1", sheet("annex_1_1_plain.xlsx"), TODAY)
    async with db.session() as session:
        result = await import_registry(
            session, qingyang, "1-1", sheet("annex_1_1_plain.xlsx"), TODAY
        )
    assert result.created == ["成都简表科技公司科协"]
    assert await _count(db) == 2


def test_read_sheet_detects_the_annex() -> None:
    assert read_sheet(sheet("annex_1_1_merged.xlsx"), None, TODAY).kind == OrgKind.ENTERPRISE
    assert read_sheet(sheet("annex_1_2_zone.xlsx"), None, TODAY).kind == OrgKind.ZONE


def _book(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    from openpyxl import Workbook

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


def test_header_variants_grouped_persons_and_the_guides_unclosed_bracket() -> None:
    """A group header (负责人) over the person columns, line breaks and full-width spaces in
    headers, the guide's ``单位性质（国企/民企`` without its closing bracket, a hint row."""
    head = ["序号", "单位名称", "批准文号", "批准时间", "员工\n总数", "科技人员数", "科协　会员数",
            "通信地址", "单位性质（国企/民企", "负责人", None, None, None, None]  # fmt: skip
    names = [None] * 9 + ["主席", "副主席", "秘书长", "副秘书长", "联系人"]
    hints = [None] * 9 + ["姓名/职务/电话"] * 5
    row = [1, "分组表头科协", "文号1", "2020-01-02", 10, 2, 3, "地址", "国有企业",
           "甲/主席/13800000000", None, None, None, "乙/联系人/028-12345678"]  # fmt: skip
    data = _book([["附件1-1"], head, names, hints, row], merges=("J2:N2",))
    parsed = read_sheet(data, "1-1", TODAY)
    assert parsed.errors == []
    assert [r.name for r in parsed.rows] == ["分组表头科协"]
    values = parsed.rows[0].values
    assert values["employees"] == 10 and values["association_members"] == 3
    assert values["ownership"] == "国企"
    assert values["chair"] == [Person("甲", "主席", "13800000000")]
    assert values["contact"] == [Person("乙", "联系人", "028-12345678")]
    assert parsed.rows[0].columns["contact"] == "N"


def test_missing_columns_are_named() -> None:
    data = _book([["序号", "单位名称", "员工总数", "科技人员数"], [1, "缺列科协", 5, 1]])
    parsed = read_sheet(data, "1-1", TODAY)
    missing = {e.header for e in parsed.errors if e.key == "imp_err_column_missing"}
    assert "批准文号" in missing and "联系人" in missing and "员工总数" not in missing
    assert parsed.rows == []


async def test_an_export_imported_back_changes_nothing(db: Database, tmp_path: Path) -> None:
    """锦江区's associations of the forms world (tests/forms_world.py: long names, addresses the
    export breaks so no line is one character) exported as annexes 1-1 and 1-2 and imported
    back: every association found by its name, no duplicate, every field as it was."""
    district = await _district(db)
    unique = {o.name: o for o in forms_world.orgs()[::-1] if o.district_name == "锦江区"}
    world = list(unique.values())[::-1]  # names are unique in a district: the first of each
    async with db.session() as session:
        for row in world:
            org = Organisation(district_id=district.id, kind=row.kind, name=row.name, officers=[])
            for spec in fields_for(OrgKind(row.kind)):
                if spec.kind == "person":
                    people = [
                        Person(p.name, p.title or "", p.phone or "")
                        for p in row.officers.get(spec.key, ())
                    ]
                    replace_officers(org, spec.key, people)
                elif spec.key != "zone_form":
                    setattr(org, spec.key, getattr(row, spec.key))
            session.add(org)
    async with db.session() as session:
        data = await gather(
            session,
            Scope(Level.DISTRICT, forms_world.YEAR, district_id=district.id),
            ("1-1", "1-2"),
        )
    files = write_exports(
        data, tmp_path / "out", EvidenceStore(tmp_path / "evidence"), ZoneInfo("Asia/Shanghai"),
        thumbnails=False, bundle=False,
    )  # fmt: skip
    broken: list[str] = []
    for path in files.files:
        annex = path.name[2:5]
        rows = load_workbook(path).active.iter_rows(min_row=6, max_col=8, values_only=True)
        broken += [v for row in rows for v in row if isinstance(v, str) and "\n" in v]
        async with db.session() as session:
            result = await import_registry(
                session, district, annex, path.read_bytes(), date(2021, 12, 31)
            )
        assert result.ok, result.errors
        mine = [o.name for o in world if o.kind == ANNEXES[annex]]
        assert (result.created, sorted(result.updated)) == ([], sorted(mine))
    # The file broke names and addresses (and a 秘书长执行单位), each read back whole.
    assert "成都锦江区轨道\n交通装备制造\n科学技术协会" in broken and len(broken) >= 5, broken
    assert await _count(db) == len(world)
    for row in world:
        org = await _org(db, row.name)
        for spec in fields_for(OrgKind(row.kind)):
            if spec.kind == "person":
                expected = [(p.name, p.title, p.phone) for p in row.officers.get(spec.key, ())]
                assert [(p.name, p.title, p.phone) for p in people_of(org, spec.key)] == expected
            elif spec.key != "zone_form":
                assert getattr(org, spec.key) == getattr(row, spec.key), (row.name, spec.key)
