"""``kexie restore`` against hostile backups (issue 19, item 3): a manifest naming a file outside
the backup, symlinks inside it, and malformed manifests are each refused in one line before
anything is written; a restore killed late can simply be run again."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from storage.evidence import open_evidence_store
from storage.models import Activity, Evidence, Member
from tests.export_data import seed_export_data
from tests.harness import Kexie, drop_postgres_database, postgres_database
from tests.standin import StandIn

Mutation = Callable[[Path, dict[str, Any]], None]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _evidence_path(backup: Path, sha: str) -> Path:
    return backup / "evidence" / sha[:2] / sha[2:4] / sha


def _outside_copy(backup: Path, name: str) -> Path:
    """A byte-identical copy of a file of the backup, beside (outside) the backup folder."""
    outside = backup.parent / "outside" / name
    outside.parent.mkdir(exist_ok=True)
    shutil.copyfile(backup / name, outside)
    return outside


def absolute_database(backup: Path, manifest: dict[str, Any]) -> None:
    # An absolute path with the matching digest: the old restore copied it into kexie.db.
    outside = _outside_copy(backup, "kexie.db")
    manifest["database"]["file"] = str(outside)


def dotdot_database(backup: Path, manifest: dict[str, Any]) -> None:
    _outside_copy(backup, "kexie.db")
    manifest["database"]["file"] = "../outside/kexie.db"


def symlinked_database(backup: Path, manifest: dict[str, Any]) -> None:
    outside = _outside_copy(backup, "kexie.db")
    (backup / "kexie.db").unlink()
    (backup / "kexie.db").symlink_to(outside)


def symlinked_evidence(backup: Path, manifest: dict[str, Any]) -> None:
    sha = manifest["evidence"]["files"][2]["sha256"]
    inside = _evidence_path(backup, sha)
    outside = backup.parent / "outside" / sha
    outside.parent.mkdir(exist_ok=True)
    shutil.move(inside, outside)
    inside.symlink_to(outside)


def symlinked_evidence_folder(backup: Path, manifest: dict[str, Any]) -> None:
    outside = backup.parent / "outside-evidence"
    shutil.move(backup / "evidence", outside)
    (backup / "evidence").symlink_to(outside, target_is_directory=True)


def missing_evidence_key(backup: Path, manifest: dict[str, Any]) -> None:
    del manifest["evidence"]


def size_not_a_number(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["evidence"]["files"][0]["size"] = "many"


def files_not_a_list(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["evidence"]["files"] = 7


def database_not_an_object(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["database"] = "kexie.db"


def sha_not_hex(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["evidence"]["files"][0]["sha256"] = "../../../../etc/passwd"


def negative_size(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["database"]["size"] = -1


def included_not_a_bool(backup: Path, manifest: dict[str, Any]) -> None:
    manifest["evidence"]["included"] = "yes"


def database_not_sqlite(backup: Path, manifest: dict[str, Any]) -> None:
    # Digest and size agree with the manifest, but the bytes are no SQLite database.
    (backup / "kexie.db").write_bytes(b"not a database " * 100)
    manifest["database"]["sha256"] = _sha(backup / "kexie.db")
    manifest["database"]["size"] = 1500


HOSTILE: dict[str, Mutation] = {
    "absolute database path": absolute_database,
    "database path with ..": dotdot_database,
    "symlinked database file": symlinked_database,
    "symlinked evidence file": symlinked_evidence,
    "symlinked evidence folder": symlinked_evidence_folder,
    "missing evidence key": missing_evidence_key,
    "size not a number": size_not_a_number,
    "files not a list": files_not_a_list,
    "database not an object": database_not_an_object,
    "sha256 not hex": sha_not_hex,
    "negative size": negative_size,
    "included not a bool": included_not_a_bool,
    "database file not a database": database_not_sqlite,
}


async def make_backup(kexie: Kexie, out: Path) -> dict[str, Any]:
    """Seed ``kexie`` (reports with 7 evidence files) and back it up into ``out``."""
    async with kexie.session() as session:
        await seed_export_data(session, open_evidence_store(kexie.settings))
    made = await kexie.cli("backup", "--out", str(out))
    assert made.rc == 0, made.err
    return dict(json.loads((out / "manifest.json").read_text(encoding="utf-8")))


def write_manifest(backup: Path, manifest: dict[str, Any]) -> None:
    (backup / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def assert_refused_in_one_line(err: str, rc: int) -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    assert err.strip() != "" and err.strip().count("\n") == 0, err


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_backup_is_refused_in_one_line_writing_nothing(
    kexie_idle: Kexie, standin: StandIn, tmp_path: Path, name: str
) -> None:
    backup = tmp_path / "backup"
    manifest = await make_backup(kexie_idle, backup)
    HOSTILE[name](backup, manifest)
    write_manifest(backup, manifest)

    target = Kexie(standin, tmp_path / "restored")
    try:
        refused = await target.cli("restore", str(backup))
    finally:
        await target.db.dispose()
    assert_refused_in_one_line(refused.err, refused.rc)
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == []


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("{", 1),
        ("[" * 100_000, 1),
        ("null", 1),
        ('{"format": 1, "database": {}, "evidence": []}', 3),
    ],
    ids=["truncated", "deeply nested", "null", "three problems"],
)
async def test_a_malformed_manifest_is_one_line_per_problem(
    kexie_idle: Kexie, standin: StandIn, tmp_path: Path, text: str, problems: int
) -> None:
    backup = tmp_path / "backup"
    await make_backup(kexie_idle, backup)
    (backup / "manifest.json").write_text(text, encoding="utf-8")
    target = Kexie(standin, tmp_path / "restored")
    try:
        refused = await target.cli("restore", str(backup))
    finally:
        await target.db.dispose()
    assert refused.rc == 2 and "Traceback" not in refused.err, refused.err
    lines = refused.err.strip().splitlines()
    assert len(lines) == problems and all(line.startswith("manifest.json") for line in lines)
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == []


async def test_a_symlinked_manifest_is_refused(
    kexie_idle: Kexie, standin: StandIn, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    await make_backup(kexie_idle, backup)
    outside = _outside_copy(backup, "manifest.json")
    (backup / "manifest.json").unlink()
    (backup / "manifest.json").symlink_to(outside)
    target = Kexie(standin, tmp_path / "restored")
    try:
        refused = await target.cli("restore", str(backup))
    finally:
        await target.db.dispose()
    assert_refused_in_one_line(refused.err, refused.rc)
    assert "符号链接" in refused.err
    assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == []


# --- a restore killed late -------------------------------------------------------------------

# Run ``kexie restore`` in a process that kills itself (SIGKILL: no cleanup, no finally) at a
# chosen point, as a power cut or the OOM killer would.
KILLED_AT = {
    # The last step: the migrations have run, the process dies before it can say so.
    "after the migrations": """
