"""Units of the export: Windows-safe names, layout arithmetic, and the one-export-per-admin rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from exports import runs
from exports.layout import display_width, line_count, row_height
from exports.names import count_label, extension, file_names, plan_entries, safe_name
from exports.rows import EvidenceFile, PrintedActivity
from exports.service import annexes_of
from exports.summary import percent
from storage.db import Database
from storage.models import ExportJob, utcnow
from tests.accounts import telegram_member


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("科技政策解读会", "科技政策解读会"),
        ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),
        ("讲座。。. . ", "讲座。。"),
        ("CON", "_CON"),
        ("lpt1.txt", "_lpt1.txt"),
        ("第一行\n第二行\t结束", "第一行 第二行 结束"),
        ("   ", "未命名"),
        ("...", "未命名"),
        ("控制\x00字符\x1f", "控制_字符_"),
    ],
)
def test_safe_name(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


def test_safe_name_is_short() -> None:
    assert len(safe_name("很长的活动名称" * 20)) == 30


def test_file_names_and_labels() -> None:
    files = (
        EvidenceFile("a" * 64, "photo"),
        EvidenceFile("b" * 64, "document", "签到表.PDF", "application/pdf"),
        EvidenceFile("c" * 64, "document", None, "application/vnd.ms-excel"),
        EvidenceFile("d" * 64, "document", "照片.png", "image/png"),
        EvidenceFile("e" * 64, "document", "noext", None),
    )
    assert file_names(files) == ["01.jpg", "02_签到表.pdf", "03.xls", "04_照片.png", "05_noext.bin"]
    assert count_label(files) == "2张照片、3个文件"
    assert count_label(files[:1]) == "1张照片"
    assert extension(EvidenceFile("f" * 64, "document", "a.b/c", None)) == ".bin"


def _row(i: int, evidence: tuple[EvidenceFile, ...] = ()) -> PrintedActivity:
    return PrintedActivity(i, date(2021, 1, 1), f"活动{i}", "", "主办", 1, "", "x", "enterprise", 1,
                       "锦江区", evidence=evidence)  # fmt: skip


def test_entries_number_from_one_with_folders() -> None:
    photo = (EvidenceFile("a" * 64, "photo"),) * 3
    entries = plan_entries([_row(7, photo), _row(8)], "锦江区")
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].folder == "佐证材料/锦江区/001_活动7"
    assert (
        entries[0].label == "附件001（3张照片）" and entries[0].link == "佐证材料/锦江区/001_活动7/"
    )
    assert entries[1].label == "无" and entries[1].link is None
    many = plan_entries([_row(i) for i in range(1, 1002)])
    assert many[-1].folder == "佐证材料/1001_活动1001"


def test_layout_arithmetic() -> None:
    assert display_width("科协abc") == 7
    assert display_width("（）") == 4
    assert line_count("科" * 10, 11.5) == 2  # 20 units in 10 usable
    assert line_count("a\nb\nc", 10) == 3
    assert row_height(["一行"], [10]) < row_height(["一\n二\n三"], [10])
    assert row_height(["字" * 100_000], [10]) == 409.0


def test_cells_drop_control_characters_and_keep_formulas_as_text() -> None:
    from openpyxl import Workbook

    from exports.layout import Sheet

    sheet = Sheet(Workbook(write_only=True), "x", [10])
    cell = sheet.styles.cell(sheet.ws, "\x07=SUM(A1)\x00", "body")
    assert cell.value == "=SUM(A1)" and cell.data_type == "s" and cell.quotePrefix
    number = sheet.styles.cell(sheet.ws, 42, "center")
    assert number.value == 42 and number.data_type == "n" and not number.quotePrefix


def test_percent_and_annex_choices() -> None:
    assert percent(1, 8) == "12.5%"
    assert percent(3, 0) == "—" and percent(3, None) == "—"
    assert annexes_of("all") == ("1-3", "1-1", "1-2")
    with pytest.raises(ValueError):
        annexes_of("1-4")


async def test_only_the_older_of_two_simultaneous_exports_goes_ahead(db: Database) -> None:
    async with db.session() as session:
        member = telegram_member(1, first_name="甲")
        other = telegram_member(2, first_name="乙")
        session.add_all([member, other])
        await session.flush()
        member_id, other_id = member.id, other.id
    # Two processes each commit their claim before looking (neither saw the other first).
    async with db.session() as session:
        first = (await runs.open_job(session, member_id, "a")).id
    async with db.session() as session:
        second = (await runs.open_job(session, member_id, "b")).id
    async with db.session() as session:
        third = (await runs.open_job(session, other_id, "c")).id  # someone else: unaffected
    async with db.session() as session:
        assert await runs.confirm_job(session, second) is False
        assert await runs.confirm_job(session, first) is True
        assert await runs.confirm_job(session, third) is True
    async with db.session() as session:
        refused = await session.get(ExportJob, second)
        assert refused is not None and refused.status == runs.REFUSED
        running = await runs.running_job(session, member_id)
        assert running is not None and running.id == first
        await runs.finish_job(session, first, runs.DONE)
    async with db.session() as session:
        assert await runs.running_job(session, member_id) is None


async def test_a_job_left_running_by_a_killed_process_goes_stale(db: Database) -> None:
    async with db.session() as session:
        member = telegram_member(3, first_name="丙")
        session.add(member)
        await session.flush()
        session.add(
            ExportJob(
                member_id=member.id,
                scope="x",
                status=runs.RUNNING,
                started_at=utcnow() - runs.STALE_AFTER - timedelta(minutes=1),
            )
        )
        await session.flush()
        assert await runs.running_job(session, member.id) is None
        fresh = await runs.open_job(session, member.id, "y")
        assert await runs.confirm_job(session, fresh.id) is True
