"""The console's associations (web/associations.py): the registry in the admin's scope with
completeness, reports this year, last report and quietness; one association's annex fields and
reports; 提醒, the same nudge as the chat's /chase under the same once-a-day rule. Ids outside
the admin's scope answer exactly as missing ones; a form without its CSRF token is refused."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import event, select

import bot.console
from core.enums import ActivityStatus
from core.registry_rules import Person, field_by_key
from core.rules import format_date, format_datetime
from storage.chase import CHASE_KIND
from storage.console_orgs import PAGE_SIZE
from storage.models import Activity, Member, OutboxMessage, utcnow
from storage.registry import district_by_name, load_organisation, set_field
from tests.accounts import at_telegram
from tests.browser import (
    DESKTOP,
    assert_no_horizontal_overflow,
    browser,  # noqa: F401  (the fixture)
    screenshot,
    set_viewport,
)
from tests.console import console_client, console_server, csrf_of, init_data, sign_in
from tests.harness import Kexie
from tests.journeys import local_today, run_scheduler_at, toast

PHONE_360 = (360, 780)  # the narrowest phone the console must fit
NUDGE = "锦江区科协提醒"  # the start of the chat's /chase nudge (sch_chase_nudge)


def _today(kexie: Kexie) -> date:
    return utcnow().astimezone(kexie.settings.tz).date()


async def _district_id(kexie: Kexie, name: str) -> int:
    async with kexie.session() as session:
        district = await district_by_name(session, name)
        assert district is not None
        return district.id


async def _member_id(kexie: Kexie, user_id: int) -> int:
    async with kexie.session() as session:
        member_id = await session.scalar(select(Member.id).where(at_telegram(user_id)))
        assert member_id is not None
        return int(member_id)


async def _activity(
    kexie: Kexie, org_id: int, author: int, day: date, name: str, status: str = "submitted"
) -> int:
    """A report as the flow leaves it (submitted, pending review), written directly."""
    async with kexie.session() as session:
        row = Activity(
            org_id=org_id,
            author_id=author,
            status=status,
            activity_date=day,
            name=name,
            content="内容",
            role="主办",
            headcount=30,
            submitted_at=utcnow() if status == ActivityStatus.SUBMITTED else None,
            review_state="pending" if status == ActivityStatus.SUBMITTED else None,
        )
        session.add(row)
        await session.flush()
        return row.id


async def _fill(kexie: Kexie, org_id: int, values: dict[str, Any]) -> None:
    async with kexie.session() as session:
        org = await load_organisation(session, org_id)
        assert org is not None
        for key, value in values.items():
            spec = field_by_key(org.kind, key)
            assert spec is not None
            set_field(org, spec, value)


def _row(html: str, org_id: int) -> str:
    """The registry's row of one association."""
    found = re.search(rf'<tr data-org="{org_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for association {org_id}"
    return found.group(1)


def _cell(row: str, css: str) -> str:
    found = re.search(rf'<td[^>]*class="{css}"[^>]*>(.*?)</td>', row, re.S)
    assert found, css
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def _outbox_nudges(kexie: Kexie) -> list[OutboxMessage]:
    async with kexie.session() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == CHASE_KIND))
        return list(rows.all())


async def test_a_district_admin_sees_only_their_district(kexie: Kexie) -> None:
    jin = await kexie.org("锦江光电科技科协", district="锦江区")
    wu = await kexie.org("武侯材料科协", district="武侯区")
    await kexie.member(6101, "reporter", org=wu)
    await kexie.member(6102, "district_admin", district="锦江区")
    wuhou = await _district_id(kexie, "武侯区")
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6102)
        listing = await client.get("/console/associations")
        assert listing.status_code == 200
        assert "锦江光电科技科协" in listing.text and "武侯材料科协" not in listing.text
        assert f'href="/console/associations/{jin}"' in listing.text
        # Asking for the other district by filter shows nothing of it.
        forced = await client.get("/console/associations", params={"district": wuhou})
        assert forced.status_code == 200 and "武侯材料科协" not in forced.text

        outside = await client.get(f"/console/associations/{wu}")
        missing = await client.get("/console/associations/999999")
        assert outside.status_code == missing.status_code == 404
        assert outside.text == missing.text
        assert "武侯" not in outside.text

        chase_outside = await client.post(f"/console/associations/{wu}/chase", data={"csrf": csrf})
        chase_missing = await client.post("/console/associations/999999/chase", data={"csrf": csrf})
        assert chase_outside.status_code == chase_missing.status_code == 404
        assert chase_outside.text == chase_missing.text
    assert await _outbox_nudges(kexie) == []


