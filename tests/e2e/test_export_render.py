"""Render the annexes with LibreOffice (headless) to PDF: A4 landscape, and every page carries the
whole header row, so no table is split across pages sideways.

LibreOffice is installed by ``scripts/libreoffice.sh`` (run by scripts/test.sh as root in CI).
Where it is not installed this module is skipped, saying why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from pypdf import PageObject, PdfReader

from core.registry_rules import Person
from exports.annex11 import ANNEX_11, write_registry
from exports.annex13 import add_form
from exports.names import plan_entries
from exports.rows import DistrictFacts, EvidenceFile, PrintedActivity, PrintedOrg
from exports.service import write_exports
from exports.summary import activity_summary, add_summary_sheet
from storage.evidence import EvidenceStore
from tests import forms_world


def _soffice() -> str | None:
    for candidate in (
        os.environ.get("KEXIE_SOFFICE"),
        shutil.which("soffice"),
        shutil.which("libreoffice"),
        "/usr/lib/libreoffice/program/soffice",
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


SOFFICE = _soffice()
pytestmark = pytest.mark.skipif(
    SOFFICE is None,
    reason="LibreOffice not installed (scripts/libreoffice.sh installs it when run as root)",
)


def render(xlsx: Path, tmp_path: Path) -> PdfReader:
    """Convert a workbook to PDF with LibreOffice and open it."""
    assert SOFFICE is not None
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx),
        ],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = tmp_path / (xlsx.stem + ".pdf")
    assert pdf.exists(), "LibreOffice wrote no PDF"
    return PdfReader(pdf)


def landscape_a4(pages: list[PageObject]) -> bool:
    for page in pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        if not (abs(width - 842) < 3 and abs(height - 595) < 3):
            return False
    return True


def activity(i: int) -> PrintedActivity:
    return PrintedActivity(
        id=i,
        activity_date=date(2021, 1 + i % 12, 1 + i % 28),
        name=f"第{i}场科技政策解读会",
        content="邀请市科技局专家解读科技企业扶持政策，面向园区企业，现场答疑并收集需求。" * 2,
        role="主办",
        headcount=50 + i,
        outcome="30家企业了解了申报流程，5家企业当场提交了意向。",
        org_name="某科协",
        org_kind="enterprise",
        district_id=1,
        district_name="锦江区",
        submitted_at=datetime(2021, 1, 1, tzinfo=UTC),
        on_time=True,
        evidence=(EvidenceFile("0" * 64, "photo"),) * 3,
    )


def test_annex13_pages_keep_every_column(tmp_path: Path) -> None:
    rows = [activity(i) for i in range(1, 121)]
    wb = Workbook(write_only=True)
    add_form(wb, ("附件1-3", "锦江区科协", plan_entries(rows)), 2021)
    path = tmp_path / "附件1-3.xlsx"
    wb.save(path)
    reader = render(path, tmp_path)
    pages = len(reader.pages)
    assert 2 <= pages <= 40, pages  # 120 rows run down several pages, never dozens
    assert landscape_a4(list(reader.pages))
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text().replace(" ", "")
        # The repeated header row, first column to last, is on every page: nothing was pushed
        # onto a page of its own to the right.
        assert "序号" in text and "佐证材料" in text and "以附件形式提供" in text, number
        assert f"第{number}页" in text, number
    assert "备注：此表由各企业科协" in reader.pages[-1].extract_text().replace(" ", "")


def test_annex11_pages_keep_every_column(tmp_path: Path) -> None:
    people = {
        "chair": (Person("张三", "总工程师", "028-12345678"),),
        "vice_chair": (Person("李四", "副总经理", "13800000001"), Person("王五", "部长", "1380")),
        "secretary_general": (Person("赵六", "主任", "13800000003"),),
        "deputy_secretary_general": (Person("孙七", "副主任", "13800000005"),),
        "contact": (Person("钱八", "干事", "13800000004"),),
    }
    orgs = [
        PrintedOrg(
            id=i, kind="enterprise", name=f"成都第{i}科技有限公司科学技术协会", district_id=1,
            district_name="锦江区", approval_no=f"锦科协〔2021〕{i}号",
            approval_date=date(2021, 3, 1), address="成都市锦江区某某路100号科技园3栋",
            employees=300, tech_staff=80, association_members=60, ownership="民企",
            officers=people,
        )
        for i in range(1, 61)
    ]  # fmt: skip
    path = tmp_path / "附件1-1.xlsx"
    facts = DistrictFacts(1, "锦江区", 60, 0, 500, 80)
    write_registry(path, ANNEX_11, 2021, [("附件1-1", "锦江区科协", orgs, facts)])
    reader = render(path, tmp_path)
    assert 2 <= len(reader.pages) <= 30
    assert landscape_a4(list(reader.pages))
    for page in reader.pages:
        text = page.extract_text().replace(" ", "")
        assert "序号" in text and "联系人" in text
    assert "比例（已建/科技企业）" in reader.pages[-1].extract_text().replace(" ", "")


OUTPUT = Path(__file__).resolve().parents[1] / "output" / "forms"
PDFTOPPM = shutil.which("pdftoppm")


def plain(page: PageObject) -> str:
    """A page's text without spaces (LibreOffice spaces CJK text out), line breaks kept."""
    return re.sub(r"[ \u3000\t]+", "", page.extract_text())


