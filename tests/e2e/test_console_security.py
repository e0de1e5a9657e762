"""The console's security sweep (issue 13), over its whole route table so that pages added later
are covered without editing this file: the routes come from ``web.app.create_console`` (the
middleware unwrapped), path parameters are filled with ids of real objects, and

- without a session, or with a forged, tampered or expired cookie, every route but the entry
  ones answers 401;
- a reporter or an association admin gets no session (403), and a cookie naming one (as if it
  had been issued before they lost the role) gets 403 on every route;
- every POST route refuses a form without its CSRF token, with a wrong one, or with another
  admin's (403), before anything happens;
- for a 锦江区 admin, the id of a 武侯区 object (report, evidence, association, export run,
  district…) in a path, a query (``?district=``, ``?org=``) or a form answers exactly as a
  missing id does: same status, same body; and nothing of 武侯区 changed.

A route with a path parameter this sweep cannot fill fails the sweep: add the parameter to
:data:`PARAM_KINDS` (what kind of object it names) when you add such a page.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route

from bot.console import console_app, console_services
from core.review_rules import ReviewState
from storage.chase import CHASE_KIND
from storage.models import (
    Activity,
    Evidence,
    ExportJob,
    Member,
    Organisation,
    OutboxMessage,
    utcnow,
)
from tests.accounts import at_telegram, tg
from tests.console import BASE, console_client, init_data, sign_in
from tests.harness import TOKEN, Kexie
from tests.journeys import submit_report_with_album
from web.app import create_console
from web.auth import COOKIE, SessionSigner

# The ways in: they work without a session (and hand one out).
ENTRY = {
    "/",
    "/session",
    "/logout",
    "/dingtalk",
    "/dingtalk/signin",
    "/dingtalk/join/{token}",
}
# What kind of object each path parameter names; "file" is a file of the run in the same path.
PARAM_KINDS = {
    "report_id": "report",
    "activity_id": "report",
    "evidence_id": "evidence",
    "org_id": "association",
    "association_id": "association",
    "run_id": "export",
    "export_id": "export",
    "district_id": "district",
    "file": "export_file",
    "token": "invite",  # an invite's token (the DingTalk join page; not a number)
}
# Query and form fields that carry ids, tried on every GET (query) and POST (form) route.
QUERY_IDS = {"district": "district", "org": "association"}
FORM_IDS = {"where": "district", "district": "district", "org": "association"}
MISSING = 987_654  # no object of any kind has this id
PLACEHOLDER = {kind: "1" for kind in PARAM_KINDS.values()} | {"export_file": "x.xlsx"}
# Routes the console has today: the sweep must see at least these (else the unwrapping broke).
KNOWN = {
    ("GET", "/reports"),
    ("GET", "/reports/{report_id:int}"),
    ("POST", "/reports/{report_id:int}/approve"),
    ("POST", "/reports/{report_id:int}/return"),
    ("GET", "/evidence/{evidence_id:int}"),
    ("GET", "/evidence/{evidence_id:int}/thumb"),
    ("GET", "/associations"),
    ("GET", "/associations/{org_id:int}"),
    ("GET", "/overview"),
    ("GET", "/export"),
    ("POST", "/export"),
    ("GET", "/export/{run_id:int}"),
    ("GET", "/export/{run_id:int}/{file}"),
}
ADMINS_ONLY = "控制台只对区（市）县科协和市科协的管理员开放"
SESSION_EXPIRED = "再按一次“控制台”按钮"
CSRF_REFUSED = "这个表单已失效"
REASON = "照片与活动内容不符，请补充活动现场照片。"


@dataclass(frozen=True)
class Endpoint:
    """One method of one console route, e.g. ``POST /reports/{report_id:int}/approve``."""

    method: str
    path: str  # as declared, with convertors
    params: tuple[str, ...]
    fmt: str  # the path with plain ``{name}`` placeholders

    def url(self, values: dict[str, str]) -> str:
        """The URL under ``/console`` with these parameter values."""
        return "/console" + self.fmt.format(**{p: values[p] for p in self.params})

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _flatten(routes: list[Any], prefix: str = "") -> list[Endpoint]:
    found: list[Endpoint] = []
    for route in routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                found.append(
                    Endpoint(
                        method,
                        prefix + route.path,
                        tuple(route.param_convertors),
                        prefix + route.path_format,
                    )
                )
        elif isinstance(route, Mount) and route.routes:  # a sub-app of pages (static has none)
            found += _flatten(list(route.routes), prefix + route.path)
    return found


def endpoints(kexie: Kexie) -> list[Endpoint]:
    """Every method of every route of the console the bot serves."""
    assert kexie.app is not None
    app: Any = create_console(console_services(kexie.app))
    while not hasattr(app, "routes"):
        app = app.app  # the middleware (security headers) around the Starlette app
    found = _flatten(list(app.routes))
    assert {(e.method, e.path) for e in found} >= KNOWN, sorted(map(str, found))
    for endpoint in found:
        unknown = [p for p in endpoint.params if p not in PARAM_KINDS]
        assert not unknown, f"{endpoint}: add {unknown} to PARAM_KINDS so the sweep covers it"
    return found


def guarded(kexie: Kexie) -> list[Endpoint]:
    """The routes that need a session: all but the entry ones."""
    return [e for e in endpoints(kexie) if e.path not in ENTRY]


def placeholders(endpoint: Endpoint) -> dict[str, str]:
    return {p: PLACEHOLDER[PARAM_KINDS[p]] for p in endpoint.params}


async def call(
    client: httpx.AsyncClient, endpoint: Endpoint, url: str, form: dict[str, str] | None = None
) -> httpx.Response:
    if endpoint.method == "GET":
        return await client.get(url)
    return await client.request(endpoint.method, url, data=form or {})


def this_year(kexie: Kexie) -> int:
    return kexie.settings.years.year_of(utcnow().astimezone(kexie.settings.tz).date())


# --- the world: the same objects in 锦江区 (the visitor's) and 武侯区 (another district's) ------


@dataclass
class Side:
    """The ids of one district's objects, by kind (as PARAM_KINDS names them)."""

    ids: dict[str, str] = field(default_factory=dict)
    export_path: str = ""


