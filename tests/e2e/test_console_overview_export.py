"""The console's overview (web/overview.py: the countdown's figures and the /status chart) and
export (web/export.py: the /export choices, a progress page, downloads, the files also in chat),
through HTTP on the running bot, with the Bot API stand-in as the admin's chat."""

from __future__ import annotations

import asyncio
import io
import re
import time
import zipfile
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.app import build_application
from bot.console import console_app
from bot.polling import serve
from channels.telegram.exports import after_restart
from core.review_rules import ReviewState
from exports import annex13, runner, runs
from storage.evidence import open_evidence_store
from storage.models import Activity, ExportJob, utcnow
from tests.console import BASE, console_client, sign_in
from tests.export_data import Seeded, seed_export_data
from tests.harness import Kexie
from tests.standin import FakeUser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def this_year(kexie: Kexie) -> int:
    return kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())


async def seed(kexie: Kexie) -> Seeded:
    """锦江区: two enterprise associations and a zone, four reports this year (one late)."""
    async with kexie.session() as session:
        return await seed_export_data(
            session, open_evidence_store(kexie.settings), this_year(kexie)
        )


def figures(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', html)}


async def finished_run(client: httpx.AsyncClient, location: str) -> str:
    """The run page once the export has ended (the page refreshes itself while it runs)."""
    for _ in range(600):
        answer = await client.get(location)
        assert answer.status_code == 200, answer.text[:300]
        if 'data-status="running"' not in answer.text:
            return answer.text
        assert '<meta http-equiv="refresh"' in answer.text
        await asyncio.sleep(0.1)
    raise AssertionError("the export did not end")


def links(html: str) -> dict[str, str]:
    """Download links of a finished run: file name → URL."""
    found = re.findall(r'<a href="(/console/export/\d+/[^"]+)" download>([^<]+)</a>', html)
    return {name: url for url, name in found}


def documents(user: FakeUser) -> dict[str, bytes]:
    return {m.file_name or "": m.file_bytes or b"" for m in user.messages if m.file_name}


# ---------------------------------------------------------------------------------------------
# overview


async def test_overview_shows_the_countdown_figures_of_the_district(kexie: Kexie) -> None:
    seeded = await seed(kexie)
    async with kexie.session() as session:  # two of the four wait for the district's review
        await session.execute(
            update(Activity)
            .where(Activity.id.in_(seeded.submitted[:2]))
            .values(review_state=ReviewState.PENDING)
        )
    await kexie.org("锦江沉默科技科协")  # no report this year
    await kexie.org("武侯某科技科协", district="武侯区")  # another district: not counted
    await kexie.member(6101, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6101)
        answer = await client.get("/console/overview")
    assert answer.status_code == 200
    assert f"锦江区 · {this_year(kexie)}年度报送概览" in answer.text
    assert figures(answer.text) == {
        "reports": 4,
        "late": 1,
        "orgs": 4,
        "enterprises": 3,
        "zones": 1,
        "reported": 3,
        "silent": 1,
        "incomplete": figures(answer.text)["incomplete"],
        "pending": 2,
    }
    assert figures(answer.text)["incomplete"] >= 2  # 锦江国资公司科协 and the silent one are bare
    assert 'data-days="' in answer.text
    # The chart is drawn in the page (text a phone can read), its picture a link away.
    months = re.findall(r'<li data-total="(\d+)" data-late="(\d+)">', answer.text)
    assert len(months) == 12
    assert sum(int(total) for total, _ in months) == 4
    assert sum(int(late) for _, late in months) == 1
    assert 'class="button secondary chart-picture" href="/console/overview/chart.png' in answer.text


async def test_the_overview_says_returned_reports_are_counted_but_not_exported(
    kexie: Kexie,
) -> None:
    seeded = await seed(kexie)
    async with kexie.session() as session:
        await session.execute(
            update(Activity)
            .where(Activity.id == seeded.submitted[0])
            .values(review_state=ReviewState.RETURNED)
        )
    await kexie.member(6102, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6102)
        answer = await client.get("/console/overview")
    assert answer.status_code == 200
    assert figures(answer.text)["reports"] == 4  # counted here, as in /status
    assert 'data-returned="1"' in answer.text
    assert "已退回的报送不计入附件1-3" in answer.text and "本年度 1 条" in answer.text


async def test_a_city_admin_sees_every_district_and_may_pick_one(kexie: Kexie) -> None:
    seeded = await seed(kexie)
    await kexie.member(6111, "city_admin")
    async with console_client(kexie) as client:
        await sign_in(client, 6111)
        city = await client.get("/console/overview")
        one = await client.get("/console/overview", params={"district": seeded.district_id})
    assert city.status_code == 200 and "成都市 · " in city.text
    assert figures(city.text)["reports"] == 5  # 锦江区's four and 青羊区's one
    assert f'data-district="{seeded.other_district_id}"' in city.text
    assert one.status_code == 200 and "锦江区 · " in one.text
    assert figures(one.text)["reports"] == 4


async def test_the_chart_is_a_png_and_another_district_chart_is_not_found(kexie: Kexie) -> None:
    await seed(kexie)
    await kexie.member(6121, "district_admin", district="锦江区")
    wuhou = await kexie.district("武侯区")
    async with console_client(kexie) as client:
        await sign_in(client, 6121)
        chart = await client.get("/console/overview/chart.png")
        other = await client.get("/console/overview/chart.png", params={"district": wuhou.id})
        other_page = await client.get("/console/overview", params={"district": wuhou.id})
        missing = await client.get("/console/overview/chart.png", params={"district": 999999})
    assert chart.status_code == 200, chart.text[:300]
    assert chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(PNG_MAGIC)
    assert other.status_code == 404 and other_page.status_code == 404
    assert missing.status_code == 404
    assert other.text == missing.text  # out of scope looks exactly like missing


# ---------------------------------------------------------------------------------------------
# export


async def test_a_district_admin_exports_annex_13_downloads_it_and_gets_it_in_chat(
    kexie: Kexie,
) -> None:
    seeded = await seed(kexie)
    year = this_year(kexie)
    admin = await kexie.member(6201, "district_admin", district="锦江区")
    await kexie.member(6202, "district_admin", district="青羊区")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6201)
        form = await client.get("/console/export")
        assert form.status_code == 200
        assert 'value="city"' not in form.text  # a district admin is not offered the city
        assert f'<option value="{seeded.district_id}">锦江区</option>' in form.text
        started = await client.post(
            "/console/export",
            data={
                "csrf": csrf,
                "annex": "1-3",
                "year": str(year),
                "where": str(seeded.district_id),
                "bundle": "1",
            },
        )
        assert started.status_code == 303, started.text[:300]
        location = started.headers["location"]
        assert re.fullmatch(r"/console/export/\d+", location)
        done = await finished_run(client, location)
        assert 'data-status="done"' in done, done
        files = links(done)
        stem = f"{year}年锦江区"
        assert set(files) == {f"附件1-3_{stem}.xlsx", f"{stem}_附件及佐证材料.zip"}

        sheet = await client.get(files[f"附件1-3_{stem}.xlsx"])
        assert sheet.status_code == 200
        assert sheet.headers["content-type"] == XLSX
        disposition = sheet.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert unquote(disposition.split("filename*=utf-8''")[1]) == f"附件1-3_{stem}.xlsx"
        form13 = load_workbook(io.BytesIO(sheet.content))["附件1-3"]
        assert [c.value for c in form13[4]] == list(annex13.HEADERS)
        assert [form13.cell(r, 1).value for r in range(6, 10)] == [1, 2, 3, 4]
        names = [form13.cell(r, 3).value for r in range(6, 10)]
        assert "科技政策解读会" in names and "年末学术交流" in names
        bundle = await client.get(files[f"{stem}_附件及佐证材料.zip"])
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as zf:
            assert zf.testzip() is None

        # Another district's admin: the run and its files do not exist for them.
        async with console_client(kexie) as other:
            await sign_in(other, 6202)
            assert (await other.get(location)).status_code == 404
            assert (await other.get(files[f"附件1-3_{stem}.xlsx"])).status_code == 404
        # A name the run's folder does not list is not found either.
        assert (await client.get(f"{location}/..%2F..%2Fkexie.db")).status_code == 404
        assert (await client.get(f"{location}/kexie.db")).status_code == 404

    # The same files reached the admin's chat, as /export sends them.
    await admin.expect_any("从控制台导出的文件")
    sent = documents(admin)
    assert set(sent) == set(files)
    assert sent[f"附件1-3_{stem}.xlsx"] == sheet.content
    async with kexie.session() as session:
        job = await session.scalar(select(ExportJob).order_by(ExportJob.id.desc()))
        assert job is not None and job.status == runs.DONE
        assert job.scope.startswith(f"1-3:district:{seeded.district_id}:")