def snapshot(pdf: Path, pages: int) -> None:
    """PNG pictures of a PDF's first pages beside it, for eyes (when pdftoppm is installed)."""
    if PDFTOPPM is not None:
        subprocess.run(
            [PDFTOPPM, "-r", "80", "-png", "-l", str(pages), str(pdf), str(pdf.with_suffix(""))],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def render_all(workbooks: list[Path], out: Path) -> dict[str, PdfReader]:
    """Convert several workbooks in one LibreOffice run (a start costs seconds)."""
    assert SOFFICE is not None
    profile = out / "lo-profile"
    subprocess.run(
        [
            SOFFICE, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to", "pdf", "--outdir", str(out), *map(str, workbooks),
        ],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    return {p.stem: PdfReader(out / f"{p.stem}.pdf") for p in workbooks}


def test_the_world_s_forms_render_as_an_office_would_print_them(tmp_path: Path) -> None:
    """The city's and 锦江区's three workbooks of a realistic world, rendered to
    tests/output/forms/ (PDF, and PNG of the first pages)."""
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    store = EvidenceStore(tmp_path / "evidence")
    tz = ZoneInfo("Asia/Shanghai")
    files: list[Path] = []
    for district in (None, "锦江区"):
        data = forms_world.export_data(district)
        files += write_exports(data, OUTPUT, store, tz, thumbnails=False, bundle=False).files
    pdfs = render_all(files, OUTPUT)
    for stem, reader in pdfs.items():
        snapshot(OUTPUT / f"{stem}.pdf", 3 if "成都市" in stem else len(reader.pages))
        assert landscape_a4(list(reader.pages[1:] if "成都市" in stem else reader.pages)), stem

    # Each city workbook: the 汇总 whole on page 1 (合计 and all), the first form from page 2.
    for annex in ("1-3", "1-1", "1-2"):
        reader = pdfs[f"附件{annex}_2021年成都市"]
        first, second = plain(reader.pages[0]), plain(reader.pages[1])
        assert "汇总" in first and "成都东部新区" in first and "合计" in first, annex
        assert "合计" not in second and "填报单位（盖章）：锦江区科协" in second, annex

    # Every page of a district's form says whose it is, in its footer at least.
    city13 = pdfs["附件1-3_2021年成都市"]
    forms = [plain(page) for page in city13.pages if "以附件形式提供" in plain(page)]
    assert len(forms) >= 17  # 17 districts reported, the form header repeated on every page
    for number, text in enumerate(forms, start=1):
        assert re.search(r"科协第\d+页", text), number

    # 锦江区's 1-1 on one page: brackets and phones whole, headers broken where they should be.
    reader = pdfs["附件1-1_2021年锦江区"]
    assert len(reader.pages) == 1
    text = plain(reader.pages[0])
    assert "填报单位（盖章）：锦江区科协" in text and "填报日期" in text
    assert "（国企/民企）" in text and "人员数" in text and "（\n" not in text
    phones = {
        p.phone
        for org in forms_world.export_data("锦江区").enterprises
        for people in org.officers.values()
        for p in people
    }
    assert len(phones) > 20
    for phone in phones:
        assert phone in text, phone  # not split at its hyphen, nor anywhere else


def test_a_summary_alone_is_one_page(tmp_path: Path) -> None:
    data = forms_world.export_data()
    wb = Workbook(write_only=True)
    add_summary_sheet(wb, activity_summary(2021, data.districts, data.activities))
    path = tmp_path / "汇总.xlsx"
    wb.save(path)
    reader = render(path, tmp_path)
    assert len(reader.pages) == 1
    text = plain(reader.pages[0])
    assert "合计" in text and "成都东部新区" in text
