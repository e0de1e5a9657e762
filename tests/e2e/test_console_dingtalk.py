"""The console and the invites inside DingTalk (web/dingtalk.py): a 免登 code, resolved by a fake of
DingTalk's ``getuserinfo`` (single use, as DingTalk's codes are), signs a DingTalk admin in with
the same cookie and policy as Telegram's initData, and joins a DingTalk user through an invite as
``/start TOKEN`` does. Forged, used or unknown codes and outsiders get a sentence and no cookie."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import httpx
from pydantic import SecretStr
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.routing import Mount

from bot.console import console_services
from core.address import Address
from core.enums import Channel
from storage.members import member_by_address
from storage.models import Invite, Membership
from tests.console import BASE, init_data
from tests.harness import Kexie
from web.app import create_console
from web.auth import COOKIE, SessionSigner
from web.page import DINGTALK_JSAPI, ResolveCode, session_secret

CORP = "dingcorp0001"


class FakeDingTalk:
    """DingTalk's part: hands out 免登 codes for its users; each resolves once, to its userid."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}
        self.asked: list[str] = []

    def code_for(self, userid: str) -> str:
        code = secrets.token_hex(16)
        self.codes[code] = userid
        return code

    async def resolve(self, code: str) -> str | None:
        self.asked.append(code)
        return self.codes.pop(code, None)


