"""Backups of an installation (``kexie backup --out DIR``) and their restore (``kexie restore
DIR``) onto an empty one.

A backup folder holds the database (SQLite: an online-consistent copy made with SQLite's backup
API, safe while the bot runs; PostgreSQL: a ``pg_dump`` custom-format dump when ``pg_dump`` is
installed), the evidence files when the store is a local directory (``evidence/ab/cd/<sha256>``)
and ``manifest.json``, written last, listing every evidence file's sha256 and size. Evidence in
object storage is listed but not copied: the bucket is backed up by its own means (versioning,
replication, ``mc mirror``, ``ossutil``).

Restoring is storage/restore.py; reading a backup folder safely is storage/backup_manifest.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from core.settings import Settings
from storage.db import Database
from storage.evidence import (
    CHUNK,
    EvidenceStore,
    file_sha256,
    key_of,
    open_evidence_store,
)
from storage.models import Evidence

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "kexie.db"
PG_FILE = "kexie.pgdump"
EVIDENCE_DIR = "evidence"
Which = Callable[[str], str | None]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is one line per problem, for the
    operator."""


@dataclass
class Outcome:
    """What a backup or restore did: counts, and lines the operator should read."""

    files: int = 0
    size: int = 0
    notes: list[str] = field(default_factory=list)


def backend_of(settings: Settings) -> str:
    """The target database's kind: ``sqlite`` or ``postgresql``."""
    return make_url(settings.db_url).get_backend_name()


def sqlite_path(settings: Settings) -> Path:
    """The SQLite database file ``settings`` name."""
    return Path(make_url(settings.db_url).database or "")


def libpq(settings: Settings) -> tuple[str, dict[str, str]]:
    """The database as a libpq URL without the password, and an environment carrying it
    (a password on the command line would show in ``ps``)."""
    url = make_url(settings.db_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    # URL.set(password=None) would keep the password: build the URL anew without it.
    plain = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    return plain.render_as_string(hide_password=False), env


def run_tool(argv: list[str], env: dict[str, str], what: str) -> None:
    """Run ``pg_dump`` or ``pg_restore``; BackupError with its last stderr line on failure."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        raise BackupError(f"{what} 失败 / failed: {last}")


# --- backup ----------------------------------------------------------------------------------


def _copy_sqlite(source: Path, target: Path) -> None:
    """An online-consistent copy: SQLite's backup API copies one snapshot even while the bot
    writes (WAL), unlike copying the file."""
    if not source.is_file():
        raise BackupError(f"找不到数据库文件 {source} / database file not found")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        raise BackupError(f"数据库副本校验失败 / the copy failed its integrity check: {verdict}")


async def _referenced(db: Database) -> set[str]:
    async with db.session() as session:
        return set((await session.scalars(select(Evidence.sha256).distinct())).all())


def _copy_evidence(store: EvidenceStore, out: Path, files: list[dict[str, Any]]) -> list[str]:
    """Copy every listed file, hashing it on the way; return those whose bytes no longer match
    their name (damaged on disk: listed, not copied)."""
    damaged = []
    for item in files:
        sha = item["sha256"]
        target = out / EVIDENCE_DIR / key_of(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with store.reader(sha) as stored, target.open("wb") as fh:
            while chunk := stored.stream.read(CHUNK):
                digest.update(chunk)
                fh.write(chunk)
        if digest.hexdigest() != sha:
            target.unlink()
            damaged.append(sha)
    return damaged


async def backup(
    settings: Settings, db: Database, out: Path, *, which: Which = shutil.which
) -> Outcome:
    """Back up the installation ``settings`` describe into the empty folder ``out``."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupError(f"{out} 不是空文件夹，请换一个 / is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    outcome = Outcome()
    database: dict[str, Any] = {"kind": backend_of(settings)}
    # The database first: evidence is stored before the row naming it commits, so everything
    # the copied database references is in the store when it is listed afterwards.
    if database["kind"] == "sqlite":
        await asyncio.to_thread(_copy_sqlite, sqlite_path(settings), out / SQLITE_FILE)
        database["file"] = SQLITE_FILE
    else:
        pg_dump = which("pg_dump")
        if pg_dump is None:
            database["file"] = None
            outcome.notes.append(
                "未找到 pg_dump：PostgreSQL 数据库请用 pg_dump 备份（pg_dump -Fc -f kexie.pgdump "
                "数据库URL） / pg_dump not found: back up PostgreSQL with pg_dump"
            )
        else:
            url, env = libpq(settings)
            argv = [pg_dump, "--format=custom", "--no-owner", "--file", str(out / PG_FILE), url]
            await asyncio.to_thread(run_tool, argv, env, "pg_dump")
            database["file"] = PG_FILE
    if database["file"]:
        path = out / database["file"]
        database["sha256"] = await asyncio.to_thread(file_sha256, path)
        database["size"] = path.stat().st_size

    store = open_evidence_store(settings)
    stored = sorted(await asyncio.to_thread(lambda: list(store.entries())))
    files = [{"sha256": sha, "size": size} for sha, size in stored]
    missing = sorted(await _referenced(db) - {sha for sha, _ in stored})
    if missing:
        outcome.notes.append(
            f"注意：数据库引用的 {len(missing)} 个佐证文件不在存储中（已记入清单 missing） / "
            f"{len(missing)} referenced evidence files are not in the store"
        )
    included = isinstance(store, EvidenceStore)
    if included:
        assert isinstance(store, EvidenceStore)
        damaged = await asyncio.to_thread(_copy_evidence, store, out, files)
        if damaged:
            files = [f for f in files if f["sha256"] not in set(damaged)]
            outcome.notes.append(
                f"注意：{len(damaged)} 个佐证文件内容与其 sha256 不符，未备份 / "
                f"{len(damaged)} damaged evidence files were left out"
            )
    else:
        outcome.notes.append(
            f"佐证材料在 {store.describe()}，本备份只含其清单；存储桶请用其自身的方式备份 / "
            "the bucket must be backed up by its own means (this backup lists its objects)"
        )
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database,
        "evidence": {
            "store": store.kind,
            "location": store.describe(),
            "included": included,
            "files": files,
            "missing": missing,
        },
    }
    # Written last, atomically: a folder with a manifest is a complete backup.
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(out / MANIFEST)
    outcome.files = len(files)
    kept = {f["sha256"] for f in files}
    outcome.size = sum(size for sha, size in stored if sha in kept)
    return outcome
