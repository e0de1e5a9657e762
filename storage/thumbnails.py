"""Thumbnails of evidence photos for the console: a JPEG at most :data:`THUMB_PX` on its
longer side, made with Pillow, bounded before anything is decoded.

Hostile files are refused before they are decoded: the stored bytes are read up to
:data:`MAX_SOURCE_BYTES`, the image's size is read from its header, and a picture over
:data:`MAX_PIXELS` (a decompression bomb: a few kilobytes of PNG that would decode to gigabytes)
gets no thumbnail. At most :data:`SLOTS` thumbnails are made at once, whatever the number of
requests.

Thumbnails are cached as ``<cache dir>/<sha256>.jpg``: evidence is content-addressed, so a
cached thumbnail is never stale, and making one again would mean reading up to 20 MB back from
the store (an S3 round trip) and decoding it for every page view. The cache holds one small file
per photo shown (typically 10–30 KB) and may be deleted at any time. A refusal is not cached:
checking the header again costs one read, not a decode.

Every function here blocks (disk, network, decoding): call them with ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from storage.evidence import CHUNK, MAX_DOWNLOAD_BYTES, EvidenceStorage, key_of

log = logging.getLogger(__name__)

THUMB_PX = 320
MAX_PIXELS = 40_000_000  # a 40-megapixel photo is already more than any phone takes
MAX_SOURCE_BYTES = MAX_DOWNLOAD_BYTES  # evidence came through getFile: never larger
SLOTS = 2  # thumbnails made at once (each may hold a decoded photo in memory)
QUALITY = 80

_slots = threading.BoundedSemaphore(SLOTS)


class TooLarge(ValueError):
    """The stored file is larger than any evidence can be."""


def make_thumbnail(data: bytes, px: int = THUMB_PX, max_pixels: int = MAX_PIXELS) -> bytes | None:
    """A JPEG thumbnail of an image, or None when it is no image Pillow reads or it is larger
    than ``max_pixels`` (checked from the header, before decoding)."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns up to twice its own limit; ours is lower and checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width <= 0 or height <= 0 or width * height > max_pixels:
                    return None
                # JPEG: decode at a reduced scale straight away (less memory, less time).
                image.draft("RGB", (px, px))
                shown = ImageOps.exif_transpose(image)
                shown.thumbnail((px, px))
                if shown.mode != "RGB":
                    # Transparent parts on white, as a document shows them (not black).
                    rgba = shown.convert("RGBA")
                    shown = Image.new("RGB", rgba.size, (255, 255, 255))
                    shown.paste(rgba, mask=rgba.getchannel("A"))
                out = io.BytesIO()
                shown.save(out, "JPEG", quality=QUALITY)
                return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        # Not an image Pillow reads (HEIC, a truncated or corrupt file): no thumbnail.
        return None


def read_bounded(store: EvidenceStorage, sha256: str, limit: int = MAX_SOURCE_BYTES) -> bytes:
    """The stored bytes of ``sha256``, read in chunks; :class:`TooLarge` past ``limit``
    (raises :class:`storage.evidence.EvidenceMissing` when they are not stored)."""
    with store.reader(sha256) as stored:
        if stored.size > limit:
            raise TooLarge(sha256)
        parts: list[bytes] = []
        total = 0
        while chunk := stored.stream.read(CHUNK):
            total += len(chunk)
            if total > limit:
                raise TooLarge(sha256)
            parts.append(chunk)
        return b"".join(parts)


def thumbnail(store: EvidenceStorage, sha256: str, cache_dir: Path | None) -> bytes | None:
    """The thumbnail of the stored image ``sha256`` (from the cache when made before), or None
    when it gets none. Raises :class:`storage.evidence.EvidenceMissing`."""
    key_of(sha256)  # a sha256, nothing else, names a cache file
    cached = cache_dir / f"{sha256}.jpg" if cache_dir is not None else None
    if cached is not None:
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
    with _slots:
        try:
            data = read_bounded(store, sha256)
        except TooLarge:
            log.warning("thumbnail: stored file %s… over the size limit", sha256[:12])
            return None
        jpeg = make_thumbnail(data)
    if jpeg is None:
        log.info("thumbnail: none for %s… (not a picture, or too large)", sha256[:12])
        return None
    if cached is not None:
        _write_atomically(cached, jpeg)
    return jpeg


def _write_atomically(target: Path, data: bytes) -> None:
    """Write the cache file whole or not at all (two requests may make the same thumbnail)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:  # a cache that cannot be written only costs time
        log.warning("thumbnail cache not written (%s)", type(exc).__name__)
