"""storage/backup.py, storage/backup_manifest.py and storage/restore.py below the CLI:
PostgreSQL with and without ``pg_dump``, evidence in a bucket (listed, not copied), a local
backup restored into a bucket, refusals, the manifest's checks and the restore marker."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from storage.backup import BackupError, backup
from storage.backup_manifest import (
    DatabaseEntry,
    EvidenceList,
    Manifest,
    parse_manifest,
    read_manifest,
    verify,
)
from storage.db import Database
from storage.evidence import open_evidence_store
from storage.restore import (
    check_empty,
    mark_restoring,
    restore_database,
    restore_evidence,
    unmark_restoring,
)
from tests.export_data import seed_export_data
from tests.harness import Kexie
from tests.s3_server import S3Server, moto_s3

PG_URL = "postgresql+asyncpg://kexie:pa55-word@127.0.0.1:5433/kexie"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


async def seeded(db: Database, settings: Settings) -> None:
    async with db.session() as session:
        await seed_export_data(session, open_evidence_store(settings))


def manifest_of(kind: str, file: str | None) -> Manifest:
    """A manifest naming only a database."""
    nothing = EvidenceList("local", "", False, (), ())
    return Manifest("2026-06-10T08:00:00+00:00", DatabaseEntry(kind, file), nothing, "0" * 64)


def sqlite_settings(tmp_path: Path, name: str = "data", **kw: object) -> Settings:
    """Settings of the ``db`` fixture's SQLite file, with their own data dir."""
    kw.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}")
    return load_settings(data_dir=tmp_path / name, **kw)