async def member_id(kexie: Kexie, user_id: int) -> int:
    async with kexie.session() as session:
        found = await session.scalar(select(Member.id).where(at_telegram(user_id)))
    assert found is not None
    return int(found)


async def finished_export(client: httpx.AsyncClient, csrf: str, year: int, district: int) -> str:
    """Start an export of annex 1-1 for ``district``; the path of its first file once done."""
    started = await client.post(
        "/console/export",
        data={"csrf": csrf, "annex": "1-1", "year": str(year), "where": str(district)},
    )
    assert started.status_code == 303, started.text[:300]
    location = started.headers["location"]
    for _ in range(600):
        page = await client.get(location)
        assert page.status_code == 200, page.text[:300]
        if 'data-status="running"' not in page.text:
            break
        await asyncio.sleep(0.1)
    assert 'data-status="done"' in page.text, page.text[:500]
    files = re.findall(r'<a href="/console/export/\d+/[^"]+" download>([^<]+)</a>', page.text)
    assert files, page.text[:500]
    return f"{location}/{files[0]}"


async def side(
    kexie: Kexie,
    stack: contextlib.AsyncExitStack,
    district: str,
    names: tuple[str, int, int],
) -> tuple[Side, httpx.AsyncClient, str]:
    """One district's association, a report submitted in chat with its photos, and an export
    run of its admin; its ids, and the admin's signed-in client with its CSRF token."""
    org_name, reporter, admin = names
    org = await kexie.org(org_name, district=district)
    user = await kexie.member(reporter, "reporter", org=org)
    await kexie.member(admin, "district_admin", district=district)
    await submit_report_with_album(user, f"{district}技术交流会")
    author = await member_id(kexie, reporter)
    async with kexie.session() as session:
        report = await session.scalar(select(Activity.id).where(Activity.author_id == author))
        evidence = await session.scalar(select(Evidence.id).where(Evidence.activity_id == report))
    assert report is not None and evidence is not None
    found = await kexie.district(district)
    client = await stack.enter_async_context(console_client(kexie))
    csrf = await sign_in(client, admin)
    export_path = await finished_export(client, csrf, this_year(kexie), found.id)
    run_id, file = export_path.removeprefix("/console/export/").split("/", 1)
    ids = {
        "report": str(report),
        "evidence": str(evidence),
        "association": str(org),
        "district": str(found.id),
        "export": run_id,
        "export_file": file,
        "invite": "no-such-invite",
    }
    return Side(ids, export_path), client, csrf


