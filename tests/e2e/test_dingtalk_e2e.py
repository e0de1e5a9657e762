"""End-to-end journeys that only DingTalk has, through its stand-in: the console signed in with a
免登 code (and refused with a forged one), a dropped socket and a ``disconnect`` frame
mid-report, the /status chart as an uploaded image, two instances on one database (each event
handled and answered once), and ``kexie run`` serving Telegram and DingTalk in one process."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import handlers.start
from bot.console import console_alone
from bot.dingtalk import build_dingtalk, close_dingtalk, serve_dingtalk
from storage.models import Activity
from tests.console import BASE
from tests.dingtalk_harness import DingTalkKexie
from tests.dingtalk_standin.server import DingTalkStandIn
from tests.harness import Kexie, seeded
from tests.journeys import local_today, make_invite
from tests.privacy import CONTENT, FIRST, NAME, OUTCOME, PHONE, leaks
from tests.standin import StandIn, make_jpeg
from tests.steps import answer_questions, expect_question, step_label
from web.auth import COOKIE

SLOW = 30.0


@pytest.fixture
async def ding() -> AsyncIterator[DingTalkStandIn]:
    async with DingTalkStandIn() as standin:
        yield standin
    assert standin.rejected == [], standin.rejected


@pytest.fixture
async def kexie(ding: DingTalkStandIn, tmp_path: Path) -> AsyncIterator[DingTalkKexie]:
    installation = await seeded(DingTalkKexie(ding, tmp_path / "kexie"))
    await installation.start()
    yield installation
    await installation.stop()
    if installation.process is not None:
        await installation.kill_process()
    await installation.db.dispose()


async def test_the_console_signs_in_with_a_dingtalk_code_and_refuses_a_forged_one(
    kexie: DingTalkKexie, ding: DingTalkStandIn
) -> None:
    admin = await kexie.member(1201, "district_admin", district="锦江区", first_name="陈静")
    assert kexie.channel is not None
    app = console_alone(
        kexie.settings, kexie.db, kexie.channel.front, lambda: None, kexie.channel.api.user_of_code
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        page = await client.get("/console/dingtalk")
        assert page.status_code == 200 and ding.corp_id in page.text
        forged = await client.post("/console/dingtalk/signin", data={"code": "forged-code"})
        assert forged.status_code == 403 and COOKIE not in client.cookies
        code = ding.issue_auth_code(admin.user_id)
        signed = await client.post("/console/dingtalk/signin", data={"code": code})
        assert signed.status_code == 303, signed.text[:300]
        assert COOKIE in client.cookies
        reports = await client.get("/console/reports")
        assert reports.status_code == 200 and "您管理的范围内还没有已提交的报送" in reports.text
        # An export from the console reaches the admin's DingTalk chat as files.
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', reports.text)
        assert csrf is not None
        district = await kexie.district("锦江区")
        year = kexie.settings.years.year_of(local_today(kexie).date())
        started = await client.post(
            "/console/export",
            data={"csrf": csrf[1], "annex": "1-3", "year": str(year), "where": str(district.id)},
        )
        assert started.status_code == 303, started.text[:300]
        await ding.wait_for(lambda: bool(ding.files_to(admin.user_id)), timeout=SLOW)
        names = [name for name, _ in ding.files_to(admin.user_id)]
        assert names == [f"附件1-3_{year}年锦江区.xlsx"]
        # A code works once, as DingTalk's do.
        client.cookies.clear()
        again = await client.post("/console/dingtalk/signin", data={"code": code})
        assert again.status_code == 403 and COOKIE not in client.cookies
    assert ding.calls["userinfo"] == 3
    # DingTalk refused the forged and the used code, as the test meant: nothing else.
    assert [(r.endpoint, r.answer["errcode"]) for r in ding.rejected] == [("userinfo", 40078)] * 2
    ding.rejected.clear()


@pytest.mark.parametrize("how", ["dropped", "disconnect"])
async def test_a_lost_connection_mid_report_loses_nothing(
    kexie: DingTalkKexie, ding: DingTalkStandIn, how: str
) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    user = await kexie.member(1101, "reporter", org=org)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.send("昨天")
    await user.expect_any(step_label("name"))
    if how == "dropped":
        await ding.drop_socket()
    else:
        await ding.send_disconnect()
    await user.send("新能源汽车技术沙龙")  # queued by DingTalk until the robot reconnects
    await expect_question(user, "content", after="name", timeout=SLOW)
    await ding.wait_for(lambda: ding.connections == 2)
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.name == "新能源汽车技术沙龙"


async def test_status_sends_its_chart_as_an_image(
    kexie: DingTalkKexie, ding: DingTalkStandIn
) -> None:
    admin = await kexie.member(1201, "district_admin", district="锦江区")
    await admin.send("/status")
    await ding.wait_for(lambda: bool(ding.images_to(admin.user_id)), timeout=SLOW)
    assert ding.images_to(admin.user_id)[0].startswith(b"\x89PNG")


async def test_two_instances_answer_each_message_once(
    kexie: DingTalkKexie, ding: DingTalkStandIn
) -> None:
    # A second instance of the same app on the same database: DingTalk hands each event to
    # one of the connections (the stand-in alternates).
    stop = asyncio.Event()
    second = build_dingtalk(kexie.settings, kexie.db, lambda: None)
    serving = asyncio.create_task(serve_dingtalk(second, kexie.db, stop))
    try:
        await ding.wait_for(lambda: ding.connections == 2)
        org = await kexie.org("锦江光电科技科协", district="锦江区")
        user = await kexie.member(1101, "reporter", org=org)
        await user.send("/report")
        await answer_questions(user, {"name": "双实例交流会"}, until="evidence")
        assert kexie.channel is not None
        assert kexie.channel.dispatcher.handled > 0 and second.dispatcher.handled > 0
    finally:
        stop.set()
        await serving
        await close_dingtalk(second)
    questions = Counter(
        text.split("\n")[0] for text in ding.texts_to(user.user_id) if "步/共" in text
    )
    assert questions and max(questions.values()) == 1, questions
    async with kexie.session() as session:
        activity = await session.scalar(select(Activity))
        assert activity is not None and activity.name == "双实例交流会"


async def test_kexie_run_serves_telegram_and_dingtalk_in_one_process(
    ding: DingTalkStandIn, tmp_path: Path
) -> None:
    async with StandIn() as telegram:
        kexie = await seeded(Kexie(telegram, tmp_path / "kexie"))
        both = DingTalkKexie(ding, tmp_path / "kexie", kexie.settings.db_url)
        env = {**kexie.env, **{k: v for k, v in both.env.items() if "DINGTALK" in k}}
        org = await kexie.org("锦江光电科技科协", district="锦江区")
        on_telegram = telegram.user(5001, "王芳")
        on_dingtalk = both.user(5002, "李强")
        await kexie.start_process(env)
        try:
            for user in (on_telegram, on_dingtalk):
                token = await kexie.invite_token("reporter", org=org)
                await user.send(f"/start {token}")
                await user.expect_any("您好", timeout=SLOW)
                await user.send("/report")
                await user.expect_any(step_label("activity_date"), timeout=SLOW)
        finally:
            await kexie.kill_process()
            await kexie.db.dispose()
        telegram.assert_no_errors()


async def test_pings_are_answered_and_a_message_is_acked_after_its_answer_is_stored(
    kexie: DingTalkKexie, ding: DingTalkStandIn
) -> None:
    await ding.ping()  # the opaque echoed on the same socket, else AssertionError
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    user = await kexie.member(1101, "reporter", org=org)
    message = await user.send("/report")
    ack = await ding.wait_acked(message)
    assert ack["code"] == 200
    async with kexie.session() as session:  # acked: the draft it started is committed
        assert await session.scalar(select(Activity)) is not None


async def test_invite_gives_a_link_that_joins_inside_dingtalk_and_its_qr_code(
    kexie: DingTalkKexie, ding: DingTalkStandIn
) -> None:
    name = "A&B<蓉城>科协"  # escaped for DingTalk's markdown, shown as written
    org = await kexie.org(name)
    admin = await kexie.member(4901, "org_admin", org=org)
    made = await make_invite(admin, name)
    assert name in made.text
    token = made.text.split("/start ")[1].split()[0]  # no console: what to send the robot
    await ding.wait_for(lambda: bool(ding.images_to(admin.user_id)))
    assert ding.images_to(admin.user_id)[0].startswith(b"\x89PNG")  # the QR code
    newcomer = kexie.user(4902, "周敏")
    await newcomer.send(token)  # the token alone joins
    joined = await newcomer.expect_any("您好")
    assert name in joined.text


async def test_help_is_a_card_of_commands_and_a_button_runs_one(kexie: DingTalkKexie) -> None:
    org = await kexie.org("锦江光电科技科协", district="锦江区")
    user = await kexie.member(1101, "reporter", org=org)
    await user.send("帮助")  # DingTalk has no command menu: the Chinese name, typed
    card = await user.expect_any("直接发送命令的名称")
    assert "报送" in card.button_texts and "我的报送" in card.button_texts
    await user.press("我的报送", card)
    await user.expect_any("还没有")


async def test_a_report_on_dingtalk_logs_no_personal_data(
    kexie: DingTalkKexie,
    ding: DingTalkStandIn,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    org = await kexie.org("蓉城医疗器械有限公司科协")
    user = await kexie.member(4401, "reporter", org=org, first_name=FIRST)
    await user.send("/report")
    await user.expect_any(step_label("activity_date"))
    await user.press("昨天")
    await user.expect_any(step_label("name"))
    ding.fail_next("webhook", 500)  # a failing reply, retried
    await user.send(NAME)
    await user.expect_any(step_label("content"))
    await user.send(CONTENT)
    await user.expect_any(step_label("role"))

    # An exception in a handler whose message quotes the user's words (as database errors
    # quote their parameters).
    def broken(*args: object) -> list[str]:
        raise IntegrityError("INSERT INTO activity", {"content": CONTENT}, ValueError(PHONE))

    monkeypatch.setattr(handlers.start, "commands_for", broken)
    await user.send("/help")
    await user.expect_any("处理时出了问题")
    monkeypatch.undo()
    await user.press("主办")
    await user.expect_any(step_label("headcount"))
    await user.send("42人")
    await user.expect_any(step_label("outcome"))
    await user.send(OUTCOME)
    await user.expect_any(step_label("evidence"))
    ding.fail_next("download", 500)
    await user.send_photo(make_jpeg(seed=51))
    await user.expect_any("已收到")  # the download failed once: sent again, it is received
    assert [r for r in caplog.records if r.levelno >= logging.WARNING], "nothing went wrong?"
    found = leaks(caplog)
    assert not found, "\n".join(found)
    ding.rejected.clear()  # the injected failures