async def test_a_city_admin_sees_every_district_and_filters(kexie: Kexie) -> None:
    await kexie.org("锦江光电科技科协", district="锦江区")
    await kexie.org("武侯材料科协", district="武侯区", kind="zone")
    await kexie.member(6201, "city_admin")
    wuhou = await _district_id(kexie, "武侯区")
    async with console_client(kexie) as client:
        await sign_in(client, 6201)
        listing = await client.get("/console/associations")
        assert listing.status_code == 200
        assert "锦江光电科技科协" in listing.text and "武侯材料科协" in listing.text
        assert "企业科协" in listing.text and "产业功能区科协" in listing.text
        assert 'name="district"' in listing.text  # the district filter
        only = await client.get("/console/associations", params={"district": wuhou})
        assert "武侯材料科协" in only.text and "锦江光电科技科协" not in only.text
        assert "共 1 个科协" in only.text


async def test_completeness_reports_and_last_report_are_shown(kexie: Kexie) -> None:
    today = _today(kexie)
    quiet_days = kexie.settings.quiet_days
    busy = await kexie.org("锦江光电科技科协", district="锦江区")
    silent = await kexie.org("锦江安静材料科协", district="锦江区")
    never = await kexie.org("锦江从未报送科协", district="锦江区")
    await kexie.member(6301, "reporter", org=busy)
    await kexie.member(6302, "org_admin", org=busy)
    await kexie.member(6303, "district_admin", district="锦江区")
    author = await _member_id(kexie, 6301)
    await _fill(
        kexie,
        busy,
        {
            "approval_no": "成科协〔2021〕12号",
            "employees": 120,
            "chair": [Person("张三", "董事长", "13800000000")],
        },
    )
    this_year = await _activity(kexie, busy, author, today, "光电产业技术交流会")
    years = kexie.settings.years  # the day before this statistical year began
    before = years.span(years.year_of(today))[0] - timedelta(days=1)
    last_year = await _activity(kexie, busy, author, before, "去年的活动")
    await _activity(kexie, busy, author, today, "还没提交的草稿", status=ActivityStatus.DRAFT)
    long_ago = today - timedelta(days=quiet_days + 5)
    await _activity(kexie, silent, author, long_ago, "很久以前的活动")

    async with console_client(kexie) as client:
        await sign_in(client, 6303)
        listing = (await client.get("/console/associations")).text
        row = _row(listing, busy)
        assert _cell(row, "complete") == "3/12"  # annex 1-1 has 12 fields
        assert _cell(row, "year-reports") == "1"  # the draft and last year's are not counted
        assert _cell(row, "last-report") == format_date(today)
        assert "天以上未报送" not in row
        quiet_row = _row(listing, silent)
        assert _cell(quiet_row, "last-report") == format_date(long_ago)
        assert f"{quiet_days} 天以上未报送" in quiet_row
        never_row = _row(listing, never)
        assert _cell(never_row, "complete") == "0/12"
        assert "从未报送" in never_row and f"{quiet_days} 天以上未报送" in never_row

        detail = await client.get(f"/console/associations/{busy}")
        assert detail.status_code == 200
        page = detail.text
        assert "成科协〔2021〕12号" in page and "张三/董事长/13800000000" in page
        assert "登记信息已填 3/12 项" in page
        missing = re.search(r'<p class="missing-list">(.*?)</p>', page, re.S)
        assert missing is not None
        assert missing.group(1) == (
            "尚缺：批准时间、科技人员数、科协会员数、通信地址、单位性质、副主席、秘书长、副秘书长、联系人"
        )
        assert "报送员和管理员 2 人" in page
        assert f'href="/console/reports/{this_year}"' in page
        assert f'href="/console/reports/{last_year}"' in page
        assert "还没提交的草稿" not in page
        assert page.index("光电产业技术交流会") < page.index("去年的活动")  # newest first


