"""Evidence files: stored once by content (sha256), referenced by activities.

Two stores answer the same protocol (:class:`EvidenceStorage`): a local directory
(:class:`EvidenceStore`, the embedded default) and S3-compatible object storage
(:mod:`storage.evidence_s3`), chosen by ``KEXIE_EVIDENCE_URL`` through
:func:`open_evidence_store`. Both lay the bytes of ``<sha256>`` out as ``ab/cd/<sha256>``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from core.settings import Settings

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit
CHUNK = 1024 * 1024  # evidence is copied in pieces of this size, never read whole
SHA256_RE = re.compile(r"[0-9a-f]{64}")
# The length of evidence.file_name (storage/models/activities.py), in characters: Telegram allows
# longer document names, and PostgreSQL refuses what does not fit (SQLite would keep it).
FILE_NAME_MAX = 255
MIME_TYPE_MAX = 128  # evidence.mime_type: a longer one is no real type, and is not kept
# Uploads run on a pool of their own, so a hung store holds these threads and no others (the
# event loop's default pool has cpu + 4 threads, shared by everything). A sender waits at most
# UPLOAD_DEADLINE (queueing included) plus a second per MB: a slow link still carries 20 MB.
UPLOAD_WORKERS = 4
UPLOAD_DEADLINE = 15.0
UPLOAD_SECONDS_PER_MB = 1.0

# What a sign-in sheet, a photo or a summary document may be. Checked by extension because
# phones send odd MIME types (e.g. application/octet-stream for .docx from some file managers).
# The name only decides what is downloaded: the bytes must then match the kind the name claims
# (core/filetypes.py) before they are stored.
ALLOWED_EXTENSIONS = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".heic": "image/heic", ".heif": "image/heif", ".bmp": "image/bmp", ".gif": "image/gif",
    ".tif": "image/tiff", ".tiff": "image/tiff",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ppt": "application/vnd.ms-powerpoint",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".wps": "application/vnd.ms-works", ".et": "application/vnd.ms-excel",
    ".dps": "application/vnd.ms-powerpoint", ".txt": "text/plain", ".csv": "text/csv",
}  # fmt: skip
ALLOWED_MIME_PREFIXES = ("image/",)
ALLOWED_MIME_TYPES = set(ALLOWED_EXTENSIONS.values())


def is_allowed_document(file_name: str | None, mime_type: str | None) -> bool:
    """Whether a document is acceptable evidence (PDF, Word, Excel, WPS, images …)."""
    ext = PurePath(file_name or "").suffix.lower()
    if ext:
        return ext in ALLOWED_EXTENSIONS
    mime = (mime_type or "").lower()
    return mime in ALLOWED_MIME_TYPES or mime.startswith(ALLOWED_MIME_PREFIXES)


def fit_file_name(name: str | None, limit: int = FILE_NAME_MAX) -> str | None:
    """``name`` cut to ``limit`` characters in the middle (``…``), its extension kept, so the
    start and the kind of the file still show; shorter names are returned as they are."""
    if name is None or len(name) <= limit:
        return name
    suffix = PurePath(name).suffix
    if len(suffix) > limit // 4:  # not an extension anyone would recognise: cut like the rest
        suffix = ""
    stem = name[: len(name) - len(suffix)]
    room = limit - len(suffix) - 1  # the ellipsis
    head = (room + 1) // 2
    return f"{stem[:head]}…{stem[len(stem) - (room - head) :]}{suffix}"


class EvidenceMissing(FileNotFoundError):
    """The store holds no bytes for this sha256."""


class EvidenceUnavailable(OSError):
    """The store did not answer in time, dropped the connection or refused the request: the
    bytes may well be there (or could be stored later), but not now."""


class Stored(NamedTuple):
    """Stored bytes being read: their size, and a binary stream to read in chunks (not
    necessarily seekable)."""

    size: int
    stream: IO[bytes]


def key_of(sha256: str) -> str:
    """The relative key of ``sha256`` in every store: ``ab/cd/<sha256>``."""
    if not SHA256_RE.fullmatch(sha256):
        # A key built from anything else could name a path outside the store.
        raise ValueError("not a sha256 hex digest")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@runtime_checkable
class EvidenceStorage(Protocol):
    """Where evidence bytes live, content-addressed by sha256. Every method blocks (disk or
    network): async callers run them with ``asyncio.to_thread`` (uploads: :func:`put_evidence`).
    A store that cannot be reached raises :class:`EvidenceUnavailable`, whatever its kind."""

    kind: str  # "local" or "s3"

    def put(self, data: bytes) -> str:
        """Store bytes (a second copy is a no-op) and return their sha256."""
        ...

    def put_file(self, source: Path) -> str:
        """Store a file's bytes, streamed, and return their sha256."""
        ...

    def size(self, sha256: str) -> int | None:
        """The stored size of ``sha256`` in bytes, or None when it is not stored."""
        ...

    def reader(self, sha256: str) -> AbstractContextManager[Stored]:
        """The stored bytes with their size, to read in chunks; entering raises
        :class:`EvidenceMissing` when they are not stored."""
        ...

    def open(self, sha256: str) -> bytes:
        """Read stored bytes back whole (for uploads to a channel, at most 20 MB)."""
        ...

    def entries(self) -> Iterator[tuple[str, int]]:
        """Every stored (sha256, size), in no particular order."""
        ...

    def describe(self) -> str:
        """Where the store is, for the operator (no credentials)."""
        ...


