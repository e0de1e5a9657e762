"""Evidence files as HTTP responses for the console's report page: streamed from the evidence
store in chunks (a local directory or S3), with a Content-Type kexie chose, photos inline and
documents as downloads named as their sender named them (``filename*=UTF-8''…``).

The caller has checked the policy; here nothing is trusted about the file but its sha256.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import PurePath
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from storage.evidence import (
    ALLOWED_EXTENSIONS,
    ALLOWED_MIME_TYPES,
    CHUNK,
    EvidenceStorage,
)
from storage.models import Evidence

# Shown inside the page (the browser decodes them in an <img>); anything else is downloaded,
# so a stored file can never be rendered as a page of kexie's own origin.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp"})
DEFAULT_TYPE = "application/octet-stream"
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._ ()\-]")


def content_type(evidence: Evidence) -> str:
    """The type the file is served as: its recorded MIME type when it is one kexie accepts,
    else its extension's, else a Telegram photo's (always JPEG) or plain bytes."""
    mime = (evidence.mime_type or "").lower()
    if mime in ALLOWED_MIME_TYPES:
        return mime
    by_name = ALLOWED_EXTENSIONS.get(PurePath(evidence.file_name or "").suffix.lower())
    if by_name is not None:
        return by_name
    return "image/jpeg" if evidence.kind == "photo" and not evidence.file_name else DEFAULT_TYPE


def download_name(evidence: Evidence, ref: str, number: int) -> str:
    """The file's own name (a path's last part), or ``<ref>-<n>.<ext>`` when it has none."""
    name = PurePath((evidence.file_name or "").replace("\\", "/")).name.strip()
    name = "".join(c for c in name if c.isprintable())
    if name:
        return name[:200]
    ext = {v: k for k, v in reversed(ALLOWED_EXTENSIONS.items())}.get(content_type(evidence), "")
    return f"{ref or 'evidence'}-{number}{ext}"


def disposition(kind: str, file_name: str) -> str:
    """``inline`` or ``attachment`` with the name twice: RFC 6266's ``filename*`` for the
    Chinese name (every browser in use) and a plain ASCII ``filename`` for the rest."""
    fallback = _UNSAFE_ASCII.sub("_", file_name).strip() or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


async def stream(
    store: EvidenceStorage | None, evidence: Evidence, file_name: str
) -> Response | None:
    """The stored file as a chunked response (None when the store does not hold it)."""
    if store is None:
        return None
    try:
        size = await asyncio.to_thread(store.size, evidence.sha256)
    except ValueError:  # not a sha256: nothing stored under it
        return None
    if size is None:
        return None

    async def chunks() -> AsyncIterator[bytes]:
        # Opened only once the body is sent: a response never sent holds no file or S3 body.
        opened = store.reader(evidence.sha256)
        stored = await asyncio.to_thread(opened.__enter__)
        try:
            while chunk := await asyncio.to_thread(stored.stream.read, CHUNK):
                yield chunk
        finally:
            # Also when the browser goes away mid-file: the file or the S3 body is closed.
            await asyncio.to_thread(opened.__exit__, None, None, None)

    media = content_type(evidence)
    inline = evidence.kind == "photo" and media in INLINE_TYPES
    headers = {
        "content-length": str(size),
        "content-disposition": disposition("inline" if inline else "attachment", file_name),
    }
    return StreamingResponse(chunks(), media_type=media, headers=headers)
