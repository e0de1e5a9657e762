"""/export's 只导出已通过 switch: annex 1-3 then keeps the approved reports only (by default it
holds approved and pending ones, never returned ones)."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from core.enums import ActivityStatus
from core.review_rules import ReviewState
from core.rules import reference_number
from core.years import ReportingYears
from storage.models import Activity, Member, utcnow
from tests.harness import Kexie
from tests.standin import FakeUser


async def _seed(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    day = utcnow().astimezone(kexie.settings.tz).date() - timedelta(days=1)
    async with kexie.session() as session:
        author = Member(first_name="王芳")
        session.add(author)
        await session.flush()
        for name, state in (
            ("已通过的活动", ReviewState.APPROVED),
            ("待审核的活动", ReviewState.PENDING),
            ("被退回的活动", ReviewState.RETURNED),
        ):
            activity = Activity(
                org_id=org, author_id=author.id, status=ActivityStatus.SUBMITTED,
                activity_date=day, name=name, content="内容", role="主办", headcount=30,
                outcome="成效", submitted_at=utcnow(), on_time=True, review_state=state,
            )  # fmt: skip
            session.add(activity)
            await session.flush()
            activity.ref_no = reference_number(activity.id, ReportingYears().year_of(day))


async def _export(admin: FakeUser, year: int, *, approved_only: bool) -> list[tuple[str, str]]:
    await admin.send("/export")
    question = await admin.expect_any("请选择要导出的附件")
    if approved_only:
        await admin.press("只导出已通过审核的报送", question)
        switched = await admin.expect_any("请选择要导出的附件")
        assert any("☑" in b.text for row in switched.buttons for b in row)
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    await admin.press(f"{year}年")  # 本年度's button or the year before's
    await admin.expect_any("已导出", timeout=60)
    sheet = [m for m in admin.messages if (m.file_name or "").startswith("附件1-3_")][-1]
    ws = load_workbook(io.BytesIO(sheet.file_bytes or b""))["明细"]
    column = [c.value for c in ws[2]].index("审核状态") + 1
    return [
        (str(ws.cell(r, 2).value), str(ws.cell(r, column).value)) for r in range(3, ws.max_row + 1)
    ]


async def test_export_choice_restricts_to_approved(kexie: Kexie) -> None:
    await _seed(kexie)
    admin = await kexie.member(4101, "district_admin", district="锦江区")
    yesterday = utcnow().astimezone(kexie.settings.tz).date() - timedelta(days=1)
    year = kexie.settings.years.year_of(yesterday)
    assert sorted(await _export(admin, year, approved_only=False)) == [
        ("已通过的活动", "已通过"),
        ("待审核的活动", "待审核"),
    ]
    admin.drain()
    assert await _export(admin, year, approved_only=True) == [("已通过的活动", "已通过")]


async def test_cli_approved_only(kexie_idle: Kexie, tmp_path: Path) -> None:
    await _seed(kexie_idle)
    yesterday = utcnow().astimezone(kexie_idle.settings.tz).date() - timedelta(days=1)
    year = kexie_idle.settings.years.year_of(yesterday)
    counts = {}
    for flag in ((), ("--approved-only",)):
        out = tmp_path / ("approved" if flag else "default")
        result = await kexie_idle.cli(
            "export", "1-3", "--year", str(year), "--district", "锦江区", "--out", str(out), *flag
        )
        assert result.rc == 0, result.err
        ws = load_workbook(next(out.glob("附件1-3_*.xlsx")))["明细"]
        counts[bool(flag)] = sorted(str(ws.cell(r, 2).value) for r in range(3, ws.max_row + 1))
    assert counts == {False: ["已通过的活动", "待审核的活动"], True: ["已通过的活动"]}
