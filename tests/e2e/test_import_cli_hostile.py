"""``kexie import`` has the bot's bounds: hostile files are refused with their sentence, a
sheet of another district is refused naming both, merged cells are reported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from storage.models import Organisation
from tests.harness import Kexie
from tests.hostile_sheets import many_rows, padded, zip_bomb

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


async def _orgs(kexie: Kexie) -> int:
    async with kexie.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def test_cli_refuses_bomb_rows_size_and_legacy_files(
    kexie_idle: Kexie, tmp_path: Path
) -> None:
    kexie = kexie_idle
    cases = {
        "bomb": (zip_bomb(tmp_path / "bomb.xlsx", 60_000_000), "解压后"),
        "rows": (many_rows(tmp_path / "rows.xlsx", 6_000, noise=0), "超过 5 000 行"),
        "size": (padded(tmp_path / "big.xlsx", 11 * 1024 * 1024), "文件太大"),
        "xls": (FIXTURES / "legacy.xls", "另存为"),
        "protected": (FIXTURES / "protected.xlsx", "密码"),
    }
    for case, (path, sentence) in cases.items():
        done = await kexie.cli("import", "1-1", str(path), "--district", "锦江区")
        assert done.rc == 1, (case, done.err)
        assert sentence in done.err, (case, done.err)
        assert "Traceback" not in done.err
    assert await _orgs(kexie) == 0


async def test_cli_refuses_another_district_and_reports_merges(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    other = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_wuhou.xlsx"), "--district", "锦江区"
    )
    assert other.rc == 1
    assert "武侯区" in other.err and "锦江区" in other.err
    assert await _orgs(kexie) == 0
    merged = await kexie.cli(
        "import", "1-1", str(FIXTURES / "annex_1_1_merged_rows.xlsx"), "--district", "锦江区"
    )
    assert merged.rc == 0, merged.err
    assert "合并单元格 C5:C6（批准文号）的内容已用于第5至6行。" in merged.out
