"""Evidence is checked by content, not by name: a renamed executable, an empty file or a photo
that is not an image is refused with a reason; a file the API calls too big is "over 20 MB"."""

from __future__ import annotations

import zipfile
from io import BytesIO

import pytest
from sqlalchemy import func, select

from core.filetypes import CLAIMS, Problem, check_document, check_photo, sniff
from storage.evidence import ALLOWED_EXTENSIONS
from storage.models import Evidence
from tests.harness import Kexie
from tests.journeys import answer_until_evidence
from tests.standin import FakeUser, make_jpeg
from tests.steps import step_label

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16
HEIF_MIF1 = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 16
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 16
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100 + b"This program cannot be run in DOS"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _zip(names: list[str]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


DOCX = _zip(["[Content_Types].xml", "word/document.xml"])


# --- the plain function (core/filetypes.py) ----------------------------------------------


def test_sniff_recognises_the_formats_people_send() -> None:
    assert sniff(PDF) == "pdf"
    assert sniff(b"\xef\xbb\xbf junk\n%PDF-1.4\n") == "pdf"  # a few bytes before the header
    assert sniff(make_jpeg()) == "jpeg"
    assert sniff(PNG) == "png"
    assert sniff(HEIC) == "heif" and sniff(HEIF_MIF1) == "heif"
    assert sniff(MP4) is None  # ftyp, but a video brand
    assert sniff(DOCX) == "zip"
    assert sniff(OLE2) == "ole2"
    assert sniff(EXE) is None
    assert sniff(b"GIF89a\x01\x00") == "gif"
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") == "webp"


@pytest.mark.parametrize(
    ("data", "name", "ok"),
    [
        (PDF, "签到表.pdf", True),
        (EXE, "签到表.pdf", False),
        (DOCX, "签到表.pdf", False),
        (DOCX, "总结.docx", True),
        (OLE2, "总结.docx", True),  # a password-protected .docx is an OLE2 container
        (EXE, "总结.docx", False),
        (OLE2, "总结.doc", True),
        (b"{\\rtf1\\ansi hello}", "总结.doc", True),  # Word saves .doc as RTF too
        (DOCX, "总结.doc", False),
        (OLE2, "名单.xls", True),
        (DOCX, "名单.xls", False),
        (DOCX, "名单.xlsx", True),
        (DOCX, "汇报.pptx", True),
        (OLE2, "汇报.ppt", True),
        (EXE, "汇报.ppt", False),
        (make_jpeg(), "现场.jpg", True),
        (PNG, "现场.png", True),
        (make_jpeg(), "现场.png", True),  # an image under another image name still displays
        (EXE, "现场.jpg", False),
        (HEIC, "现场.heic", True),
        (MP4, "现场.heic", False),
        (OLE2, "文档.wps", True),
        ("名单\n张三,李四\n".encode(), "名单.csv", True),
        (b"BMW,4S\n", "名单.csv", True),  # text that happens to start like a bitmap
        (b"MZ\x90\x00" + b"%PDF-1.4" + b"\x00" * 64, "签到表.pdf", False),  # PDF header inside
        (EXE, "名单.txt", False),
    ],
)
def test_documents_are_checked_against_the_claimed_kind(data: bytes, name: str, ok: bool) -> None:
    problem = check_document(data, name, None)
    assert (problem is None) is ok, (name, problem)
    if not ok:
        assert problem is not None and problem.reason == Problem.MISMATCH


def test_the_refusal_names_the_claimed_kind() -> None:
    pdf = check_document(EXE, "签到表.pdf", "application/pdf")
    assert pdf is not None and pdf.expected == "PDF"
    word = check_document(EXE, "总结.docx", None)
    assert word is not None and word.expected == "Word"
    by_mime = check_document(EXE, None, "application/pdf")  # no file name: the MIME type claims
    assert by_mime is not None and by_mime.expected == "PDF"


def test_empty_files_are_refused() -> None:
    empty = check_document(b"", "签到表.pdf", "application/pdf")
    assert empty is not None and empty.reason == Problem.EMPTY
    photo = check_photo(b"")
    assert photo is not None and photo.reason == Problem.EMPTY


def test_photos_must_be_images() -> None:
    assert check_photo(make_jpeg()) is None
    bad = check_photo(EXE)
    assert bad is not None and bad.reason == Problem.MISMATCH


def test_every_accepted_extension_has_a_content_check() -> None:
    assert set(ALLOWED_EXTENSIONS) == set(CLAIMS)


# --- through the bot ------------------------------------------------------------------------


async def reporter_at_evidence(kexie: Kexie) -> FakeUser:
    org = await kexie.org("青白江物流科技科协", district="青白江区")
    user = await kexie.member(3101, "reporter", org=org)
    await answer_until_evidence(user)
    return user


async def evidence_rows(kexie: Kexie) -> int:
    async with kexie.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Evidence)) or 0)


def push_document_without_size(
    kexie: Kexie, user: FakeUser, data: bytes, name: str, size: int
) -> None:
    """A document update without ``file_size`` (Telegram omits it at times)."""
    stored = kexie.standin._store_file(
        "document", data, file_name=name, mime_type="application/pdf", file_size=size
    )
    document = kexie.standin._document_json(stored)
    document.pop("file_size")
    kexie.standin.push_update("message", user._new_message(document=document))


async def test_renamed_executable_empty_file_and_fake_photo_are_refused(kexie: Kexie) -> None:
    user = await reporter_at_evidence(kexie)
    await user.send_document(EXE, "签到表.pdf", "application/pdf")
    refused = await user.expect()
    assert "内容不是 PDF" in refused.text and "原文件" in refused.text
    await user.send_document(b"", "签到表.pdf", "application/pdf")
    assert "空" in (await user.expect()).text
    push_document_without_size(kexie, user, b"", "空白.pdf", 0)  # empty, size not announced
    assert "空" in (await user.expect()).text
    await user.send_document(EXE, "总结.docx", "application/octet-stream")
    assert "内容不是 Word" in (await user.expect()).text
    await user.send_photo(EXE)
    assert "不是图片" in (await user.expect()).text
    assert await evidence_rows(kexie) == 0  # nothing reached the admins' bundle
    # the genuine files still go in
    await user.send_document(PDF, "签到表.pdf", "application/pdf")
    await user.expect_any("现有佐证材料 1 个")
    await user.send_photo(make_jpeg(seed=3))
    await user.expect_any("现有佐证材料 2 个")
    assert await evidence_rows(kexie) == 2


async def test_file_too_big_without_a_size_is_over_20_mb(kexie: Kexie) -> None:
    kexie.standin.allow_errors = True  # getFile answers 400 "file is too big" on purpose
    user = await reporter_at_evidence(kexie)
    push_document_without_size(kexie, user, PDF, "大文件.pdf", 25 * 1024 * 1024)
    reply = await user.expect()
    assert "文件太大" in reply.text and "20MB" in reply.text
    assert "下载失败" not in reply.text
    assert await evidence_rows(kexie) == 0


async def test_a_refused_early_file_asks_the_current_question_again(kexie: Kexie) -> None:
    org = await kexie.org("新津物流科协", district="新津区")
    user = await kexie.member(3201, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send_document(EXE, "签到表.pdf", "application/pdf")
    assert "内容不是 PDF" in (await user.expect()).text
    await user.expect(step_label("activity_date"))
    assert await evidence_rows(kexie) == 0