def values(endpoint: Endpoint, ids: dict[str, str]) -> dict[str, str]:
    return {p: ids[PARAM_KINDS[p]] for p in endpoint.params}


# --- no session, forged sessions ---------------------------------------------------------------


async def test_every_route_but_the_entry_answers_401_without_a_valid_session(
    kexie: Kexie,
) -> None:
    admin = 6401
    await kexie.member(admin, "district_admin", district="锦江区")
    admin_member = await member_id(kexie, admin)
    signer = SessionSigner(TOKEN, 120)
    genuine, _ = signer.issue(admin_member, tg(admin))
    other_bot, _ = SessionSigner("7000009:AAHsomeOtherBotToken012345678901234", 120).issue(
        admin_member, tg(admin)
    )
    with mock.patch("time.time", return_value=time.time() - 3 * 3600):
        expired, _ = signer.issue(admin_member, tg(admin))
    # The cookie as issued before it named an address: [member, Telegram id, csrf], genuinely
    # signed. It opens nothing: the admin is asked to sign in again.
    earlier = signer._serializer.dumps([admin_member, admin, "csrf-of-the-earlier-cookie"])
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    cookies: dict[str, str | None] = {
        "no cookie": None,
        "garbage": "not-a-session",
        "signed for another bot": other_bot,
        "tampered": tampered,
        "expired": expired,
        "of the earlier shape": earlier,
        "oversized": genuine + "x" * 600,
    }
    routes = guarded(kexie)
    assert routes
    for what, cookie in cookies.items():
        async with console_client(kexie) as client:
            if cookie is not None:
                client.cookies.set(COOKIE, cookie)
            for endpoint in routes:
                answer = await call(client, endpoint, endpoint.url(placeholders(endpoint)))
                assert answer.status_code == 401, (what, str(endpoint), answer.status_code)
                if endpoint.method == "GET":
                    assert SESSION_EXPIRED in answer.text, (what, str(endpoint))
    # The genuine cookie does open them (so the 401s above are about the cookie).
    async with console_client(kexie) as client:
        client.cookies.set(COOKIE, genuine)
        assert (await client.get("/console/reports")).status_code == 200
    # The entry routes answer without a session.
    async with console_client(kexie) as client:
        assert (await client.get("/console/")).status_code == 200
        assert (await client.get("/console/logout")).status_code == 200


async def test_reporters_and_association_admins_get_no_session_nor_any_page(
    kexie: Kexie,
) -> None:
    org = await kexie.org("某某科技有限公司科协")
    await kexie.member(6411, "reporter", org=org)
    await kexie.member(6412, "org_admin", org=org)
    routes = guarded(kexie)
    for user_id in (6411, 6412):
        async with console_client(kexie) as client:
            answer = await client.post("/console/session", data={"init_data": init_data(user_id)})
            assert answer.status_code == 403 and ADMINS_ONLY in answer.text
            assert COOKIE not in client.cookies
        # A cookie naming them (issued while they were an admin, say): the policy is checked on
        # every request, so every page is refused, forms with a valid token too.
        cookie, session = SessionSigner(TOKEN, 120).issue(
            await member_id(kexie, user_id), tg(user_id)
        )
        async with console_client(kexie) as client:
            client.cookies.set(COOKIE, cookie)
            for endpoint in routes:
                form = {"csrf": session.csrf}
                answer = await call(client, endpoint, endpoint.url(placeholders(endpoint)), form)
                assert answer.status_code == 403, (user_id, str(endpoint), answer.status_code)
                assert ADMINS_ONLY in answer.text, (user_id, str(endpoint))


