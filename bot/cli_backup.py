"""``kexie backup --out DIR`` and ``kexie restore DIR`` (see storage/backup.py and
storage/restore.py).

Both act on the whole installation, which the permission policy grants the operator
(:data:`core.policy.OPERATOR`, city-wide) as :attr:`core.policy.Action.BACKUP`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from core.policy import OPERATOR, Action, Target, allowed
from core.settings import Settings
from storage.backup import BackupError, Outcome, backup
from storage.db import Database
from storage.restore import restore


def _fail(lines: str) -> int:
    # One line per problem (a malformed manifest may have several), never a traceback.
    print(lines, file=sys.stderr)
    return 2


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _notes(outcome: Outcome) -> None:
    for line in outcome.notes:
        print(line, file=sys.stderr)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Write the database copy, the evidence (when local) and the manifest to ``--out``."""
    if not allowed(OPERATOR, Action.BACKUP, Target()):
        return _fail("无权备份。 / not allowed")
    out: Path = args.out

    async def work() -> Outcome:
        db = Database(settings.db_url)
        try:
            return await backup(settings, db, out)
        finally:
            await db.dispose()

    try:
        outcome = asyncio.run(work())
    except BackupError as exc:
        return _fail(str(exc))
    print(
        f"备份已写入 {out}：佐证文件 {outcome.files} 个（{_megabytes(outcome.size)}） / "
        f"backup written: {outcome.files} evidence files"
    )
    _notes(outcome)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Verify the backup in ``DIR``, then restore it onto this (empty) installation."""
    if not allowed(OPERATOR, Action.BACKUP, Target()):
        return _fail("无权恢复。 / not allowed")
    source: Path = args.dir
    try:
        outcome = restore(settings, source)
    except BackupError as exc:
        return _fail(str(exc))
    print(
        f"已从 {source} 恢复：佐证文件 {outcome.files} 个（{_megabytes(outcome.size)}） / "
        f"restored: {outcome.files} evidence files"
    )
    _notes(outcome)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``backup`` and ``restore`` to the ``kexie`` parser."""
    made = sub.add_parser(
        "backup", help="备份数据库和佐证材料到一个空文件夹 / back up the database and evidence"
    )
    made.add_argument("--out", type=Path, required=True, help="输出文件夹（须为空或不存在）")
    made.set_defaults(func=cmd_backup)
    back = sub.add_parser(
        "restore", help="把备份恢复到空的数据目录 / restore a backup onto an empty installation"
    )
    back.add_argument("dir", type=Path, help="kexie backup 写出的文件夹")
    back.set_defaults(func=cmd_restore)
