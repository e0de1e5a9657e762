"""``kexie import 1-1|1-2 FILE.xlsx --district NAME`` through the real console script."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.models import Organisation
from tests.harness import Kexie

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def _orgs(kexie: Kexie) -> int:
    async with kexie.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def test_cli_import_all_or_nothing_then_update(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    bad = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_errors.xlsx"), "--district", "锦江区"
    )
    assert bad.rc == 1
    assert "发现 7 处问题，没有导入任何内容" in bad.err
    assert "第2行 J列（主席）：电话号码不正确" in bad.err
    assert "第6行 B列（单位名称）：单位名称与第2行重复。" in bad.err
    assert await _orgs(kexie) == 0

    good = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_merged.xlsx"), "--district", "锦江"
    )
    assert good.rc == 0, good.err
    assert "新增 2 个，更新 0 个" in good.out
    again = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_update.xlsx"), "--district", "锦江区"
    )
    assert again.rc == 0, again.err
    assert "新增 0 个，更新 1 个" in again.out
    assert "~ 成都示例科技有限公司科协" in again.out
    assert await _orgs(kexie) == 2
    async with kexie.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.name == "成都示例科技有限公司科协")
        )
        assert org is not None and org.employees == 350


async def test_cli_import_refuses_wrong_annex_unknown_district_and_missing_file(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    wrong = await kexie.cli(
        "import", "1-2", str(FIXTURES / "annex_1_1_plain.xlsx"), "--district", "锦江区"
    )
    assert wrong.rc == 1 and "这是附件1-1格式的表，不是附件1-2" in wrong.err
    nowhere = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_plain.xlsx"), "--district", "火星区"
    )
    assert nowhere.rc == 2 and "找不到区（市）县“火星区”" in nowhere.err
    missing = await kexie.cli("import", "1-1", "nope.xlsx", "--district", "锦江区")
    assert missing.rc == 2 and "找不到文件" in missing.err
    assert await _orgs(kexie) == 0


async def test_template_filled_with_one_row_imports(kexie_idle: Kexie) -> None:
    """``kexie template 1-1|1-2`` writes the annex's empty form; one row filled, it imports."""
    from openpyxl import load_workbook

    kexie = kexie_idle
    kexie.data_dir.mkdir(parents=True, exist_ok=True)
    rows = {
        "1-1": [
            1, "成都模板示例科技有限公司科协", "成科协〔2024〕8号", "2024年3月1日", 120, 30,
            25, "成都高新区示例路8号", "民企", "刘一/主席/13800000011",
            "陈二/副主席/13800000012\n张三/副主席/028-87654321", None, None,
            "王五/联系人/13800000015",
        ],
        "1-2": [
            1, "成都模板示例产业功能区科协", "成科协〔2024〕9号", "2024年4月1日",
            "成都高新区示例大道9号", 12, 300, "成都模板示例管委会", "赵六/法人代表/13800000020",
            "孙七/主席/13800000021", None, "周八/秘书长/13800000022", None, None,
        ],
    }  # fmt: skip
    for annex, values in rows.items():
        made = await kexie.cli("template", annex)
        assert made.rc == 0, made.err
        path = kexie.data_dir / made.out.splitlines()[0]
        assert (
            path.name
            == f"附件{annex}_{'企业' if annex == '1-1' else '产业功能区'}科协登记表模板.xlsx"
        )
        assert f"kexie import {annex} {path.name} --district" in made.out
        again = await kexie.cli("template", annex)
        assert again.rc == 2 and "已经存在，没有覆盖" in again.err

        empty = await kexie.cli("import", annex, str(path), "--district", "高新区")
        # Unfilled, the form is recognised (no "wrong annex", no "no header"): just no rows.
        assert empty.rc == 1 and "表中没有数据行" in empty.err, empty.err

        workbook = load_workbook(path)
        sheet = workbook.worksheets[0]
        assert sheet.cell(1, 1).value == f"附件{annex}"
        # The two header rows (wherever the form's title lines end), then nothing to clear.
        header = next(r for r in range(1, 10) if sheet.cell(r, 2).value == "单位名称")
        assert sheet.cell(header + 1, 10).value == "姓名/职务/电话"
        assert sheet.max_row == header + 1
        assert f"在第 {header + 2} 行起每行填一个" in made.out
        for column, value in enumerate(values, start=1):
            sheet.cell(header + 2, column).value = value
        filled = kexie.data_dir / f"filled-{annex}.xlsx"
        workbook.save(filled)

        imported = await kexie.cli("import", annex, str(filled), "--district", "高新区")
        assert imported.rc == 0, imported.err
        assert "新增 1 个，更新 0 个" in imported.out and f"+ {values[1]}" in imported.out
    async with kexie.session() as session:
        org = await session.scalar(
            select(Organisation).where(Organisation.name == "成都模板示例科技有限公司科协")
        )
        assert org is not None and org.employees == 120 and org.tech_staff == 30
        zone = await session.scalar(
            select(Organisation).where(Organisation.name == "成都模板示例产业功能区科协")
        )
        assert zone is not None and zone.kind == "zone"
    assert await _orgs(kexie) == 2