async def test_every_post_route_refuses_a_form_without_its_own_csrf_token(kexie: Kexie) -> None:
    await kexie.member(6421, "district_admin", district="锦江区")
    await kexie.member(6422, "district_admin", district="锦江区")
    posts = [e for e in guarded(kexie) if e.method != "GET"]
    assert {str(e) for e in posts} >= {"POST /export", "POST /reports/{report_id:int}/approve"}
    async with console_client(kexie) as other:
        others_token = await sign_in(other, 6422)
    async with console_client(kexie) as client:
        csrf = await sign_in(client, 6421)
        for endpoint in posts:
            url = endpoint.url(placeholders(endpoint))
            base = {"annex": "1-1", "year": str(this_year(kexie)), "reason": REASON}
            for what, form in {
                "no token": base,
                "empty token": {**base, "csrf": ""},
                "wrong token": {**base, "csrf": "x" * len(csrf)},
                "another admin's token": {**base, "csrf": others_token},
            }.items():
                answer = await call(client, endpoint, url, form)
                assert answer.status_code == 403, (what, str(endpoint), answer.status_code)
                assert CSRF_REFUSED in answer.text, (what, str(endpoint))
    async with kexie.session() as session:
        assert await session.scalar(select(func.count(ExportJob.id))) == 0  # nothing started


# --- another district's ids answer as missing ones ---------------------------------------------


async def test_another_districts_ids_answer_exactly_like_missing_ones(kexie: Kexie) -> None:
    async with contextlib.AsyncExitStack() as stack:
        mine, client, csrf = await side(kexie, stack, "锦江区", ("锦江光电科技科协", 6431, 6441))
        theirs, _, _ = await side(kexie, stack, "武侯区", ("武侯生物医药科协", 6432, 6442))
        covered = await sweep(kexie, client, csrf, mine, theirs)
    print("\n".join(["console security sweep covered:", *covered]))


async def sweep(
    kexie: Kexie, client: httpx.AsyncClient, csrf: str, mine: Side, theirs: Side
) -> list[str]:
    """Every guarded route with 武侯区 ids and with missing ones: the same answers; the routes
    and ids covered."""
    missing = {kind: str(MISSING) for kind in mine.ids} | {"export_file": theirs.ids["export_file"]}
    async with kexie.session() as session:
        for model in (Activity, Evidence, Organisation, ExportJob):
            assert await session.get(model, MISSING) is None
    post = {"csrf": csrf, "annex": "1-1", "year": str(this_year(kexie)), "reason": REASON}
    covered: list[str] = []
    for endpoint in guarded(kexie):
        form = post if endpoint.method == "POST" else None
        if endpoint.params:
            if endpoint.method == "GET":  # the visitor's own object is there
                own = await call(client, endpoint, endpoint.url(values(endpoint, mine.ids)))
                assert own.status_code == 200, (str(endpoint), own.status_code, own.text[:300])
            foreign = await call(client, endpoint, endpoint.url(values(endpoint, theirs.ids)), form)
            absent = await call(client, endpoint, endpoint.url(values(endpoint, missing)), form)
            assert foreign.status_code == 404, (str(endpoint), foreign.status_code)
            same(foreign, absent, str(endpoint))
            covered.append(f"{endpoint}: path ids → 404")
        if endpoint.method == "POST" and endpoint.params:
            continue  # its path names the object; the form is never sent with the visitor's own
        # Ids in the query (GET) or the form (POST), the path filled with the visitor's own.
        url = endpoint.url(values(endpoint, mine.ids))
        for name, kind in (QUERY_IDS if endpoint.method == "GET" else FORM_IDS).items():
            if endpoint.method == "GET":
                foreign = await client.get(url, params={name: theirs.ids[kind]})
                absent = await client.get(url, params={name: missing[kind]})
            else:
                foreign = await call(client, endpoint, url, {**post, name: theirs.ids[kind]})
                absent = await call(client, endpoint, url, {**post, name: missing[kind]})
            same(foreign, absent, f"{endpoint} {name}=")
            covered.append(f"{endpoint}: {name}= → {foreign.status_code}")

    # Nothing of 武侯区 moved: its report is still pending, no export started, nobody chased.
    async with kexie.session() as session:
        report = await session.get(Activity, int(theirs.ids["report"]))
        assert report is not None and report.review_state == ReviewState.PENDING
        runs = (await session.scalars(select(ExportJob.scope))).all()
        assert len(runs) == 2, runs  # the two set up above
        chased = select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == CHASE_KIND)
        assert await session.scalar(chased) == 0
    return covered


