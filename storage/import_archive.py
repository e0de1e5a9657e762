"""Before a registry spreadsheet is parsed: what the file is, and what its zip declares.

A hostile file (an old ``.xls``, a password-protected workbook, a zip bomb, a shared-string
table too big to load) is refused here from its first bytes, its zip's end record and its
central directory, before openpyxl sees it (``storage/import_sheet.py`` reads it then).
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path
from typing import IO

MAX_FILE_BYTES = 10 * 1024 * 1024
# What the zip may declare before anything is decompressed. A real registry of 5 000 rows is
# a few MB of XML compressed 5-15:1; a bomb is gigabytes at ~1000:1. Members under
# RATIO_FLOOR are small enough to be harmless at any ratio.
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_ENTRIES = 500
# 5 000 rows of distinct texts make ~3 MB of shared strings.
MAX_SHARED_STRINGS = 16 * 1024 * 1024

_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
# A password-protected .xlsx is an OLE2 compound file with these streams (MS-OFFCRYPTO).
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
_EOCD = b"PK\x05\x06"

Source = bytes | Path


def _head_and_size(source: Source) -> tuple[bytes, int]:
    if isinstance(source, bytes):
        return source[:8], len(source)
    with source.open("rb") as stream:
        return stream.read(8), source.stat().st_size


def _read_all(source: Source) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def _tail(source: Source, size: int) -> bytes:
    if isinstance(source, bytes):
        return source[-size:]
    with source.open("rb") as stream:
        stream.seek(max(0, source.stat().st_size - size))
        return stream.read()


def open_source(source: Source) -> IO[bytes] | str:
    """The file as openpyxl and zipfile open it: a path, or the bytes as a stream."""
    return io.BytesIO(source) if isinstance(source, bytes) else str(source)


def check_archive(source: Source) -> str | None:
    """Why the file must not be parsed (a catalog key), or None.

    Looks only at the first bytes, the zip's end record and its central directory: an old
    ``.xls`` or a password-protected workbook (both OLE2 files, not zips), too many entries,
    a declared uncompressed total over ``MAX_UNCOMPRESSED`` or a member compressed more than
    ``MAX_RATIO``:1. zipfile stops at a member's declared size and fails its CRC beyond it, so
    a zip that lies about its sizes cannot expand further later.
    """
    head, size = _head_and_size(source)
    if size > MAX_FILE_BYTES:
        return "imp_err_too_big"
    if head == _OLE2:
        return "imp_err_protected" if _ENCRYPTED in _read_all(source) else "imp_err_xls"
    if not head.startswith(b"PK"):
        return "imp_err_unreadable"
    # The end record first: ZipFile would otherwise read the whole central directory.
    tail = _tail(source, 65_557)
    end = tail.rfind(_EOCD)
    if end < 0 or end + 22 > len(tail):
        return "imp_err_unreadable"
    entries, directory_size = struct.unpack_from("<HI", tail, end + 10)
    if entries > MAX_ENTRIES or directory_size > MAX_ENTRIES * 1024:
        return "imp_err_archive"
    try:
        with zipfile.ZipFile(open_source(source)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "imp_err_unreadable"
    if len(members) > MAX_ENTRIES:
        return "imp_err_archive"
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > RATIO_FLOOR and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            return "imp_err_archive"
    if total > MAX_UNCOMPRESSED:
        return "imp_err_archive"
    # The shared-string table is the one part openpyxl loads whole, not row by row.
    if any(
        m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_SHARED_STRINGS
        for m in members
    ):
        return "imp_err_too_complex"
    return None
