"""Evidence files: stored once by content (sha256) under the data dir, referenced by activities."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePath

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # the Bot API's getFile limit

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


class EvidenceStore:
    """A content-addressed file store: ``<root>/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the bytes of ``sha256`` live."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

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

    def open(self, sha256: str) -> bytes:
        """Read stored bytes back."""
        return self.path_for(sha256).read_bytes()