@contextlib.asynccontextmanager
async def dingtalk_client(
    kexie: Kexie, dingtalk: FakeDingTalk | ResolveCode | None, corp_id: str = CORP
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the console as ``bot/`` builds it, with DingTalk's resolver plugged in."""
    assert kexie.app is not None
    console = console_services(kexie.app)
    console.settings = console.settings.model_copy(update={"dingtalk_corp_id": corp_id})
    console.resolve_code = dingtalk.resolve if isinstance(dingtalk, FakeDingTalk) else dingtalk
    app = Starlette(routes=[Mount("/console", app=create_console(console))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def join_on_dingtalk(
    client: httpx.AsyncClient, dingtalk: FakeDingTalk, userid: str, token: str
) -> httpx.Response:
    return await client.post(
        f"/console/dingtalk/join/{token}", data={"code": dingtalk.code_for(userid)}
    )


async def test_the_dingtalk_page_loads_the_jsapi_allowed_by_its_own_csp(kexie: Kexie) -> None:
    async with dingtalk_client(kexie, FakeDingTalk()) as client:
        page = await client.get("/console/dingtalk")
        other = await client.get("/console/")
        script = await client.get("/console/static/dingtalk.js")
    assert page.status_code == 200
    assert f'<script src="{DINGTALK_JSAPI}"></script>' in page.text
    assert (
        f'data-corp-id="{CORP}"' in page.text and 'action="/console/dingtalk/signin"' in page.text
    )
    assert "telegram-web-app.js" not in page.text
    policy = page.headers["content-security-policy"]
    assert f"script-src 'self' {DINGTALK_JSAPI};" in policy, policy
    assert "https://telegram.org" not in policy
    assert len(page.headers.get_list("content-security-policy")) == 1
    # Only that page: the Telegram entry's CSP does not allow DingTalk's script.
    assert "alicdn" not in other.headers["content-security-policy"]
    assert "getAuthCode" in script.text and "requestAuthCode" in script.text


async def test_without_dingtalk_the_pages_are_not_there(kexie: Kexie) -> None:
    async with dingtalk_client(kexie, None) as client:
        for path in ("/console/dingtalk", "/console/dingtalk/join/abc"):
            assert (await client.get(path)).status_code == 404
        answer = await client.post("/console/dingtalk/signin", data={"code": "x"})
        assert answer.status_code == 404 and COOKIE not in client.cookies


async def test_a_dingtalk_district_admin_signs_in_with_a_code(kexie: Kexie) -> None:
    dingtalk = FakeDingTalk()
    token = await kexie.invite_token("district_admin", district="锦江区")
    async with dingtalk_client(kexie, dingtalk) as client:
        joined = await join_on_dingtalk(client, dingtalk, "staff-chen", token)
        assert joined.status_code == 200, joined.text[:300]
        answer = await client.post(
            "/console/dingtalk/signin", data={"code": dingtalk.code_for("staff-chen")}
        )
        assert answer.status_code == 303, answer.text[:300]
        assert answer.headers["location"] == "/console/reports"
        cookie = answer.headers["set-cookie"].lower()
        for flag in ("httponly", "secure", "samesite=strict", "path=/console"):
            assert flag in cookie, cookie
        session = SessionSigner(session_secret(kexie.settings), 120).read(client.cookies[COOKIE])
        assert session is not None
        assert session.address == Address(Channel.DINGTALK, "staff-chen")
        for path in ("/console/reports", "/console/overview"):
            page = await client.get(path)
            assert page.status_code == 200, (path, page.text[:300])
            assert f'<meta name="csrf-token" content="{session.csrf}"' in page.text


async def test_forged_used_or_missing_codes_get_no_session(kexie: Kexie) -> None:
    dingtalk = FakeDingTalk()
    token = await kexie.invite_token("district_admin", district="锦江区")
    async with dingtalk_client(kexie, dingtalk) as client:
        assert (await join_on_dingtalk(client, dingtalk, "staff-li", token)).status_code == 200
        used = dingtalk.code_for("staff-li")
        await dingtalk.resolve(used)  # DingTalk's codes work once
        for code in ("forged-code-0000", used, "", "x" * 500):
            answer = await client.post("/console/dingtalk/signin", data={"code": code})
            assert answer.status_code == 403, (code, answer.status_code)
            assert "无法核对您的钉钉身份" in answer.text
            assert "set-cookie" not in answer.headers
        assert COOKIE not in client.cookies
        assert (await client.get("/console/reports")).status_code == 401


async def test_dingtalk_users_who_are_no_admins_are_refused(kexie: Kexie) -> None:
    dingtalk = FakeDingTalk()
    org = await kexie.org("某某科技有限公司科协")
    token = await kexie.invite_token("reporter", org=org)
    async with dingtalk_client(kexie, dingtalk) as client:
        assert (await join_on_dingtalk(client, dingtalk, "staff-wang", token)).status_code == 200
        for userid in ("staff-wang", "staff-stranger"):
            answer = await client.post(
                "/console/dingtalk/signin", data={"code": dingtalk.code_for(userid)}
            )
            assert answer.status_code == 403, userid
            assert "只对区（市）县科协和市科协的管理员开放" in answer.text
            assert COOKIE not in client.cookies


async def test_dingtalk_cannot_reach_gets_a_sentence(kexie: Kexie) -> None:
    async def down(code: str) -> str | None:
        raise httpx.ConnectError("no route to DingTalk")

    async with dingtalk_client(kexie, down) as client:
        answer = await client.post("/console/dingtalk/signin", data={"code": "abc"})
    assert answer.status_code == 503 and "暂时无法连接钉钉" in answer.text


async def test_an_invite_opened_in_dingtalk_joins_as_start_does(kexie: Kexie) -> None:
    dingtalk = FakeDingTalk()
    org = await kexie.org("某某科技有限公司科协")
    token = await kexie.invite_token("reporter", org=org, uses=1)
    async with dingtalk_client(kexie, dingtalk) as client:
        page = await client.get(f"/console/dingtalk/join/{token}")
        assert page.status_code == 200
        assert f'action="/console/dingtalk/join/{token}"' in page.text
        assert DINGTALK_JSAPI in page.headers["content-security-policy"]
        joined = await join_on_dingtalk(client, dingtalk, "staff-zhao", token)
        assert joined.status_code == 200, joined.text[:300]
        assert "已加入：报送员：某某科技有限公司科协" in joined.text
        assert "打开与本机器人的单聊" in joined.text
        assert COOKIE not in client.cookies  # joining is not signing in to the console
        again = await join_on_dingtalk(client, dingtalk, "staff-zhao", token)
        assert again.status_code == 200 and "您已拥有此身份" in again.text
        used_up = await join_on_dingtalk(client, dingtalk, "staff-qian", token)
        assert used_up.status_code == 403 and "可用次数已用完" in used_up.text
        unknown = await join_on_dingtalk(client, dingtalk, "staff-qian", "no-such-token")
        assert unknown.status_code == 403 and "邀请链接无效" in unknown.text
        forged = await client.post(f"/console/dingtalk/join/{token}", data={"code": "forged"})
        assert forged.status_code == 403 and "无法核对您的钉钉身份" in forged.text
    async with kexie.session() as session:
        member = await member_by_address(session, Address(Channel.DINGTALK, "staff-zhao"))
        assert member is not None and member.first_name == "钉钉用户"
        roles = (
            await session.scalars(select(Membership).where(Membership.member_id == member.id))
        ).all()
        assert [(m.role, m.org_id) for m in roles] == [("reporter", org)]
        assert await member_by_address(session, Address(Channel.DINGTALK, "staff-qian")) is None
        invite = await session.scalar(select(Invite).where(Invite.token == token))
        assert invite is not None and invite.uses == 1


async def test_with_dingtalk_alone_telegram_init_data_opens_nothing(kexie: Kexie) -> None:
    """No bot token: initData "signed" with the empty token proves nothing, so /session is not
    there; the cookie's key comes from the DingTalk app's secret, never from an empty string."""
    dingtalk = FakeDingTalk()
    token = await kexie.invite_token("district_admin", district="锦江区")
    assert kexie.app is not None
    console = console_services(kexie.app)
    console.settings = console.settings.model_copy(
        update={
            "bot_token": "",
            "dingtalk_client_id": "dingapp",
            "dingtalk_client_secret": SecretStr("app-secret-0123456789"),
            "dingtalk_corp_id": CORP,
        }
    )
    console.__post_init__()  # the signer, from the settings as bot/ would give them
    console.resolve_code = dingtalk.resolve
    app = Starlette(routes=[Mount("/console", app=create_console(console))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        assert (await join_on_dingtalk(client, dingtalk, "staff-solo", token)).status_code == 200
        forged = init_data(424242, token="")
        answer = await client.post("/console/session", data={"init_data": forged})
        assert answer.status_code == 404 and COOKIE not in client.cookies
        answer = await client.post(
            "/console/dingtalk/signin", data={"code": dingtalk.code_for("staff-solo")}
        )
        assert answer.status_code == 303
        assert SessionSigner("", 120).read(client.cookies[COOKIE]) is None
        assert SessionSigner("app-secret-0123456789", 120).read(client.cookies[COOKIE])
        assert (await client.get("/console/reports")).status_code == 200