from alembic import command
real = command.upgrade
def dying(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
command.upgrade = dying
""",
    # Half-way through copying the evidence.
    "amid the evidence": """
from storage.evidence import EvidenceStore
real = EvidenceStore.put_file
copied = []
def dying(self, source):
    if len(copied) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    copied.append(source)
    return real(self, source)
EvidenceStore.put_file = dying
""",
}


async def killed_restore(target: Kexie, backup: Path, where: str) -> int:
    script = (
        f"import os, signal, sys\n{KILLED_AT[where]}\nfrom bot.cli import main\nsys.exit(main())"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        "restore",
        str(backup),
        env=target.env,
        cwd=target.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    return proc.returncode


async def counts(kexie: Kexie) -> tuple[int, ...]:
    async with kexie.session() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Activity, Evidence, Member)
            ]
        )


@pytest.fixture
async def restore_target(
    standin: StandIn, tmp_path: Path, backend: str | None
) -> AsyncIterator[Kexie]:
    """An empty installation of the same kind as ``kexie_idle`` (its own PostgreSQL database)."""
    name = None
    url = None
    if backend is not None:
        made = await postgres_database()
        assert made is not None
        url, name = made
    target = Kexie(standin, tmp_path / "restored", url)
    yield target
    await target.db.dispose()
    if name is not None:
        await drop_postgres_database(name)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("where", list(KILLED_AT))
async def test_a_killed_restore_can_be_run_again(
    kexie_idle: Kexie, restore_target: Kexie, tmp_path: Path, where: str
) -> None:
    backup = tmp_path / "backup"
    await make_backup(kexie_idle, backup)
    before = await counts(kexie_idle)

    await killed_restore(restore_target, backup, where)
    again = await restore_target.cli("restore", str(backup))
    assert again.rc == 0, again.err
    assert "佐证文件 7 个" in again.out
    assert await counts(restore_target) == before
    store = open_evidence_store(restore_target.settings)
    assert sorted(sha for sha, _size in store.entries()) == sorted(
        f["sha256"] for f in json.loads((backup / "manifest.json").read_text())["evidence"]["files"]
    )
    # Done now: a third run is refused as for any installation with data.
    third = await restore_target.cli("restore", str(backup))
    assert third.rc == 2 and "不是空的" in third.err
    if restore_target.settings.db_url.startswith("sqlite"):
        leftovers = [p.name for p in restore_target.data_dir.iterdir() if "restoring" in p.name]
        assert leftovers == []
    assert os.listdir(backup)  # the backup itself is untouched
