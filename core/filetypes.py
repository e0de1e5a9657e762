"""What a file really is, from its first bytes: evidence is checked against the kind its name
(or MIME type) claims before it is stored, so a renamed executable or an empty file never
reaches the admins' bundle.

Only fixed signatures are compared; nothing is parsed (the files are untrusted).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import PurePath

PDF_HEADER_WINDOW = 1024  # readers accept "%PDF-" anywhere in the first KiB
TEXT_SNIFF_BYTES = 8192

# Brands of the ISO base media "ftyp" box that mean a HEIF still image (HEIC from iPhones).
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
)
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")  # PE, ELF, Mach-O

IMAGES = frozenset({"jpeg", "png", "gif", "webp", "bmp", "tiff", "heif"})
# OOXML (.docx/.xlsx/.pptx) is a zip package; a password-protected one is an OLE2 container.
OFFICE_NEW = frozenset({"zip", "ole2"})


class Problem(enum.StrEnum):
    """Why a file's content is refused."""

    EMPTY = "empty"
    MISMATCH = "mismatch"  # not what its name (or MIME type) says


@dataclass(frozen=True)
class Refusal:
    """A refused file: why, and the kind it claimed to be (``PDF``, ``Word``, ``JPEG`` …)."""

    reason: Problem
    expected: str


@dataclass(frozen=True)
class Claim:
    """What a file name promises: a display name and the detected formats that keep it."""

    expected: str
    formats: frozenset[str]


# Images accept any image format: a JPEG saved as .png (chat apps do this) still displays.
CLAIMS: dict[str, Claim] = {
    ".pdf": Claim("PDF", frozenset({"pdf"})),
    ".jpg": Claim("JPEG", IMAGES),
    ".jpeg": Claim("JPEG", IMAGES),
    ".png": Claim("PNG", IMAGES),
    ".gif": Claim("GIF", IMAGES),
    ".webp": Claim("WebP", IMAGES),
    ".bmp": Claim("BMP", IMAGES),
    ".tif": Claim("TIFF", IMAGES),
    ".tiff": Claim("TIFF", IMAGES),
    ".heic": Claim("HEIC", IMAGES),
    ".heif": Claim("HEIF", IMAGES),
    ".doc": Claim("Word", frozenset({"ole2", "rtf"})),  # Word also saves .doc as RTF
    ".docx": Claim("Word", OFFICE_NEW),
    ".xls": Claim("Excel", frozenset({"ole2"})),
    ".xlsx": Claim("Excel", OFFICE_NEW),
    ".ppt": Claim("PowerPoint", frozenset({"ole2"})),
    ".pptx": Claim("PowerPoint", OFFICE_NEW),
    ".wps": Claim("WPS", OFFICE_NEW),
    ".et": Claim("WPS", OFFICE_NEW),
    ".dps": Claim("WPS", OFFICE_NEW),
    ".txt": Claim("TXT", frozenset({"text"})),
    ".csv": Claim("CSV", frozenset({"text"})),
}

_MIME_EXTENSION = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "application/vnd.ms-works": ".wps",
    "text/plain": ".txt",
    "text/csv": ".csv",
}


def _heif(data: bytes) -> bool:
    if data[4:8] != b"ftyp":
        return False
    box = int.from_bytes(data[0:4], "big")
    if data[8:12] in HEIF_BRANDS:
        return True
    # The compatible brands follow the major brand and its version, up to the box's end.
    end = min(max(box, 16), 256, len(data))
    return any(data[i : i + 4] in HEIF_BRANDS for i in range(16, end - 3, 4))


def _text(data: bytes) -> bool:
    head = data[:TEXT_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with a byte-order mark (Excel's "Unicode text")
    return b"\x00" not in head


def sniff(data: bytes) -> str | None:
    """The format the bytes are in (``pdf``, ``jpeg``, ``png``, ``gif``, ``webp``, ``bmp``,
    ``tiff``, ``heif``, ``zip`` (OOXML is one), ``ole2``, ``rtf``, ``text``), or None if unknown."""
    if data.startswith(EXECUTABLE_MAGIC):
        return None  # an executable is nothing we accept, whatever else its bytes contain
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if _heif(data):
        return "heif"
    if data.startswith(OLE2_MAGIC):
        return "ole2"
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return "pdf"
    if data.startswith(b"BM") and data[6:10] == b"\x00\x00\x00\x00":  # reserved, always zero
        return "bmp"
    if _text(data):
        return "text"
    return None


def claim_of(file_name: str | None, mime_type: str | None) -> Claim | None:
    """What a document claims to be: by its extension, else by its MIME type."""
    ext = PurePath(file_name or "").suffix.lower()
    if not ext:
        mime = (mime_type or "").lower()
        ext = _MIME_EXTENSION.get(mime, "")
        if not ext and mime.startswith("image/"):
            return Claim(mime.removeprefix("image/").upper(), IMAGES)
    return CLAIMS.get(ext)


def check_document(data: bytes, file_name: str | None, mime_type: str | None) -> Refusal | None:
    """None when a document's content is what its name claims; else why it is refused.

    A file whose claim is unknown is refused too (callers accept only known kinds anyway).
    """
    claim = claim_of(file_name, mime_type)
    expected = claim.expected if claim else PurePath(file_name or "").suffix.upper().lstrip(".")
    if not data:
        return Refusal(Problem.EMPTY, expected)
    if claim is None or sniff(data) not in claim.formats:
        return Refusal(Problem.MISMATCH, expected)
    return None


def check_photo(data: bytes) -> Refusal | None:
    """None when a Telegram photo (always re-encoded as JPEG) holds an image."""
    if not data:
        return Refusal(Problem.EMPTY, "JPEG")
    if sniff(data) not in IMAGES:
        return Refusal(Problem.MISMATCH, "JPEG")
    return None


def is_image(data: bytes) -> bool:
    """Whether the bytes are in one of the image formats accepted as photos."""
    return sniff(data) in IMAGES
