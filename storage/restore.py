"""``kexie restore DIR``: a backup (storage/backup.py) put onto an empty installation.

The backup is read only through storage/backup_manifest.py (every field checked, every file
from inside the folder) and verified whole before anything is written. Then the evidence is
copied into the configured store (content-addressed, so copying twice is harmless) and the
database is put in place last.

A restore killed at any point can be run again with the same backup:

- SQLite: the database is copied to a file beside the target, migrated there, and moved over
  the target with ``os.replace``; until that rename the target is exactly as empty as before.
- PostgreSQL: ``pg_restore`` must write into the live database, so a marker table naming the
  backup (the sha256 of its manifest) is created first and dropped last. The emptiness check
  lets a database holding that marker through when the same backup is restored again;
  ``pg_restore --clean`` then replaces what the killed run left.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy import Column, MetaData, String, Table, inspect, literal, select, table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.settings import Settings
from storage.backup import (
    BackupError,
    Outcome,
    Which,
    backend_of,
    libpq,
    run_tool,
    sqlite_path,
)
from storage.backup_manifest import (
    Manifest,
    evidence_name,
    inside,
    open_inside,
    read_manifest,
    verify,
)
from storage.db import Database
from storage.evidence import CHUNK, EvidenceStorage, open_evidence_store
from storage.migrate import upgrade

# Not in the models' metadata: it exists only while a restore runs, and never in a migration.
MARKER = Table(
    "kexie_restore_in_progress", MetaData(), Column("backup", String(64), nullable=False)
)
# Left by SQLite beside a database file; a stale one must never meet another database.
SIDECARS = ("-wal", "-shm", "-journal")


def restore(settings: Settings, source: Path, *, which: Which = shutil.which) -> Outcome:
    """Verify the backup in ``source`` and restore it onto this installation (blocking; call it
    outside a running event loop). BackupError, with nothing written, when it cannot."""
    manifest = read_manifest(source)
    verify(source, manifest)  # every file, before anything changes
    _preflight(settings, source, manifest, which)
    asyncio.run(check_empty(settings, manifest.digest))
    try:
        if manifest.database.kind == "sqlite":
            # Staged (copied, migrated) before the evidence, so a database the migrations
            # refuse is found while nothing has been written yet.
            staged = stage_sqlite(settings, source, manifest)
            outcome = restore_evidence(source, manifest, open_evidence_store(settings))
            install_sqlite(settings, staged)
        else:
            outcome = restore_evidence(source, manifest, open_evidence_store(settings))
            outcome.notes.extend(restore_database(settings, source, manifest, which=which))
    except OSError as exc:  # a full disk, an unreachable bucket: fix it and run again
        why = exc.strerror or type(exc).__name__
        raise BackupError(
            f"恢复中断：{why}；排除后用同一份备份重新运行即可 / "
            "restore stopped: fix this and run it again with the same backup"
        ) from None
    return outcome


def _preflight(settings: Settings, source: Path, manifest: Manifest, which: Which) -> None:
    """Refuse what restore_database would refuse, before the evidence is copied."""
    kind, target_kind = manifest.database.kind, backend_of(settings)
    if kind != target_kind:
        raise BackupError(
            f"备份的数据库是 {kind}，而目标是 {target_kind}，无法直接恢复 / "
            "the backup's database kind differs from the target's"
        )
    if kind == "postgresql" and manifest.database.file and which("pg_restore") is None:
        raise BackupError(
            f"未找到 pg_restore：请用 pg_restore --no-owner -d 数据库URL "
            f"{source / manifest.database.file} 恢复数据库 / "
            "pg_restore not found: restore the dump with pg_restore"
        )


async def occupied_table(conn: AsyncConnection, names: list[str]) -> str | None:
    """The first of ``names`` holding a row (the migrations' bookkeeping and the restore
    marker aside), or None."""
    for name in sorted(names):
        if name in ("alembic_version", MARKER.name):
            continue
        if (await conn.execute(select(literal(1)).select_from(table(name)).limit(1))).first():
            return str(name)
    return None


async def check_empty(settings: Settings, backup: str) -> None:
    """Refuse (BackupError) unless the target database is absent, holds no rows, or holds an
    unfinished restore of this same ``backup`` (a manifest digest)."""
    if backend_of(settings) == "sqlite" and not sqlite_path(settings).exists():
        return
    db = Database(settings.db_url)
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
            if MARKER.name in names:
                started = list((await conn.execute(select(MARKER.c.backup))).scalars())
                if started == [backup]:
                    return  # the same backup, killed half-way: run it again
                raise BackupError(
                    "目标数据库里有另一份备份未完成的恢复；请用那份备份重新运行 kexie restore / "
                    "an unfinished restore of another backup is in the target: run that again"
                )
            busy = await occupied_table(conn, names)
    except (SQLAlchemyError, OSError) as exc:  # unreachable, or a file that is no database
        raise BackupError(
            f"无法读取目标数据库 / cannot read the target database: {type(exc).__name__}"
        ) from None
    finally:
        await db.dispose()
    if busy is not None:
        raise BackupError(
            f"目标数据库不是空的（{busy} 表已有数据），拒绝恢复；请指向一个空的数据目录 / "
            "the target database is not empty: restore refused"
        )


def restore_evidence(source: Path, manifest: Manifest, store: EvidenceStorage) -> Outcome:
    """Copy the backup's evidence into ``store``; for a backup that only lists its objects,
    check the store already holds them."""
    outcome = Outcome()
    evidence = manifest.evidence
    absent = 0
    for item in evidence.files:
        if evidence.included:
            path = inside(source, evidence_name(item.sha256))
            if store.put_file(path) != item.sha256:
                raise BackupError(
                    f"佐证文件 {item.sha256[:12]}… 在复制时改变了 / changed while copied"
                )
        elif store.size(item.sha256) != item.size:
            absent += 1
            continue
        outcome.files += 1
        outcome.size += item.size
    if absent:
        outcome.notes.append(
            f"注意：清单中的 {absent} 个佐证文件不在 {store.describe()}，请先恢复存储桶 / "
            f"{absent} listed objects are not in the bucket: restore the bucket first"
        )
    return outcome


def restore_database(
    settings: Settings, source: Path, manifest: Manifest, *, which: Which = shutil.which
) -> list[str]:
    """Put the backed-up database in place and migrate it to today's schema (blocking);
    return lines for the operator."""
    _preflight(settings, source, manifest, which)
    name = manifest.database.file
    if not name:
        return [
            "备份中没有数据库转储：请先用 pg_restore 或 psql 恢复 PostgreSQL 数据库 / "
            "no database dump in this backup: restore PostgreSQL with pg_restore"
        ]
    if manifest.database.kind == "sqlite":
        install_sqlite(settings, stage_sqlite(settings, source, manifest))
        return []
    pg_restore = which("pg_restore")
    assert pg_restore is not None  # _preflight
    asyncio.run(mark_restoring(settings, manifest.digest))
    url, env = libpq(settings)
    argv = [pg_restore, "--no-owner", "--clean", "--if-exists", "--single-transaction"]
    run_tool([*argv, "--dbname", url, str(inside(source, name))], env, "pg_restore")
    _migrate(settings.db_url)
    asyncio.run(unmark_restoring(settings))
    return []


def _migrate(url: str) -> None:
    """Bring a restored database to today's schema (a backup from an older version)."""
    try:
        upgrade(url)
    except (CommandError, SQLAlchemyError) as exc:
        # A dump from a newer version, or a file that is no database at all.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise BackupError(
            f"恢复的数据库无法迁移 / the restored database cannot be migrated: {first}"
        ) from None