class EvidenceStore:
    """The local store: a directory laid out as ``<root>/ab/cd/<sha256>``."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the bytes of ``sha256`` live."""
        return self.root / key_of(sha256)

    def put(self, data: bytes) -> str:
        """Store bytes (atomically; a second copy is a no-op) and return their sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_file(self, source: Path) -> str:
        """Copy a file in (hashed while copied, then renamed into place) and return its sha256."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            target = self.path_for(sha)
            if target.exists():
                Path(tmp).unlink()
                return sha
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def size(self, sha256: str) -> int | None:
        """The stored size, or None when the file is not there."""
        try:
            return self.path_for(sha256).stat().st_size
        except FileNotFoundError:
            return None

    @contextmanager
    def reader(self, sha256: str) -> Iterator[Stored]:
        """The stored file, opened for reading (seekable)."""
        try:
            fh = self.path_for(sha256).open("rb")
        except FileNotFoundError as exc:
            raise EvidenceMissing(sha256) from exc
        with fh:
            yield Stored(os.fstat(fh.fileno()).st_size, fh)

    def open(self, sha256: str) -> bytes:
        """Read stored bytes back."""
        try:
            return self.path_for(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceMissing(sha256) from exc

    def entries(self) -> Iterator[tuple[str, int]]:
        """Every stored file (half-written ``.incoming-`` files and strangers are skipped)."""
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if len(second.name) != 2 or not second.is_dir():
                    continue
                for path in sorted(second.iterdir()):
                    name = path.name
                    if SHA256_RE.fullmatch(name) and name[:4] == first.name + second.name:
                        yield name, path.stat().st_size

    def describe(self) -> str:
        """The directory."""
        return str(self.root)


_uploads: ThreadPoolExecutor | None = None
_uploads_lock = threading.Lock()


def _upload_pool() -> ThreadPoolExecutor:
    global _uploads
    with _uploads_lock:
        if _uploads is None:
            _uploads = ThreadPoolExecutor(UPLOAD_WORKERS, thread_name_prefix="kexie-evidence")
        return _uploads


async def put_evidence(
    store: EvidenceStorage, data: bytes, *, deadline: float | None = None
) -> str:
    """Store ``data`` from async code, on the uploads' own bounded pool; its sha256.

    Raises :class:`EvidenceUnavailable` when the store failed or did not finish within
    ``deadline`` seconds (default: :data:`UPLOAD_DEADLINE` plus a second per MB), waiting for a
    free thread included. An upload still queued then is dropped; one already running finishes
    in its thread (each store call is bounded itself) and its result is ignored.
    """
    if deadline is None:
        deadline = UPLOAD_DEADLINE + UPLOAD_SECONDS_PER_MB * len(data) / (1024 * 1024)
    loop = asyncio.get_running_loop()
    try:
        return await asyncio.wait_for(
            loop.run_in_executor(_upload_pool(), store.put, data), deadline
        )
    except TimeoutError as exc:
        raise EvidenceUnavailable(f"no answer within {deadline:.0f} s") from exc


def copy_stream(source: IO[bytes], target: IO[bytes]) -> int:
    """Copy in bounded chunks; return the number of bytes copied."""
    copied = 0
    while chunk := source.read(CHUNK):
        target.write(chunk)
        copied += len(chunk)
    return copied


_stores: dict[tuple[object, ...], EvidenceStorage] = {}
_stores_lock = threading.Lock()


def open_evidence_store(settings: Settings) -> EvidenceStorage:
    """The evidence store ``settings`` name (``KEXIE_EVIDENCE_URL``): a local directory by
    default, or an S3-compatible bucket for ``s3://bucket/prefix``. One store object per
    configuration is kept, so an S3 client (and its connection pool) is made once."""
    location = settings.evidence_location
    if location.kind == "local":
        assert location.path is not None
        return EvidenceStore(location.path)
    key = (
        location.bucket,
        location.prefix,
        settings.s3_endpoint,
        settings.s3_region,
        settings.s3_key,
        settings.s3_secret,
        settings.s3_path_style,
    )
    with _stores_lock:
        store = _stores.get(key)
        if store is None:
            # Imported here: boto3 takes a while to import and the local default needs none of it.
            from storage.evidence_s3 import S3EvidenceStore

            store = S3EvidenceStore.from_settings(settings)
            _stores[key] = store
        return store
