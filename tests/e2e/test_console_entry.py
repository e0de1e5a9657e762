"""The console's way in (web/entry.py): Telegram's initData for a session cookie, only for
district and city admins; the session's flags; refusals as pages."""

from __future__ import annotations

import time

from sqlalchemy import update

from storage.models import Membership
from tests.console import console_client, init_data, sign_in
from tests.harness import Kexie
from web.auth import COOKIE


async def test_entry_page_reads_the_fragment_with_its_own_script(kexie: Kexie) -> None:
    async with console_client(kexie) as client:
        answer = await client.get("/console/")
    assert answer.status_code == 200
    assert 'id="entry-form"' in answer.text and "/console/static/entry.js" in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    async with console_client(kexie) as client:
        script = await client.get("/console/static/entry.js")
    assert script.status_code == 200 and "tgWebAppData" in script.text


async def test_a_district_admin_gets_a_strict_session_cookie(kexie: Kexie) -> None:
    org = await kexie.org("某某科技有限公司科协")
    await kexie.member(5101, "reporter", org=org)
    await kexie.member(5102, "district_admin", district="锦江区", first_name="陈静")
    async with console_client(kexie) as client:
        answer = await client.post("/console/session", data={"init_data": init_data(5102)})
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/reports"
        cookie = answer.headers["set-cookie"].lower()
        for flag in ("httponly", "secure", "samesite=strict", "path=/console"):
            assert flag in cookie, cookie
        page = await client.get("/console/reports")
        assert page.status_code == 200 and "报送" in page.text
        assert '<meta name="csrf-token"' in page.text


async def test_a_reporter_and_an_org_admin_are_refused_with_a_sentence(kexie: Kexie) -> None:
    org = await kexie.org("某某科技有限公司科协")
    await kexie.member(5111, "reporter", org=org)
    await kexie.member(5112, "org_admin", org=org)
    async with console_client(kexie) as client:
        for user_id in (5111, 5112, 5199):  # 5199 never joined
            answer = await client.post("/console/session", data={"init_data": init_data(user_id)})
            assert answer.status_code == 403, user_id
            assert "只对区（市）县科协和市科协的管理员开放" in answer.text
            assert COOKIE not in client.cookies


async def test_old_forged_or_missing_init_data_gets_no_session(kexie: Kexie) -> None:
    await kexie.member(5121, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        stale = init_data(5121, auth_date=time.time() - 3700)
        forged = init_data(5121, token="7000009:AAHsomeOtherBotToken012345678901234")
        for raw in (stale, forged, ""):
            answer = await client.post("/console/session", data={"init_data": raw})
            assert answer.status_code == 401
            assert "再按一次“控制台”按钮" in answer.text
        assert COOKIE not in client.cookies
        assert (await client.get("/console/reports")).status_code == 401


async def test_a_removed_admin_loses_the_console_at_once(kexie: Kexie) -> None:
    await kexie.member(5131, "district_admin", district="锦江区")
    async with console_client(kexie) as client:
        await sign_in(client, 5131)
        assert (await client.get("/console/reports")).status_code == 200
        async with kexie.session() as session:
            await session.execute(update(Membership).values(active=False))
        assert (await client.get("/console/reports")).status_code == 403


async def test_pages_before_sign_in_follow_the_browser_language(kexie: Kexie) -> None:
    """Chinese first: English only for a browser that lists English and no Chinese."""
    expired = {"en": "Your session expired", "zh": "登录已过期"}
    cases = {
        "en-GB,en;q=0.9": "en",
        "en-US,en;q=0.9,zh-CN;q=0.5": "zh",
        "zh-CN,zh;q=0.9,en;q=0.8": "zh",
        "fr-FR": "zh",
        "": "zh",
    }
    async with console_client(kexie) as client:
        for header, lang in cases.items():
            answer = await client.get("/console/reports", headers={"accept-language": header})
            assert answer.status_code == 401, header
            assert expired[lang] in answer.text, header
            other = expired["zh" if lang == "en" else "en"]
            assert other not in answer.text, header
            assert f'lang="{"en" if lang == "en" else "zh-CN"}"' in answer.text, header
