"""The console's reports table (web/reports.py, storage/console_reports.py) through HTTP on the
running bot: scope (district admin, city admin), every filter, paging, the row's fields, drafts
left out, bad filter values answered without an error, refusals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from core.rules import format_date
from storage.models import Activity, Evidence, Member, utcnow
from tests.accounts import at_telegram, tg
from tests.console import console_client, sign_in
from tests.harness import TOKEN, Kexie
from tests.journeys import local_today, submit_report_with_album
from web.auth import COOKIE, SessionSigner


@dataclass
class Spec:
    """A report to insert directly (volume and exact values the chat would take long to type)."""

    name: str = "科技政策解读会"
    content: str = "邀请专家解读科技企业扶持政策。"
    day: date = date(2026, 11, 3)
    state: str = "pending"
    late_days: int = 0
    status: str = "submitted"
    evidence: int = 0
    role: str = "主办"
    headcount: int = 30
    extra: dict[str, Any] = field(default_factory=dict)


async def insert(kexie: Kexie, org_id: int, *specs: Spec) -> list[int]:
    """Insert reports of ``org_id`` (with ``evidence`` photo rows each); their ids in order."""
    ids: list[int] = []
    async with kexie.session() as session:
        author = Member(first_name="甲")
        session.add(author)
        await session.flush()
        for spec in specs:
            submitted = spec.status == "submitted"
            activity = Activity(
                org_id=org_id,
                author_id=author.id,
                status=spec.status,
                activity_date=spec.day,
                name=spec.name,
                content=spec.content,
                role=spec.role,
                headcount=spec.headcount,
                review_state=spec.state if submitted else None,
                on_time=(spec.late_days == 0) if submitted else None,
                late_days=spec.late_days,
                submitted_at=utcnow() if submitted else None,
                first_submitted_at=utcnow() if submitted else None,
                **spec.extra,
            )
            session.add(activity)
            await session.flush()
            for k in range(spec.evidence):
                session.add(
                    Evidence(activity_id=activity.id, sha256=f"{activity.id:032d}{k:032d}",
                             kind="photo", size=1)
                )  # fmt: skip
            ids.append(activity.id)
    return ids


def listed(html: str) -> list[int]:
    """The report ids of the table's rows, in the page's order."""
    return [int(x) for x in re.findall(r'<tr data-report="(\d+)"', html)]


def row_html(html: str, report_id: int) -> str:
    found = re.search(rf'<tr data-report="{report_id}">(.*?)</tr>', html, re.S)
    assert found, f"no row for report {report_id}"
    return found.group(1)


def cell(row: str, name: str) -> str:
    found = re.search(rf'<td class="{name}"[^>]*>(.*?)</td>', row, re.S)
    assert found, f"no {name} cell in {row}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def options(html: str, select: str) -> set[int]:
    """The values offered by the form's ``<select name=…>`` (its "all" option left out)."""
    found = re.search(rf'<select name="{select}">(.*?)</select>', html, re.S)
    assert found, f"no {select} select"
    return {int(v) for v in re.findall(r'<option value="(\d+)"', found.group(1))}


async def district_id(kexie: Kexie, name: str) -> int:
    return (await kexie.district(name)).id