async def mark_restoring(settings: Settings, backup: str) -> None:
    """Note in the target database that ``backup`` (a manifest digest) is being restored."""
    db = Database(settings.db_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: MARKER.create(sync, checkfirst=True))
            await conn.execute(MARKER.delete())
            await conn.execute(MARKER.insert().values(backup=backup))
    finally:
        await db.dispose()


async def unmark_restoring(settings: Settings) -> None:
    """Remove the note of :func:`mark_restoring`: the restore is complete."""
    db = Database(settings.db_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda sync: MARKER.drop(sync, checkfirst=True))
    finally:
        await db.dispose()


def stage_sqlite(settings: Settings, source: Path, manifest: Manifest) -> Path:
    """Copy the backup's SQLite database beside the target and migrate it there; return that
    file. The target is not touched: a restore killed now leaves it as empty as it was."""
    assert manifest.database.file is not None
    target = sqlite_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.restoring")
    _remove(work)  # what a killed restore left
    try:
        digest = hashlib.sha256()
        with open_inside(source, manifest.database.file) as src, work.open("wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        if digest.hexdigest() != manifest.database.sha256:
            raise BackupError("数据库文件在复制时改变了 / the database file changed while copied")
        _migrate(make_url(settings.db_url).set(database=str(work)).render_as_string(False))
        # Merge any write-ahead log into the file and leave rollback-journal mode, so the file
        # stands alone when renamed (the bot turns WAL on again when it opens it).
        conn = sqlite3.connect(work)
        try:
            conn.execute("PRAGMA journal_mode=DELETE")
        finally:
            conn.close()
    except BackupError:
        _remove(work)
        raise
    return work


def install_sqlite(settings: Settings, staged: Path) -> None:
    """Rename the staged database over the target: the one step that makes it non-empty."""
    target = sqlite_path(settings)
    for suffix in SIDECARS:  # of the empty database being replaced
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    _fsync_dir(target.parent)


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)
    for suffix in SIDECARS:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
