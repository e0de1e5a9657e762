"""A backup folder as ``kexie restore`` reads it: the manifest, checked field by field, and the
files it names, read only from inside the folder.

A backup may come from anywhere (a USB stick, a colleague, an attacker), so nothing in it is
trusted: every field's type and range is checked with one line per problem, and a file is only
read when its path is relative, has no ``..``, no symbolic link on the way, and stays inside the
folder once resolved. The checks run before anything is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from io import BufferedReader
from pathlib import Path, PurePosixPath
from typing import Any

from storage.backup import EVIDENCE_DIR, FORMAT, MANIFEST, BackupError
from storage.evidence import SHA256_RE, file_sha256, key_of

KINDS = ("sqlite", "postgresql")
# Far above any real manifest (a million evidence files is under 100 MB); a bigger "manifest"
# is not read into memory.
MAX_MANIFEST = 256 * 1024 * 1024
# Lines shown for a manifest with many problems; the rest are counted.
MAX_PROBLEMS = 10


@dataclass(frozen=True)
class DatabaseEntry:
    """The database part of the manifest; ``file`` is None when there is no dump."""

    kind: str
    file: str | None
    sha256: str = ""
    size: int = 0


@dataclass(frozen=True)
class EvidenceEntry:
    """One evidence file the manifest lists."""

    sha256: str
    size: int


@dataclass(frozen=True)
class EvidenceList:
    """The evidence part: where it was stored, whether the files are in the backup, which."""

    store: str
    location: str
    included: bool
    files: tuple[EvidenceEntry, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    """A validated ``manifest.json``; ``digest`` (its sha256) names this very backup."""

    created_at: str
    database: DatabaseEntry
    evidence: EvidenceList
    digest: str


def _problem(where: str, zh: str, en: str) -> str:
    return f"{MANIFEST} 的 {where} {zh} / {MANIFEST}: {where} {en}"


class _Checker:
    """Reads fields off parsed JSON, noting one line per wrong field instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def note(self, where: str, zh: str, en: str) -> None:
        self.problems.append(_problem(where, zh, en))

    def obj(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.note(where, "缺失或不是对象", "is missing or not an object")
            return None
        return value

    def text(self, parent: dict[str, Any], key: str, where: str) -> str:
        value = parent.get(key)
        if not isinstance(value, str):
            self.note(where, "缺失或不是字符串", "is missing or not a string")
            return ""
        return value

    def size(self, parent: dict[str, Any], key: str, where: str) -> int:
        value = parent.get(key)
        # bool is an int to Python, and JSON numbers may be floats: neither is a size.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.note(where, "须为不小于 0 的整数", "must be an integer of at least 0")
            return 0
        return value

    def sha(self, value: object, where: str) -> str:
        if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
            self.note(where, "须为 64 位小写十六进制 sha256", "must be a lowercase hex sha256")
            return ""
        return value

    def relative(self, value: object, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not safe_relative(value):
            self.note(
                where,
                "须为备份文件夹内的相对路径（不能是绝对路径，不能含 ..）",
                "must be a relative path inside the backup (not absolute, no ..)",
            )
            return None
        return value


def safe_relative(name: str) -> bool:
    """Whether ``name`` is a plain relative path: not empty, not absolute, no ``..``, no NUL."""
    if not name or "\0" in name or "\\" in name or name.startswith("/"):
        return False
    parts = PurePosixPath(name).parts
    return bool(parts) and all(part not in ("..", ".") for part in parts)


def _database(check: _Checker, raw: dict[str, Any]) -> DatabaseEntry:
    database = check.obj(raw, "database", "database")
    if database is None:
        return DatabaseEntry("", None)
    kind = database.get("kind")
    if kind not in KINDS:
        check.note("database.kind", "须为 sqlite 或 postgresql", "must be sqlite or postgresql")
    file = check.relative(database.get("file"), "database.file")
    if database.get("file") is None:
        if kind == "sqlite":
            check.note("database.file", "缺失（SQLite 备份必有数据库文件）", "is missing")
        return DatabaseEntry(str(kind), None)
    sha = check.sha(database.get("sha256"), "database.sha256")
    return DatabaseEntry(str(kind), file, sha, check.size(database, "size", "database.size"))


def _evidence(check: _Checker, raw: dict[str, Any]) -> EvidenceList:
    evidence = check.obj(raw, "evidence", "evidence")
    if evidence is None:
        return EvidenceList("", "", False, (), ())
    store = check.text(evidence, "store", "evidence.store")
    location = check.text(evidence, "location", "evidence.location")
    included = evidence.get("included")
    if not isinstance(included, bool):
        check.note("evidence.included", "须为 true 或 false", "must be true or false")
    files: list[EvidenceEntry] = []
    listed = evidence.get("files")
    if not isinstance(listed, list):
        check.note("evidence.files", "缺失或不是列表", "is missing or not a list")
        listed = []
    for number, item in enumerate(listed):
        where = f"evidence.files[{number}]"
        if not isinstance(item, dict):
            check.note(where, "不是对象", "is not an object")
            continue
        sha = check.sha(item.get("sha256"), f"{where}.sha256")
        files.append(EvidenceEntry(sha, check.size(item, "size", f"{where}.size")))
    missing = evidence.get("missing", [])
    if not isinstance(missing, list):
        check.note("evidence.missing", "不是列表", "is not a list")
        missing = []
    gone = tuple(check.sha(sha, f"evidence.missing[{n}]") for n, sha in enumerate(missing))
    return EvidenceList(store, location, included is True, tuple(files), gone)


def parse_manifest(data: bytes) -> Manifest:
    """The manifest in ``data``, every field checked; BackupError with one line per problem."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" nested too deep
        raise BackupError(f"{MANIFEST} 无法读取 / unreadable: {type(exc).__name__}") from None
    # type() rather than ==: True and 1.0 equal 1 but are no format number.
    if not isinstance(raw, dict) or type(raw.get("format")) is not int or raw["format"] != FORMAT:
        raise BackupError(f"{MANIFEST} 的格式不认识 / unknown manifest format")
    check = _Checker()
    created_at = check.text(raw, "created_at", "created_at")
    if created_at:
        try:
            datetime.fromisoformat(created_at)
        except ValueError:
            check.note("created_at", "不是 ISO 时间", "is not an ISO timestamp")
    database = _database(check, raw)
    evidence = _evidence(check, raw)
    if check.problems:
        shown = check.problems[:MAX_PROBLEMS]
        if len(check.problems) > MAX_PROBLEMS:
            more = len(check.problems) - MAX_PROBLEMS
            shown.append(f"…另有 {more} 处问题 / …and {more} more problems")
        raise BackupError("\n".join(shown))
    return Manifest(created_at, database, evidence, hashlib.sha256(data).hexdigest())


def inside(source: Path, name: str) -> Path:
    """The file ``name`` of the backup folder ``source``, refusing (BackupError) a path that
    leaves the folder or passes through a symbolic link; the file itself need not exist."""
    if not safe_relative(name):
        raise BackupError(f"{name!r} 不在备份文件夹内，拒绝读取 / is outside the backup: refused")
    root = source.resolve()
    path = root.joinpath(*PurePosixPath(name).parts)
    walked = root
    for part in PurePosixPath(name).parts:
        walked = walked / part
        try:
            mode = os.lstat(walked).st_mode
        except OSError:  # absent (or unreadable): the callers say the file does not match
            break
        if stat.S_ISLNK(mode):
            shown = walked.relative_to(root)
            raise BackupError(
                f"备份中的 {shown} 是符号链接，拒绝读取 / is a symbolic link: refused"
            )
    # Belt and braces: nothing above should let a path out, resolved it must still be inside.
    if not path.resolve().is_relative_to(root):
        raise BackupError(f"{name!r} 不在备份文件夹内，拒绝读取 / is outside the backup: refused")
    return path


def _regular_size(path: Path) -> int | None:
    """The size of a regular file (not a FIFO, a device, a folder), or None."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def read_manifest(source: Path) -> Manifest:
    """The backup's manifest; BackupError when the folder is not a complete, sane backup."""
    path = inside(source, MANIFEST)
    size = _regular_size(path)
    if size is None:
        if os.path.lexists(path):
            raise BackupError(f"{MANIFEST} 不是普通文件 / is not a regular file")
        raise BackupError(f"{source} 里没有 {MANIFEST}，不是完整的备份 / not a backup")
    if size > MAX_MANIFEST:
        raise BackupError(f"{MANIFEST} 大得不像清单，拒绝读取 / far too large: refused")
    try:
        with open(path, "rb", opener=_no_follow) as fh:
            data = fh.read()
    except OSError as exc:
        raise BackupError(f"{MANIFEST} 无法读取 / unreadable: {type(exc).__name__}") from None
    return parse_manifest(data)


def _no_follow(path: str, flags: int) -> int:
    """open() that refuses a symbolic link swapped in after the checks (O_NOFOLLOW)."""
    return os.open(path, flags | os.O_NOFOLLOW)


def open_inside(source: Path, name: str) -> BufferedReader:
    """The backup's file ``name`` opened for binary reading, from inside the folder only."""
    return open(inside(source, name), "rb", opener=_no_follow)


def evidence_name(sha256: str) -> str:
    """Where the backup keeps the evidence file ``sha256``, relative to the folder."""
    return f"{EVIDENCE_DIR}/{key_of(sha256)}"


def _digest(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:  # unreadable: it cannot match
        return None


def verify(source: Path, manifest: Manifest) -> None:
    """Check the database file and every evidence file against the manifest (size, sha256)."""
    database = manifest.database
    if database.file:
        path = inside(source, database.file)
        ok = _regular_size(path) == database.size
        if not (ok and _digest(path) == database.sha256):
            raise BackupError(f"{path.name} 与清单不符 / does not match the manifest")
    if not manifest.evidence.included:
        return
    bad = []
    for item in manifest.evidence.files:
        path = inside(source, evidence_name(item.sha256))
        ok = _regular_size(path) == item.size
        if not (ok and _digest(path) == item.sha256):
            bad.append(item.sha256)
    if bad:
        raise BackupError(
            f"{len(bad)} 个佐证文件与清单不符（例如 {bad[0][:12]}…），未恢复任何内容 / "
            f"{len(bad)} evidence files do not match the manifest; nothing was restored"
        )