def same(foreign: httpx.Response, absent: httpx.Response, what: str) -> None:
    """The answer to another district's id is the answer to a missing id, byte for byte."""
    assert foreign.status_code == absent.status_code, (
        what,
        foreign.status_code,
        absent.status_code,
    )
    assert foreign.content == absent.content, (what, foreign.text[:300], absent.text[:300])


# --- odd numbers: never a 5xx -------------------------------------------------------------------

# Numbers a hostile visitor types: digits str.isdigit() accepts and int() refuses (², ¹) or
# reads (٣), numbers no database integer holds, negative ones, zero.
ODD_NUMBERS = (
    "²",
    "¹",
    "٣",
    "12345678901234567890",
    "9223372036854775808",
    "-1",
    "-12345678901234567890",
    "0",
)
# Every numeric query and form field some console page reads (more are harmless to send).
NUMERIC_QUERY = ("district", "org", "page", "after", "n", "last", "year")
NUMERIC_FORM = ("year", "where", "district", "org")


def hostile_client(kexie: Kexie, stack: contextlib.AsyncExitStack) -> Any:
    """A console client that sees the app's 500 as an answer (not as a raised error)."""
    assert kexie.app is not None
    transport = httpx.ASGITransport(app=console_app(kexie.app), raise_app_exceptions=False)
    return stack.enter_async_context(httpx.AsyncClient(transport=transport, base_url=BASE))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
async def test_odd_numbers_in_every_path_query_and_form_never_answer_5xx(kexie: Kexie) -> None:
    """Each numeric path parameter of every route, with each odd number: 404 (as a missing
    id); each numeric query (GET) and form field (POST): anything but a 5xx."""
    failures: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        mine, _, _ = await side(kexie, stack, "锦江区", ("锦江光电科技科协", 6451, 6461))
        client = await hostile_client(kexie, stack)
        csrf = await sign_in(client, 6461)
        anonymous = await hostile_client(kexie, stack)
        post = {"csrf": csrf, "annex": "1-1", "year": str(this_year(kexie)), "reason": REASON}
        covered = 0
        for endpoint in endpoints(kexie):
            # The entry routes (logout would end the session) get a client of their own.
            visitor = anonymous if endpoint.path in ENTRY else client
            form = post if endpoint.method == "POST" else None
            for name in endpoint.params:
                if name in ("file", "token"):
                    continue  # a file name or an invite's token, not a number
                for odd in ODD_NUMBERS:
                    url = endpoint.url({**values(endpoint, mine.ids), name: odd})
                    answer = await call(visitor, endpoint, url, form)
                    covered += 1
                    if answer.status_code != 404:
                        failures.append(f"{endpoint} {name}={odd}: {answer.status_code}")
            if endpoint.method == "POST" and endpoint.params:
                continue  # its own object would be acted on; the path ids were tried above
            url = endpoint.url(values(endpoint, mine.ids))
            fields = NUMERIC_QUERY if endpoint.method == "GET" else NUMERIC_FORM
            for name in fields:
                for odd in ODD_NUMBERS:
                    if endpoint.method == "GET":
                        answer = await visitor.get(url, params={name: odd})
                    else:
                        answer = await call(visitor, endpoint, url, {**post, name: odd})
                    covered += 1
                    if answer.status_code >= 500:
                        failures.append(f"{endpoint} {name}={odd}: {answer.status_code}")
            if endpoint.path == "/associations/{org_id:int}":  # the 提醒 note's count
                for odd in ODD_NUMBERS:
                    answer = await visitor.get(url, params={"note": "sent", "n": odd})
                    covered += 1
                    if answer.status_code >= 500:
                        failures.append(f"{endpoint} note=sent&n={odd}: {answer.status_code}")
    assert covered > 300, covered
    assert failures == [], "\n".join(failures)


@pytest.fixture(autouse=True)
def _quiet_console_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The sweep makes hundreds of requests; only warnings are worth keeping."""
    caplog.set_level("WARNING", logger="web")
