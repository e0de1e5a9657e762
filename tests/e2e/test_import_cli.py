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
