"""Render the annexes with LibreOffice (headless) to PDF: A4 landscape, and every page carries the
whole header row, so no table is split across pages sideways.

LibreOffice is installed by ``scripts/libreoffice.sh`` (run by scripts/test.sh as root in CI).
Where it is not installed this module is skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from exports.annex11 import ANNEX_11, write_registry
from exports.annex13 import add_form
from exports.names import plan_entries
from exports.rows import ActivityRow, DistrictFacts, EvidenceFile, OrgRow, Person


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


def landscape_a4(reader: PdfReader) -> bool:
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        if not (abs(width - 842) < 3 and abs(height - 595) < 3):
            return False
    return True


def activity(i: int) -> ActivityRow:
    return ActivityRow(
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
    add_form(wb, "附件1-3", 2021, plan_entries(rows))
    path = tmp_path / "附件1-3.xlsx"
    wb.save(path)
    reader = render(path, tmp_path)
    pages = len(reader.pages)
    assert 2 <= pages <= 40, pages  # 120 rows run down several pages, never dozens
    assert landscape_a4(reader)
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
        OrgRow(
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
    write_registry(path, ANNEX_11, 2021, [("附件1-1", orgs, facts)])
    reader = render(path, tmp_path)
    assert 2 <= len(reader.pages) <= 30
    assert landscape_a4(reader)
    for page in reader.pages:
        text = page.extract_text().replace(" ", "")
        assert "序号" in text and "联系人" in text
    assert "比例（已建/科技企业）" in reader.pages[-1].extract_text().replace(" ", "")
