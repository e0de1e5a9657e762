"""File and folder names inside the bundle: safe on Windows, kept in Chinese, short enough.

The offices unzip on Windows (Explorer, WPS, 360压缩): names must not contain ``<>:"/\\|?*`` or
control characters, must not end with a dot or a space, must not be a reserved device name, and
paths should stay well under 260 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from exports.rows import EvidenceFile, PrintedActivity
from storage.evidence import ALLOWED_EXTENSIONS

EVIDENCE_ROOT = "佐证材料"
NAME_CHARS = 30  # of the activity name in a folder name
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
_EXT_OF_MIME = {mime: ext for ext, mime in reversed(list(ALLOWED_EXTENSIONS.items()))}


def safe_name(text: str, limit: int = NAME_CHARS, fallback: str = "未命名") -> str:
    """A single path component Windows accepts, Chinese kept, at most ``limit`` characters."""
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub("_", text.replace("\n", " ").replace("\t", " "))
    text = re.sub(r"\s+", " ", text).strip()[:limit].rstrip(" .")
    if not text:
        return fallback
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    return text


def extension(file: EvidenceFile) -> str:
    """The file's extension (lower case, with the dot), from its name or its MIME type."""
    ext = PurePosixPath(file.file_name or "").suffix.lower()
    if ext and len(ext) <= 6 and not _FORBIDDEN.search(ext):
        return ext
    if file.kind == "photo":
        return ".jpg"
    return _EXT_OF_MIME.get((file.mime_type or "").lower(), ".bin")


def file_names(files: tuple[EvidenceFile, ...]) -> list[str]:
    """Names inside an activity's folder: ``01.jpg`` for photos, ``02_签到表.pdf`` for documents."""
    names = []
    for index, file in enumerate(files, start=1):
        ext = extension(file)
        stem = PurePosixPath(file.file_name or "").stem if file.kind != "photo" else ""
        stem = safe_name(stem, 40, "") if stem else ""
        names.append(f"{index:02d}_{stem}{ext}" if stem else f"{index:02d}{ext}")
    return names


def count_label(files: tuple[EvidenceFile, ...]) -> str:
    """``3张照片``, ``2张照片、1个文件``."""
    photos = sum(1 for f in files if f.is_image)
    others = len(files) - photos
    parts = []
    if photos:
        parts.append(f"{photos}张照片")
    if others:
        parts.append(f"{others}个文件")
    return "、".join(parts)


@dataclass(frozen=True)
class Entry:
    """An activity's place in a form: its 序号 and the bundle folder holding its evidence."""

    seq: int
    row: PrintedActivity
    folder: str  # e.g. 佐证材料/003_科普讲座 (no trailing slash)

    @property
    def label(self) -> str:
        """The 佐证材料 cell: ``附件003（3张照片）``, or ``无`` without evidence."""
        if not self.row.evidence:
            return "无"
        return f"附件{self.seq:03d}（{count_label(self.row.evidence)}）"

    @property
    def link(self) -> str | None:
        """The relative hyperlink that opens the folder once the bundle is unzipped."""
        return self.folder + "/" if self.row.evidence else None


def plan_entries(rows: list[PrintedActivity], subfolder: str | None = None) -> list[Entry]:
    """Number the rows 1, 2, 3 … and give each its evidence folder (under ``subfolder`` for a
    city export, where every district's form starts again at 1)."""
    base = EVIDENCE_ROOT if subfolder is None else f"{EVIDENCE_ROOT}/{safe_name(subfolder)}"
    return [
        Entry(seq, row, f"{base}/{seq:03d}_{safe_name(row.name)}")
        for seq, row in enumerate(rows, start=1)
    ]