async def test_without_the_bundle_only_the_workbook_is_written(kexie: Kexie) -> None:
    seeded = await seed(kexie)
    year = this_year(kexie)
    await kexie.member(6211, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6211)
        started = await client.post(
            "/console/export",
            data={"csrf": csrf, "annex": "1-3", "year": str(year), "where": seeded.district_id},
        )
        assert started.status_code == 303
        done = await finished_run(client, started.headers["location"])
    assert set(links(done)) == {f"附件1-3_{year}年锦江区.xlsx"}


async def test_export_refusals(kexie: Kexie) -> None:
    seeded = await seed(kexie)
    year = str(this_year(kexie))
    await kexie.member(6221, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6221)
        choice = {"annex": "all", "year": year, "where": str(seeded.district_id)}
        no_csrf = await client.post("/console/export", data=choice)
        assert no_csrf.status_code == 403
        city = await client.post("/console/export", data={**choice, "csrf": csrf, "where": "city"})
        assert city.status_code == 403
        assert "导出全市的附件只对市科协管理员开放" in city.text
        other = await client.post(
            "/console/export",
            data={**choice, "csrf": csrf, "where": str(seeded.other_district_id)},
        )
        assert other.status_code == 404
        bad = await client.post("/console/export", data={**choice, "csrf": csrf, "annex": "9-9"})
        assert bad.status_code == 400
    async with kexie.session() as session:
        assert await session.scalar(select(ExportJob.id)) is None  # nothing was started