async def test_the_registry_is_paged_with_a_fixed_number_of_queries(kexie: Kexie) -> None:
    for n in range(PAGE_SIZE + 1):
        org = await kexie.org(f"锦江第{n:02d}科协", district="锦江区")
        await _fill(kexie, org, {"chair": [Person("张三", "主席", "13800000000")]})
    await kexie.member(6401, "reporter", org=org)
    author = await _member_id(kexie, 6401)
    for n in range(3):  # all today: on 1 December yesterday is another statistical year
        await _activity(kexie, org, author, _today(kexie), f"活动{n}")
    await kexie.member(6402, "district_admin", district="锦江区")
    registry_sql: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # Only the registry's statements: the bot's own sender polls the outbox meanwhile.
        if "organisations" in statement or "officers" in statement:
            registry_sql.append(statement)

    engine = kexie.db.engine.sync_engine
    async with console_client(kexie) as client:
        await sign_in(client, 6402)
        event.listen(engine, "before_cursor_execute", count)
        try:
            first = (await client.get("/console/associations")).text
            first_sql = len(registry_sql)
            second = (await client.get("/console/associations", params={"page": 2})).text
            second_sql = len(registry_sql) - first_sql
        finally:
            event.remove(engine, "before_cursor_execute", count)
        beyond = (await client.get("/console/associations", params={"page": 99})).text
    assert first.count("<tr data-org=") == PAGE_SIZE and "第 1/2 页" in first
    assert second.count("<tr data-org=") == 1 and "锦江第50科协" in second
    assert "锦江第50科协" not in first
    assert "第 2/2 页" in beyond  # past the end: the last page
    # 50 rows cost what 1 row costs: no query per association.
    print(f"registry SQL per page: {first_sql} (50 rows), {second_sql} (1 row)")
    assert first_sql == second_sql <= 6, registry_sql
    row = _row(second, org)
    assert _cell(row, "year-reports") == "3"
    assert _cell(row, "complete") == "1/12"


async def test_remind_sends_the_chase_nudge_once_a_day(
    kexie: Kexie, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[int] = []
    services = bot.console.console_services

    def counting(app: Any) -> Any:
        console = services(app)
        console.wake = lambda: woken.append(1)
        return console

    monkeypatch.setattr(bot.console, "console_services", counting)
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    quiet = await kexie.member(6501, "reporter", org=org)
    admin = await kexie.member(6502, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6502)
        page = await client.get(f"/console/associations/{org}")
        csrf = csrf_of(page.text)
        assert f'action="/console/associations/{org}/chase"' in page.text

        sent = await client.post(f"/console/associations/{org}/chase", data={"csrf": csrf})
        assert sent.status_code == 303
        # The count is read back from the outbox, not carried in the URL.
        assert sent.headers["location"] == f"/console/associations/{org}?note=sent"
        assert woken == [1]
        shown = await client.get(sent.headers["location"])
        assert "已提醒 锦江安静材料科协 的 1 人" in shown.text

        rows = await _outbox_nudges(kexie)
        assert [(r.member_id, r.address) for r in rows] == [(await _member_id(kexie, 6501), "6501")]
        first = format_datetime(rows[0].created_at, kexie.settings.tz)

        # The chat's nudge reaches the reporter (held in quiet hours, so sent in the daytime).
        await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=10))
        nudge = await quiet.expect_any(NUDGE)
        assert "锦江安静材料科协" in nudge.text and "/report" in nudge.text

        again = await client.post(f"/console/associations/{org}/chase", data={"csrf": csrf})
        assert again.status_code == 303
        assert again.headers["location"] == f"/console/associations/{org}?note=too_soon"
        assert woken == [1]
        refused = await client.get(again.headers["location"])
        assert "已于" in refused.text and first in refused.text
    assert len(await _outbox_nudges(kexie)) == 1

    # The chat's /chase honours the console's nudge: the same once-a-day rule.
    await admin.send("/chase")
    await admin.expect_any("锦江区 · 催报")
    answer = await toast(admin, "提醒 1")  # line 1: the silent association
    assert "已于" in answer and first in answer
    await run_scheduler_at(kexie, local_today(kexie) + timedelta(days=1, hours=11))
    assert [m for m in quiet.messages if NUDGE in (m.text or "")] == [nudge]


