"""``kexie backup`` and ``kexie restore`` through the real console script: a seeded installation
(reports with evidence, the registry, members) is backed up while it is in use, restored onto an
empty data dir, and exports the same annexes afterwards."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from storage.evidence import open_evidence_store
from storage.models import Activity, Evidence, Member, Organisation
from tests.export_data import YEAR, seed_export_data
from tests.harness import CliResult, Kexie
from tests.standin import StandIn


async def seeded_installation(kexie: Kexie) -> None:
    async with kexie.session() as session:
        await seed_export_data(session, open_evidence_store(kexie.settings))
    await kexie.member(5001, "district_admin", district="锦江区")


async def export_all(kexie: Kexie, out: Path) -> CliResult:
    result = await kexie.cli(
        "export", "all", "--year", str(YEAR), "--district", "锦江区", "--out", str(out)
    )
    assert result.rc == 0, result.err
    return result


def cell_values(data: bytes) -> dict[str, list[list[object]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in workbook}


def contents(folder: Path) -> dict[str, object]:
    """Every exported file: a workbook by its cell values, a zip by its members (workbooks in
    it by cell values, evidence by bytes). Workbooks carry the moment they were written, so
    their bytes differ from one export to the next; what they say must not."""
    found: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            found[path.name] = cell_values(path.read_bytes())
        elif path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                found[path.name] = {
                    name: cell_values(zf.read(name)) if name.endswith(".xlsx") else zf.read(name)
                    for name in zf.namelist()
                }
    return found


async def counts(kexie: Kexie) -> tuple[int, ...]:
    async with kexie.session() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Activity, Evidence, Organisation, Member)
            ]
        )


async def test_backup_then_restore_exports_the_same_annexes(
    kexie_idle: Kexie, standin: StandIn, tmp_path: Path
) -> None:
    await kexie_idle.start()  # backed up while the bot runs: the copy must still be consistent
    await seeded_installation(kexie_idle)
    before = await counts(kexie_idle)
    await export_all(kexie_idle, tmp_path / "before")
    made = await kexie_idle.cli("backup", "--out", str(tmp_path / "backup"))
    assert made.rc == 0, made.err
    assert "佐证文件 7 个" in made.out and made.err == ""
    await kexie_idle.stop()

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"]["kind"] == "sqlite" and manifest["evidence"]["included"]
    listed = {f["sha256"]: f["size"] for f in manifest["evidence"]["files"]}
    assert len(listed) == 7 and manifest["evidence"]["missing"] == []
    for sha, size in listed.items():
        copy = tmp_path / "backup" / "evidence" / sha[:2] / sha[2:4] / sha
        assert copy.stat().st_size == size and hashlib.sha256(copy.read_bytes()).hexdigest() == sha

    target = Kexie(standin, tmp_path / "restored")
    try:
        restored = await target.cli("restore", str(tmp_path / "backup"))
        assert restored.rc == 0, restored.err
        assert "佐证文件 7 个" in restored.out
        assert await counts(target) == before
        await export_all(target, tmp_path / "after")
        again = await target.cli("restore", str(tmp_path / "backup"))
    finally:
        await target.db.dispose()
    assert contents(tmp_path / "after") == contents(tmp_path / "before")
    assert {p.name for p in (tmp_path / "after").iterdir()} == {
        f"附件1-3_{YEAR}年锦江区.xlsx",
        f"附件1-1_{YEAR}年锦江区.xlsx",
        f"附件1-2_{YEAR}年锦江区.xlsx",
        f"{YEAR}年锦江区_附件及佐证材料.zip",
    }
    # Restoring onto an installation that has data is refused, in one line, changing nothing.
    assert again.rc == 2
    assert again.err.strip().count("\n") == 0 and "不是空的" in again.err


async def test_a_damaged_backup_is_refused_before_anything_changes(
    kexie: Kexie, standin: StandIn, tmp_path: Path
) -> None:
    await seeded_installation(kexie)
    made = await kexie.cli("backup", "--out", str(tmp_path / "backup"))
    assert made.rc == 0, made.err
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text(encoding="utf-8"))
    sha = manifest["evidence"]["files"][3]["sha256"]
    copy = tmp_path / "backup" / "evidence" / sha[:2] / sha[2:4] / sha
    data = bytearray(copy.read_bytes())
    data[-1] ^= 0x01  # one flipped bit, same size
    copy.write_bytes(bytes(data))

    target = Kexie(standin, tmp_path / "restored")
    try:
        refused = await target.cli("restore", str(tmp_path / "backup"))
    finally:
        await target.db.dispose()
    assert refused.rc == 2
    assert "1 个佐证文件与清单不符" in refused.err and refused.err.strip().count("\n") == 0
    assert not (tmp_path / "restored" / "kexie.db").exists()
    assert not (tmp_path / "restored" / "evidence").exists()


async def test_backup_refuses_a_folder_that_is_not_empty(kexie_idle: Kexie, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "old.txt").write_text("x")
    result = await kexie_idle.cli("backup", "--out", str(tmp_path / "used"))
    assert result.rc == 2 and "不是空文件夹" in result.err
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["old.txt"]