# ---------------------------------------------------------------------------------------------
# a shutdown during a console export: the chat's interruption rules hold


def endless_export(*_args: Any, progress: Any, **_kwargs: Any) -> Any:
    """Stands in for write_exports on a very large data set: it keeps reporting progress."""
    deadline = time.monotonic() + 60  # never outlive the test run, even when nothing stops it
    rows = 0
    while time.monotonic() < deadline:
        rows += 1
        progress("1-3", rows, 1_000_000)
        time.sleep(0.02)
    raise AssertionError("the export was never told to stop")


async def test_a_console_export_cut_short_by_a_shutdown_is_recorded_and_told(
    kexie_idle: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    kexie = kexie_idle
    monkeypatch.setattr(runner, "write_exports", endless_export)
    monkeypatch.setattr(runner, "PROGRESS_EVERY", 0.1)

    async def run_bot() -> tuple[Any, asyncio.Event, asyncio.Task[None]]:
        app = build_application(kexie.settings, kexie.db)
        stop = asyncio.Event()
        task = asyncio.create_task(
            serve(app, timeout=1, stop=stop, signals=False, on_start=after_restart)
        )
        return app, stop, task

    app, stop, running = await run_bot()
    admin = await kexie.member(6301, "district_admin", district="锦江区")
    district = await kexie.district("锦江区")
    transport = httpx.ASGITransport(app=console_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        csrf = await sign_in(client, 6301)
        started = await client.post(
            "/console/export",
            data={
                "csrf": csrf,
                "annex": "1-3",
                "year": str(this_year(kexie)),
                "where": district.id,
            },
        )
        assert started.status_code == 303
        location = started.headers["location"]
        for _ in range(300):  # until the writer is under way: "正在生成表格：n/m 行"
            page = await client.get(location)
            if "行" in page.text:
                break
            await asyncio.sleep(0.1)
        assert 'data-status="running"' in page.text and "行" in page.text, page.text

    stop.set()  # what SIGTERM does
    await asyncio.wait_for(running, 15)
    async with kexie.session() as session:
        job = await session.scalar(select(ExportJob))
        assert job is not None and job.status == runs.INTERRUPTED

    app, stop, running = await run_bot()
    told = await admin.expect_any("中断", timeout=30)
    assert "附件1-3" in told.text and str(this_year(kexie)) in told.text
    transport = httpx.ASGITransport(app=console_app(app))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        await sign_in(client, 6301)
        page = await client.get(location)
        assert 'data-status="interrupted-told"' in page.text
        assert "因机器人重启而中断" in page.text
    stop.set()
    await asyncio.wait_for(running, 15)