async def get(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    return await client.get("/console/reports", params=params)


async def test_a_district_admin_sees_their_district_only(kexie: Kexie) -> None:
    jinjiang = await kexie.org("锦江光电科技科协", district="锦江区")
    wuhou = await kexie.org("武侯软件园科协", district="武侯区")
    mine = await insert(kexie, jinjiang, Spec(name="锦江交流会"), Spec(name="锦江讲座"))
    await insert(kexie, wuhou, Spec(name="武侯沙龙"))
    await kexie.member(6101, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6101)
        page = await get(client)
        assert page.status_code == 200
        assert sorted(listed(page.text)) == sorted(mine)
        assert "武侯沙龙" not in page.text and "武侯软件园科协" not in page.text
        # The association select offers their associations only; no district to choose.
        assert options(page.text, "org") == {jinjiang}
        assert 'name="district"' not in page.text
        # Another district's ids answer as missing ones: 404, the same page as a made-up id.
        wuhou_id = await district_id(kexie, "武侯区")
        for params in ({"district": wuhou_id}, {"org": wuhou}, {"district": 999999}):
            refused = await get(client, **params)
            assert refused.status_code == 404, params
            assert "不在您管理的范围内" in refused.text and "武侯沙龙" not in refused.text
        own = await get(client, district=await district_id(kexie, "锦江区"))
        assert own.status_code == 200 and sorted(listed(own.text)) == sorted(mine)


async def test_a_city_admin_sees_every_district_and_filters_by_one(kexie: Kexie) -> None:
    jinjiang = await kexie.org("锦江光电科技科协", district="锦江区")
    wuhou = await kexie.org("武侯软件园科协", district="武侯区")
    mine = await insert(kexie, jinjiang, Spec(name="锦江交流会"))
    theirs = await insert(kexie, wuhou, Spec(name="武侯沙龙"))
    await kexie.member(6111, "city_admin")
    async with console_client(kexie) as client:
        await sign_in(client, 6111)
        page = await get(client)
        assert sorted(listed(page.text)) == sorted(mine + theirs)
        assert 'name="district"' in page.text and "武侯区" in page.text
        only = await get(client, district=await district_id(kexie, "武侯区"))
        assert listed(only.text) == theirs
        # With a district chosen, the association select narrows to it.
        assert options(page.text, "org") == {jinjiang, wuhou}
        assert options(only.text, "org") == {wuhou}
        assert (await get(client, district=999999)).status_code == 404


async def test_each_filter_narrows_the_table(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    other = await kexie.org("锦江生物医药科协", district="锦江区")
    nov_pending, nov_late, oct_approved, oct_returned, percent, underscore = await insert(
        kexie,
        org,
        Spec(name="光电产业交流会", day=date(2026, 11, 3)),
        Spec(name="科普进社区", day=date(2026, 11, 20), late_days=2),
        Spec(name="专利申报培训", day=date(2026, 10, 31), state="approved"),
        Spec(name="院士讲座", day=date(2026, 10, 1), state="returned",
             content="邀请院士讲解光电前沿。"),
        Spec(name="成果转化率100%的经验分享", day=date(2026, 9, 9)),
        Spec(name="青年沙龙", content="主题：AI_芯片", day=date(2026, 9, 8)),
    )  # fmt: skip
    (elsewhere,) = await insert(kexie, other, Spec(name="生物医药论坛", day=date(2026, 11, 5)))
    everything = {nov_pending, nov_late, oct_approved, oct_returned, percent, underscore, elsewhere}
    await kexie.member(6121, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6121)

        async def ids(**params: Any) -> set[int]:
            answer = await get(client, **params)
            assert answer.status_code == 200, (params, answer.text[:300])
            return set(listed(answer.text))

        assert await ids() == everything
        assert await ids(org=other) == {elsewhere}
        assert await ids(month="2026-11") == {nov_pending, nov_late, elsewhere}
        assert await ids(month="2026-10") == {oct_approved, oct_returned}
        assert await ids(state="approved") == {oct_approved}
        assert await ids(state="returned") == {oct_returned}
        assert await ids(state="pending") == {nov_pending, nov_late, percent, underscore, elsewhere}
        assert await ids(late="1") == {nov_late}
        assert await ids(late="0") == everything - {nov_late}
        assert await ids(q="光电") == {nov_pending, oct_returned}  # name, and content only
        # % and _ are searched as themselves, not as LIKE's wildcards.
        assert await ids(q="%") == {percent}
        assert await ids(q="_") == {underscore}
        assert await ids(q="ai_芯片") == {underscore}  # letters in either case
        # Filters combine, and are kept in the form and in the pager's links.
        assert await ids(month="2026-11", late="1", org=org) == {nov_late}
        page = await get(client, month="2026-11", state="pending", q="科普")
        assert listed(page.text) == [nov_late]
        assert 'value="2026-11"' in page.text and 'value="科普"' in page.text
        assert '<option value="pending" selected>' in page.text


async def test_bad_filter_values_are_ignored_not_errors(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    ids = await insert(kexie, org, Spec(day=date(2026, 11, 3)), Spec(day=date(2026, 10, 3)))
    await kexie.member(6131, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6131)
        for params in (
            {"month": "2026-13"},
            {"month": "2026-00"},
            {"month": "11"},
            {"state": "bogus"},
            {"late": "maybe"},
            {"district": "-1"},
            {"org": "abc"},
            {"page": "-1"},
            {"page": "abc"},
            {"page": "1" + "0" * 40},
            {"q": "x" * 5000},
        ):
            answer = await get(client, **params)
            assert answer.status_code == 200, (params, answer.status_code)
            expected = [] if "q" in params else sorted(ids)
            assert sorted(listed(answer.text)) == expected, params
        # The ignored month is not put back into the form.
        assert 'value="2026-13"' not in (await get(client, month="2026-13")).text
        assert (await client.post("/console/reports")).status_code == 405


async def test_paging_51_reports_gives_two_pages_newest_first(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    start = date(2026, 1, 1)
    # Two reports share each date, so the order falls back to the id (newest first).
    ids = await insert(
        kexie, org, *[Spec(name=f"第{i}场", day=start + timedelta(days=i // 2)) for i in range(51)]
    )
    newest_first = ids[::-1]  # inserted oldest date first, ids ascending
    await kexie.member(6141, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6141)
        first = await get(client)
        assert listed(first.text) == newest_first[:50]
        assert "第 1/2 页" in first.text and "共 51 条报送" in first.text
        assert 'rel="next" href="/console/reports?page=2"' in first.text
        assert 'rel="prev"' not in first.text
        second = await get(client, page=2)
        assert listed(second.text) == newest_first[50:] == [ids[0]]
        assert (
            "第 2/2 页" in second.text
            and 'rel="prev" href="/console/reports?page=1"' in second.text
        )
        # Out of range: clamped to the pages that exist.
        assert listed((await get(client, page=10**9)).text) == [ids[0]]
        assert listed((await get(client, page=0)).text) == newest_first[:50]
        # The pager keeps the filters.
        filtered = await get(client, q="场")
        assert 'href="/console/reports?q=%E5%9C%BA&amp;page=2"' in filtered.text


async def test_a_row_shows_the_report_and_drafts_are_left_out(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    reporter = await kexie.member(6151, "reporter", org=org, first_name="王芳")
    await submit_report_with_album(reporter, "光电产业技术交流会")  # 2 photos + 1 document
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity).where(Activity.status == "submitted"))
        assert activity is not None and activity.activity_date is not None
        chat_id, chat_date = activity.id, activity.activity_date
    assert chat_date == (local_today(kexie) - timedelta(days=1)).date()
    late_day = chat_date - timedelta(days=90)  # older than the chat report on any test clock
    (late,) = await insert(
        kexie, org, Spec(name="科普进校园", role="协办", headcount=120, state="returned",
                         late_days=4, day=late_day, evidence=1)
    )  # fmt: skip
    (draft,) = await insert(kexie, org, Spec(name="草稿里的活动", status="draft"))
    (withdrawn,) = await insert(kexie, org, Spec(name="撤回的活动", status="withdrawn"))
    await kexie.member(6152, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6152)
        page = await get(client)
        assert listed(page.text) == [chat_id, late]  # newest first
        assert "草稿里的活动" not in page.text and draft not in listed(page.text)
        assert withdrawn not in listed(page.text)

        row = row_html(page.text, chat_id)
        assert cell(row, "date") == format_date(chat_date)
        assert cell(row, "association") == "锦江光电科技科协"
        assert f'<a href="/console/reports/{chat_id}">光电产业技术交流会</a>' in row
        assert cell(row, "role") == "主办"
        assert cell(row, "headcount") == "40"
        assert cell(row, "state") == "待审核" and 'class="badge pending"' in row
        assert cell(row, "late") == "按时"
        assert cell(row, "evidence") == "3"

        row = row_html(page.text, late)
        assert cell(row, "date") == format_date(late_day)
        assert cell(row, "role") == "协办" and cell(row, "headcount") == "120"
        assert cell(row, "state") == "已退回" and 'class="badge returned"' in row
        assert cell(row, "late") == "逾期 4 天" and 'class="badge late"' in row
        assert cell(row, "evidence") == "1"
        assert 'data-label="佐证材料"' in row  # the phone layout's labels

        # In English when the admin chose English.
        async with kexie.session() as session:
            await session.execute(update(Member).where(at_telegram(6152)).values(language="en"))
        english = await get(client)
        row = row_html(english.text, late)
        assert cell(row, "role") == "Co-organiser (协办)"
        assert cell(row, "state") == "Returned" and cell(row, "late") == "4 days late"


async def test_empty_tables_say_so(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    await kexie.member(6161, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 6161)
        nothing = await get(client)
        assert listed(nothing.text) == [] and "您管理的范围内还没有已提交的报送" in nothing.text
        await insert(kexie, org, Spec(name="光电产业交流会"))
        no_match = await get(client, q="不存在的活动")
        assert listed(no_match.text) == []
        assert "没有符合这些筛选条件的报送" in no_match.text and "清除筛选" in no_match.text


async def test_only_a_district_or_city_admin_session_opens_the_table(kexie: Kexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    await insert(kexie, org, Spec(name="光电产业交流会"))
    await kexie.member(6171, "reporter", org=org)
    async with kexie.session() as session:
        member_id = await session.scalar(select(Member.id).where(at_telegram(6171)))
    assert member_id is not None
    async with console_client(kexie) as client:
        assert (await get(client)).status_code == 401  # no session at all
        # A reporter cannot get a session; even a cookie made for them is refused by the page.
        value, _ = SessionSigner(TOKEN, 120).issue(member_id, tg(6171))
        client.cookies.set(COOKIE, value)
        refused = await get(client)
        assert refused.status_code == 403 and "光电产业交流会" not in refused.text
