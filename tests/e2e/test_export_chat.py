"""End-to-end: /export through the real application and the Bot API stand-in, and the CLI."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from exports import annex13, runs
from storage.evidence import open_evidence_store
from storage.models import ExportJob, Member, utcnow
from tests.accounts import at_telegram
from tests.export_data import YEAR, Seeded, seed_export_data
from tests.harness import Kexie
from tests.standin import BotMessage, FakeUser


async def seed(kexie: Kexie, year: int = YEAR) -> Seeded:
    async with kexie.session() as session:
        return await seed_export_data(session, open_evidence_store(kexie.settings), year)


async def member_id(kexie: Kexie, user: FakeUser) -> int:
    async with kexie.session() as session:
        found = await session.scalar(select(Member.id).where(at_telegram(user.user_id)))
        assert found is not None
        return found


def documents(user: FakeUser) -> dict[str, BotMessage]:
    return {m.file_name or "": m for m in user.messages if m.kind == "document" or m.file_bytes}


async def test_district_admin_exports_all_annexes(kexie: Kexie) -> None:
    this_year = kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())
    await seed(kexie, this_year)
    admin = await kexie.member(4101, "district_admin", district="锦江区")
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("全部三个附件")
    question = await admin.expect_any("请选择年度")
    await admin.press(f"{this_year}年（本年度）")  # one district: no district question
    progress = await admin.expect_any("正在导出", timeout=30)
    done = await admin.expect_any("已导出", timeout=60)
    # One progress message: the pressed question, edited from "正在导出…" to the file list.
    assert progress.message_id == done.message_id == question.message_id
    stem = f"{this_year}年锦江区"
    for name in (f"附件1-3_{stem}.xlsx", f"附件1-1_{stem}.xlsx", f"附件1-2_{stem}.xlsx"):
        assert name in done.text
    assert "活动 4 项，企业科协 2 个，功能区科协 1 个" in done.text
    assert done.edited and not done.buttons
    texts = [m for m in admin.messages if m.message_id > question.message_id and not m.file_name]
    assert texts == []  # nothing but the documents was sent besides the edited progress

    sent = documents(admin)
    assert set(sent) == {
        f"附件1-3_{stem}.xlsx",
        f"附件1-1_{stem}.xlsx",
        f"附件1-2_{stem}.xlsx",
        f"{stem}_附件及佐证材料.zip",
    }
    form = load_workbook(io.BytesIO(sent[f"附件1-3_{stem}.xlsx"].file_bytes or b""))["附件1-3"]
    assert form["A3"].value == "填报单位（盖章）：锦江区科协"
    assert [c.value for c in form[4]] == list(annex13.HEADERS)
    assert [form.cell(r, 1).value for r in range(6, 10)] == [1, 2, 3, 4]
    assert form["A10"].value == annex13.NOTE
    with zipfile.ZipFile(io.BytesIO(sent[f"{stem}_附件及佐证材料.zip"].file_bytes or b"")) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
    assert form["H6"].hyperlink.target in names
    assert sum(1 for n in names if n.startswith("佐证材料/") and not n.endswith("/")) == 7

    async with kexie.session() as session:
        job = await session.scalar(select(ExportJob).order_by(ExportJob.id.desc()))
        assert job is not None and job.status == runs.DONE and job.finished_at is not None


async def test_second_export_while_one_runs_is_refused(kexie: Kexie) -> None:
    admin = await kexie.member(4102, "district_admin", district="锦江区")
    # An export of this admin is running (perhaps in another bot process).
    async with kexie.session() as session:
        session.add(ExportJob(member_id=await member_id(kexie, admin), scope="x", status="running"))
    await admin.send("/export")
    await admin.expect("您已有一个导出正在进行，请等它完成后再试。")


async def test_older_years_can_be_typed_and_empty_scope_gives_empty_forms(kexie: Kexie) -> None:
    admin = await kexie.member(4103, "district_admin", district="青羊区")
    await admin.send("/export")
    await admin.expect_any("请选择要导出的附件")
    await admin.press("附件1-3")
    await admin.expect_any("请选择年度")
    await admin.send("2019")
    done = await admin.expect_any("已导出", timeout=60)
    assert "活动 0 项" in done.text
    sent = documents(admin)
    form = load_workbook(io.BytesIO(sent["附件1-3_2019年青羊区.xlsx"].file_bytes or b""))
    assert form["附件1-3"]["A6"].value == "无"  # a valid form, saying it has no rows
    assert form["附件1-3"]["A7"].value == annex13.NOTE


async def test_city_admin_chooses_a_district(kexie: Kexie) -> None:
    await seed(kexie, kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date()))
    city = await kexie.member(4104, "city_admin")
    await city.send("/export")
    await city.expect_any("请选择要导出的附件")
    await city.press("附件1-1")
    await city.expect_any("请选择年度")
    await city.press("本年度")
    where = await city.expect_any("请选择区（市）县")
    assert "全市：每个区（市）县一张表，另加汇总表" in where.button_texts
    assert "锦江区" in where.button_texts and len(where.button_texts) == 1 + 23 + 1
    await city.press("青羊区")
    done = await city.expect_any("已导出", timeout=60)
    assert "青羊区" in done.text and "企业科协 1 个" in done.text
    assert not [n for n in documents(city) if n.endswith(".zip")]  # 1-1 has no evidence


async def test_city_admin_exports_the_whole_city(kexie: Kexie) -> None:
    year = kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())
    await seed(kexie, year)
    city = await kexie.member(4105, "city_admin")
    await city.send("/export")
    await city.expect_any("请选择要导出的附件")
    await city.press("附件1-3")
    await city.expect_any("请选择年度")
    await city.press("本年度")
    await city.expect_any("请选择区（市）县")
    await city.press("全市")
    done = await city.expect_any("已导出", timeout=90)
    assert f"附件1-3_{year}年成都市.xlsx" in done.text
    sent = documents(city)[f"附件1-3_{year}年成都市.xlsx"]
    wb = load_workbook(io.BytesIO(sent.file_bytes or b""))
    assert wb.sheetnames[0] == "汇总" and "锦江区" in wb.sheetnames


async def test_reporters_and_strangers_cannot_export(kexie: Kexie) -> None:
    org = await kexie.org("某某科技有限公司科协")
    reporter = await kexie.member(4106, "reporter", org=org)
    await reporter.send("/export")
    await reporter.expect("您没有权限进行这个操作。")
    stranger = kexie.standin.user(4107, "路人")
    await stranger.send("/export")
    await stranger.expect_any("您还不是任何科协的成员")


async def test_cancel_and_stale_buttons(kexie: Kexie) -> None:
    admin = await kexie.member(4108, "district_admin", district="锦江区")
    await admin.send("/export")
    question = await admin.expect_any("请选择要导出的附件")
    await admin.send("随便说点什么")
    await admin.expect("请点上面消息里的按钮选择；发送 /cancel 可取消导出。")
    await admin.press("取消", question)
    await admin.expect_any("已取消导出。")
    await admin.expect_answer()  # the answer to 取消
    await admin.press_data("exp:annex:13", question.message_id)
    answer = await admin.expect_answer()
    assert answer.text == "这个按钮已失效，请看最新的消息。"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_cli_export_writes_the_files(kexie_idle: Kexie, tmp_path: Path) -> None:
    await seed(kexie_idle)
    out = tmp_path / "out"
    result = await kexie_idle.cli(
        "export", "all", "--year", str(YEAR), "--district", "锦江区", "--out", str(out)
    )
    assert result.rc == 0, result.err
    stem = f"{YEAR}年锦江区"
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            f"附件1-3_{stem}.xlsx",
            f"附件1-1_{stem}.xlsx",
            f"附件1-2_{stem}.xlsx",
            f"{stem}_附件及佐证材料.zip",
        ]
    )
    for name in names:
        assert name in result.out  # each file listed with its size
    assert "活动 4 项，佐证文件 7 个" in result.out
    ws = load_workbook(out / f"附件1-1_{stem}.xlsx")["附件1-1"]
    assert ws["A8"].value == "所属区（市）县" and ws["N8"].value == "25.0%"


async def test_cli_refuses_bad_scopes(kexie_idle: Kexie, tmp_path: Path) -> None:
    bad = await kexie_idle.cli("export", "1-3", "--year", "2021", "--district", "火星区",
                               "--out", str(tmp_path))  # fmt: skip
    assert bad.rc == 2 and "找不到区（市）县“火星区”" in bad.err
    half = await kexie_idle.cli("export", "1-3", "--year", "2021", "--city", "--from",
                                "2021-01-01", "--out", str(tmp_path))  # fmt: skip
    assert half.rc == 2 and "--from 和 --to 需要同时给出" in half.err
    org = await kexie_idle.cli("export", "1-1", "--year", "2021", "--org", "999",
                               "--out", str(tmp_path))  # fmt: skip
    assert org.rc == 2 and "找不到编号为 999 的科协" in org.err