async def test_remind_without_csrf_is_refused_and_queues_nothing(kexie: Kexie) -> None:
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    await kexie.member(6601, "reporter", org=org)
    await kexie.member(6602, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6602)
        bare = await client.post(f"/console/associations/{org}/chase")
        forged = await client.post(f"/console/associations/{org}/chase", data={"csrf": "x" * 32})
    assert bare.status_code == forged.status_code == 403
    assert "表单已失效" in bare.text
    assert await _outbox_nudges(kexie) == []


async def test_a_reporter_gets_no_registry(kexie: Kexie) -> None:
    org = await kexie.org("锦江安静材料科协", district="锦江区")
    await kexie.member(6701, "reporter", org=org)
    async with console_client(kexie) as client:
        refused = await client.post("/console/session", data={"init_data": init_data(6701)})
        assert refused.status_code == 403
        assert (await client.get("/console/associations")).status_code == 401
        assert (await client.get(f"/console/associations/{org}")).status_code == 401


async def test_registry_and_association_fit_a_phone_in_a_real_browser(
    kexie: Kexie,
    browser: WebDriver,  # noqa: F811  (the fixture imported above)
) -> None:
    long_name = "成都市锦江区某某光电信息科技股份有限公司科学技术协会（筹）第一分会"
    org = await kexie.org(long_name, district="锦江区")
    await kexie.org("锦江安静材料科协", district="锦江区", kind="zone")
    await kexie.member(6801, "reporter", org=org)
    await kexie.member(6802, "district_admin", district="锦江区")
    await _fill(
        kexie,
        org,
        {
            "address": "四川省成都市锦江区某某街道某某路一百二十三号科技创新大厦二十一楼",
            "vice_chair": [
                Person("张三", "副总经理", "13800000000"),
                Person("李四", "技术总监", "028-12345678-123"),
            ],
        },
    )
    await _activity(kexie, org, await _member_id(kexie, 6801), _today(kexie), "光电产业技术交流会")
    async with console_server(kexie) as base:
        entry = f"{base}/#tgWebAppData={quote(init_data(6802))}"
        await asyncio.to_thread(browser.get, entry)
        # entry.js posts initData and lands on the reports page: wait for it (in a thread, so
        # this loop can answer the post).
        await asyncio.to_thread(
            WebDriverWait(browser, 30).until, lambda d: "/console/reports" in d.current_url
        )
        pages = ((f"{base}/associations", "registry"), (f"{base}/associations/{org}", "one"))
        for path, name in pages:
            for size, label in ((PHONE_360, "phone"), (DESKTOP, "desktop")):
                await asyncio.to_thread(set_viewport, browser, size)
                await asyncio.to_thread(browser.get, path)
                source = await asyncio.to_thread(lambda: browser.page_source)
                assert long_name in source
                await asyncio.to_thread(screenshot, browser, f"{name}-{label}")
                await asyncio.to_thread(assert_no_horizontal_overflow, browser)