async def test_postgres_without_pg_dump_says_so_in_one_line(db: Database, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", database_url=PG_URL)
    await seeded(db, settings)  # (the rows live in the test's SQLite; the URL decides the kind)
    outcome = await backup(settings, db, tmp_path / "out", which=lambda _name: None)
    assert len(outcome.notes) == 1 and "pg_dump" in outcome.notes[0]
    manifest = read_manifest(tmp_path / "out")
    assert manifest.database == DatabaseEntry("postgresql", None)
    assert outcome.files == 7 and len(manifest.evidence.files) == 7


async def test_postgres_is_dumped_by_pg_dump_without_the_password_in_argv(
    db: Database, tmp_path: Path
) -> None:
    fake = tmp_path / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" > {tmp_path}/argv\n'
        f'echo "$PGPASSWORD" > {tmp_path}/password\n'
        'while [ "$1" != "--file" ]; do shift; done\n'
        'echo dump > "$2"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    settings = load_settings(data_dir=tmp_path / "data", database_url=PG_URL)
    await backup(settings, db, tmp_path / "out", which=lambda _name: str(fake))
    argv = (tmp_path / "argv").read_text()
    assert "pa55-word" not in argv and "postgresql://kexie@127.0.0.1:5433/kexie" in argv
    assert "--format=custom" in argv
    assert (tmp_path / "password").read_text().strip() == "pa55-word"
    manifest = read_manifest(tmp_path / "out")
    assert manifest.database.file == "kexie.pgdump" and manifest.database.size == 5
    verify(tmp_path / "out", manifest)


async def test_a_failing_pg_dump_fails_the_backup(db: Database, tmp_path: Path) -> None:
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'connection refused' >&2\nexit 1\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    settings = load_settings(data_dir=tmp_path / "data", database_url=PG_URL)
    with pytest.raises(BackupError, match="connection refused"):
        await backup(settings, db, tmp_path / "out", which=lambda _name: str(fake))
    assert not (tmp_path / "out" / "manifest.json").exists()


async def test_a_bucket_is_listed_not_copied(db: Database, tmp_path: Path, s3: S3Server) -> None:
    bucket = s3.bucket()
    settings = sqlite_settings(tmp_path, **s3.settings(bucket))
    await seeded(db, settings)
    outcome = await backup(settings, db, tmp_path / "out")
    manifest = read_manifest(tmp_path / "out")
    assert manifest.evidence.store == "s3" and not manifest.evidence.included
    assert len(manifest.evidence.files) == 7 and outcome.files == 7
    assert not (tmp_path / "out" / "evidence").exists()
    assert any(bucket in n and "自身的方式备份" in n for n in outcome.notes)
    assert "kexie-test-secret" not in (tmp_path / "out" / "manifest.json").read_text()

    # Restoring that manifest checks the bucket: all there ...
    same = open_evidence_store(settings)
    assert restore_evidence(tmp_path / "out", manifest, same).files == 7
    # ... or says how many are not.
    empty = open_evidence_store(sqlite_settings(tmp_path, "other", **s3.settings(s3.bucket())))
    checked = restore_evidence(tmp_path / "out", manifest, empty)
    assert checked.files == 0 and "7 个佐证文件不在" in checked.notes[0]


async def test_a_local_backup_restores_into_a_bucket(
    db: Database, tmp_path: Path, s3: S3Server
) -> None:
    settings = sqlite_settings(tmp_path)
    await seeded(db, settings)
    await backup(settings, db, tmp_path / "out")
    manifest = read_manifest(tmp_path / "out")
    bucket = s3.bucket()
    target = open_evidence_store(sqlite_settings(tmp_path, "new", **s3.settings(bucket)))
    restored = restore_evidence(tmp_path / "out", manifest, target)
    listed = {f.sha256: f.size for f in manifest.evidence.files}
    assert restored.files == 7
    assert s3.keys(bucket) == {
        f"evidence/{sha[:2]}/{sha[2:4]}/{sha}": size for sha, size in listed.items()
    }


async def test_refusals(db: Database, tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, database_url=None)
    await seeded(db, settings)
    with pytest.raises(BackupError, match="找不到数据库文件"):
        await backup(settings, db, tmp_path / "out")  # this data dir has no database yet
    with pytest.raises(BackupError, match=r"没有 manifest\.json"):
        read_manifest(tmp_path)
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "manifest.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(BackupError, match="格式不认识"):
        read_manifest(tmp_path / "odd")
    sqlite_backup = manifest_of("sqlite", "kexie.db")
    pg_target = load_settings(data_dir=tmp_path / "pg", database_url=PG_URL)
    with pytest.raises(BackupError, match="备份的数据库是 sqlite，而目标是 postgresql"):
        restore_database(pg_target, tmp_path, sqlite_backup)
    pg_backup = manifest_of("postgresql", "kexie.pgdump")
    with pytest.raises(BackupError, match="未找到 pg_restore"):
        restore_database(pg_target, tmp_path, pg_backup, which=lambda _name: None)


GOOD = {
    "format": 1,
    "created_at": "2026-06-10T08:00:00+00:00",
    "database": {"kind": "sqlite", "file": "kexie.db", "sha256": "a" * 64, "size": 4096},
    "evidence": {
        "store": "local",
        "location": "/srv/kexie/evidence",
        "included": True,
        "files": [{"sha256": "b" * 64, "size": 10}],
        "missing": [],
    },
}


def with_field(path: str, value: object) -> bytes:
    """GOOD with the field at dotted ``path`` (list items by number) set to ``value``."""
    manifest = json.loads(json.dumps(GOOD))
    *parents, last = path.split(".")
    node = manifest
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return json.dumps(manifest).encode()


def test_a_good_manifest_parses() -> None:
    manifest = parse_manifest(json.dumps(GOOD).encode())
    assert manifest.database == DatabaseEntry("sqlite", "kexie.db", "a" * 64, 4096)
    assert manifest.evidence.included and manifest.evidence.files[0].size == 10


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        ("format", True, "格式不认识"),
        ("format", 1.0, "格式不认识"),
        ("created_at", "yesterday", "created_at 不是 ISO 时间"),
        ("database.kind", "mysql", "database.kind 须为 sqlite 或 postgresql"),
        ("database.file", "/etc/passwd", "database.file 须为备份文件夹内的相对路径"),
        ("database.file", "a/../../kexie.db", "database.file 须为备份文件夹内的相对路径"),
        ("database.file", "..\\kexie.db", "database.file 须为备份文件夹内的相对路径"),
        ("database.file", None, "database.file 缺失"),
        ("database.size", True, "database.size 须为不小于 0 的整数"),
        ("database.size", 4096.0, "database.size 须为不小于 0 的整数"),
        ("database.sha256", "A" * 64, "database.sha256 须为 64 位小写十六进制 sha256"),
        ("evidence.files.0", "b" * 64, "evidence.files[0] 不是对象"),
        ("evidence.files.0.size", None, "evidence.files[0].size 须为不小于 0 的整数"),
        ("evidence.missing", {"x": 1}, "evidence.missing 不是列表"),
        ("evidence.missing", ["../x"], "evidence.missing[0] 须为 64 位小写十六进制 sha256"),
        ("evidence.store", 3, "evidence.store 缺失或不是字符串"),
    ],
)
def test_each_wrong_field_is_one_line(path: str, value: object, says: str) -> None:
    with pytest.raises(BackupError) as raised:
        parse_manifest(with_field(path, value))
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_many_problems_are_counted_after_ten_lines() -> None:
    files = [{"sha256": "x", "size": -1} for _ in range(20)]
    with pytest.raises(BackupError) as raised:
        parse_manifest(with_field("evidence.files", files))
    lines = str(raised.value).splitlines()
    assert len(lines) == 11 and lines[-1].startswith("…另有 30 处问题")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_the_marker_lets_only_the_same_backup_through(kexie_idle: Kexie) -> None:
    settings = kexie_idle.settings  # migrated, the districts seeded: not empty
    with pytest.raises(BackupError, match="不是空的"):
        await check_empty(settings, "a" * 64)
    await mark_restoring(settings, "a" * 64)
    await check_empty(settings, "a" * 64)  # the same backup, half-restored: go on
    with pytest.raises(BackupError, match="另一份备份未完成的恢复"):
        await check_empty(settings, "b" * 64)
    await unmark_restoring(settings)
    with pytest.raises(BackupError, match="不是空的"):
        await check_empty(settings, "a" * 64)
