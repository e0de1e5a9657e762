"""The console report page's file helpers: thumbnails bounded before decoding
(storage/thumbnails.py) and how an evidence file is served (web/report_files.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image
from starlette.responses import StreamingResponse

from core.settings import load_settings
from storage.evidence import (
    CHUNK,
    EvidenceMissing,
    EvidenceStorage,
    EvidenceStore,
    open_evidence_store,
)
from storage.models import Evidence
from storage.thumbnails import make_thumbnail, read_bounded, thumbnail
from tests.s3_server import S3Server, moto_s3
from web.report_files import content_type, disposition, download_name, stream


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with moto_s3() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStorage:
    """Both stores the console streams from, made by the one factory from settings."""
    if request.param == "local":
        return open_evidence_store(load_settings(data_dir=tmp_path))
    server: S3Server = request.getfixturevalue("s3")
    return open_evidence_store(load_settings(data_dir=tmp_path, **server.settings(server.bucket())))


def png(size: tuple[int, int], mode: str = "RGB", color: object = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, "PNG")  # type: ignore[arg-type]
    return out.getvalue()


def test_a_thumbnail_is_a_jpeg_within_320_px_keeping_the_shape() -> None:
    jpeg = make_thumbnail(png((1600, 900)))
    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG" and image.size == (320, 180)


def test_a_picture_over_the_pixel_bound_is_refused_from_its_header() -> None:
    data = png((2000, 2000))
    assert make_thumbnail(data, max_pixels=3_999_999) is None
    assert make_thumbnail(data, max_pixels=4_000_000) is not None


def test_what_pillow_cannot_read_gets_none() -> None:
    assert make_thumbnail(b"%PDF-1.4\n%%EOF\n") is None
    assert make_thumbnail(png((50, 50))[:60]) is None  # truncated


def test_transparent_parts_become_white() -> None:
    jpeg = make_thumbnail(png((40, 40), "RGBA", (0, 0, 0, 0)))
    assert jpeg is not None
    with Image.open(io.BytesIO(jpeg)) as image:
        red, green, blue = image.convert("RGB").getpixel((20, 20))  # type: ignore[misc]
        assert min(red, green, blue) > 240


def test_thumbnails_are_cached_by_sha256_and_missing_files_raise(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    sha = store.put(png((800, 600)))
    cache = tmp_path / "cache"
    first = thumbnail(store, sha, cache)
    assert first is not None and (cache / f"{sha}.jpg").read_bytes() == first
    store.path_for(sha).unlink()  # the cache answers without reading the store
    assert thumbnail(store, sha, cache) == first
    try:
        thumbnail(store, "0" * 64, cache)
    except EvidenceMissing:
        pass
    else:
        raise AssertionError("a missing file must raise EvidenceMissing")


def test_reading_stops_past_the_size_bound(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    sha = store.put(b"x" * 5000)
    assert read_bounded(store, sha, limit=5000) == b"x" * 5000
    try:
        read_bounded(store, sha, limit=4999)
    except ValueError:
        pass
    else:
        raise AssertionError("a file over the bound must be refused")


def test_types_names_and_dispositions() -> None:
    photo = Evidence(kind="photo", file_name=None, mime_type="image/jpeg", sha256="a" * 64)
    assert content_type(photo) == "image/jpeg"
    sheet = Evidence(kind="document", file_name="签到表.pdf", mime_type="", sha256="b" * 64)
    assert content_type(sheet) == "application/pdf"
    assert download_name(sheet, "KX26-0001", 3) == "签到表.pdf"
    odd = Evidence(kind="document", file_name=None, mime_type="text/html", sha256="c" * 64)
    assert content_type(odd) == "application/octet-stream"  # never a page of kexie's origin
    assert download_name(odd, "KX26-0001", 2) == "KX26-0001-2"
    sneaky = Evidence(kind="document", file_name="../../etc/报告.docx", sha256="d" * 64)
    assert download_name(sneaky, "", 1) == "报告.docx"
    header = disposition("attachment", '签到"表.pdf')
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii() and '"' not in fallback
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == '签到"表.pdf'


async def test_a_file_streams_in_chunks_from_either_store(
    store: EvidenceStorage, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (CHUNK // 256 * 2 + 7)  # two full chunks and a bit
    sha = store.put(data)
    sheet = Evidence(
        kind="document", file_name="签到表.pdf", mime_type="application/pdf", sha256=sha
    )
    response = await stream(store, sheet, "签到表.pdf")
    assert isinstance(response, StreamingResponse)
    assert response.headers["content-length"] == str(len(data))
    chunks = [bytes(c) async for c in response.body_iterator]  # type: ignore[arg-type]
    assert len(chunks) == 3 and b"".join(chunks) == data
    missing = Evidence(kind="photo", sha256="e" * 64)
    assert await stream(store, missing, "x.jpg") is None
    photo_sha = store.put(png((900, 300)))
    jpeg = thumbnail(store, photo_sha, tmp_path / "thumbs")
    assert jpeg is not None and jpeg.startswith(b"\xff\xd8")
