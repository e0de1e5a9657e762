"""The evidence bundle: a zip of the workbook(s) and ``佐证材料/003_<活动名称>/01.jpg …``.

Files are streamed from the evidence store (a directory or a bucket) into the zip in small
chunks, so memory does not grow with the number or size of photos. A bot may send at most 50 MB
per file, so a bundle that would grow beyond ``part_limit`` is split into numbered parts, each a
complete zip on its own (unzip every part into the same folder and the workbook's links find
every folder).
"""

from __future__ import annotations

import logging
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from exports.names import Entry, file_names
from storage.evidence import EvidenceMissing, EvidenceStorage, EvidenceUnavailable, copy_stream

log = logging.getLogger(__name__)

PART_LIMIT = 50 * 1000 * 1000  # Telegram's 50 MB, with room to spare (it counts 1024²)
_ENTRY_OVERHEAD = 160  # local header + data descriptor + central directory entry, besides names
_END_RECORD = 22 + 98  # end of central directory (+ zip64 records, if ever needed)
_COMPRESSIBLE = {".txt", ".csv", ".doc", ".xls", ".ppt", ".wps", ".et", ".dps", ".bmp", ".tif",
                 ".tiff"}  # fmt: skip


@dataclass
class BundleResult:
    """What was written: the part files, how many evidence files, and any that were missing or
    could not be read (the store down)."""

    parts: list[Path] = field(default_factory=list)
    files: int = 0
    missing: list[str] = field(default_factory=list)


class BundleWriter:
    """Write a zip as a stream, starting a new part whenever the next file would not fit."""

    def __init__(self, out_dir: Path, stem: str, part_limit: int = PART_LIMIT) -> None:
        self.out_dir = out_dir
        self.stem = stem
        self.part_limit = part_limit
        self.paths: list[Path] = []
        self._zip: zipfile.ZipFile | None = None
        self._used = 0  # bytes of the current part, counting what its central directory needs
        self._dirs: set[str] = set()

    def _open_part(self) -> zipfile.ZipFile:
        path = self.out_dir / f"{self.stem}_分卷{len(self.paths) + 1}.zip"
        self.paths.append(path)
        self._zip = zipfile.ZipFile(path, "w", allowZip64=True)
        self._used = _END_RECORD
        self._dirs = set()
        return self._zip

    def _room(self, arcname: str, size: int) -> zipfile.ZipFile:
        need = size + 2 * len(arcname.encode()) + _ENTRY_OVERHEAD
        folder = arcname.rpartition("/")[0]
        while folder and folder not in self._dirs:
            need += 2 * len(folder.encode()) + _ENTRY_OVERHEAD
            folder = folder.rpartition("/")[0]
        if self._zip is None or (self._used + need > self.part_limit and self._zip.filelist):
            if self._zip is not None:
                self._zip.close()
            self._open_part()
        self._used += need
        assert self._zip is not None
        return self._zip

    def _ensure_dirs(self, zf: zipfile.ZipFile, arcname: str) -> None:
        # Explicit folder entries: the folder exists in every part, even for viewers that only
        # list entries, and the workbook's link always points at a real folder.
        parts = arcname.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in self._dirs:
                zf.writestr(zipfile.ZipInfo(folder + "/"), b"")
                self._dirs.add(folder)

    def add_file(self, arcname: str, source: Path) -> None:
        """Copy a file into the bundle (streamed in chunks; images stored, not recompressed)."""
        size = source.stat().st_size
        zf = self._room(arcname, size)
        self._ensure_dirs(zf, arcname)
        suffix = Path(arcname).suffix.lower()
        compress = zipfile.ZIP_DEFLATED if suffix in _COMPRESSIBLE else zipfile.ZIP_STORED
        zf.write(source, arcname, compress_type=compress)

    def add_stream(self, arcname: str, size: int, source: IO[bytes]) -> None:
        """Copy ``size`` bytes from a stream into the bundle, in chunks."""
        zf = self._room(arcname, size)
        self._ensure_dirs(zf, arcname)
        info = zipfile.ZipInfo(arcname, date_time=time.localtime()[:6])
        info.external_attr = 0o644 << 16
        info.file_size = size  # decides whether the entry needs zip64 before it is written
        suffix = Path(arcname).suffix.lower()
        info.compress_type = zipfile.ZIP_DEFLATED if suffix in _COMPRESSIBLE else zipfile.ZIP_STORED
        with zf.open(info, "w") as out:
            copy_stream(source, out)

    def close(self) -> list[Path]:
        """Finish the last part; a bundle of one part loses the ``_分卷1`` suffix."""
        if self._zip is None:
            self._open_part()
        assert self._zip is not None
        self._zip.close()
        if len(self.paths) == 1:
            single = self.out_dir / f"{self.stem}.zip"
            self.paths[0].replace(single)
            self.paths = [single]
        return self.paths


def write_bundle(
    out_dir: Path,
    stem: str,
    workbooks: Sequence[Path],
    entries: Sequence[Entry],
    store: EvidenceStorage,
    *,
    part_limit: int = PART_LIMIT,
    progress: Callable[[int], None] | None = None,
) -> BundleResult:
    """Write the bundle: the workbooks first, then every entry's evidence in its folder."""
    writer = BundleWriter(out_dir, stem, part_limit)
    result = BundleResult()
    for workbook in workbooks:
        writer.add_file(workbook.name, workbook)
    for count, entry in enumerate(entries, start=1):
        for name, file in zip(file_names(entry.row.evidence), entry.row.evidence, strict=True):
            try:
                with store.reader(file.sha256) as stored:
                    writer.add_stream(f"{entry.folder}/{name}", stored.size, stored.stream)
            except EvidenceMissing:
                log.warning("evidence %s of activity %s is missing", file.sha256, entry.row.id)
                result.missing.append(f"{entry.folder}/{name}")
                continue
            except EvidenceUnavailable as exc:
                # The store is down or stalled: named like a lost file, so the export still ends
                # with its workbooks and a sentence. A failure mid-file leaves that entry short.
                log.warning(
                    "evidence %s of activity %s unreadable: %s", file.sha256, entry.row.id, exc
                )
                result.missing.append(f"{entry.folder}/{name}")
                continue
            result.files += 1
        if progress is not None and count % 100 == 0:
            progress(count)
    result.parts = writer.close()
    return result
