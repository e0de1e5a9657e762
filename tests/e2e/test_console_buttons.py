"""The 控制台 buttons (issue 13): with ``KEXIE_WEB_URL`` set, district and city admins get the
console as their chat's menu button (set where the command menus are: joining, removal,
language) and a ``web_app`` button under the ``/status`` card; everyone else keeps or gets back
the default menu button; without ``KEXIE_WEB_URL`` nothing of this appears. In polling mode
``kexie run`` serves the console on ``KEXIE_WEB_LISTEN``; a busy port costs a warning, not the
bot."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from bot.console import serve_console
from storage.models import Membership
from tests.harness import Kexie
from tests.ports import free_port
from tests.standin import BotMessage, FakeUser, StandIn

WEB_URL = "https://kexie.example.org/console"
CONSOLE_BUTTON = {"type": "web_app", "text": "控制台", "web_app": {"url": f"{WEB_URL}/"}}
SLOW = 30.0  # a fresh `kexie run` needs a moment to import, migrate and start polling


@pytest.fixture
async def published(kexie_idle: Kexie) -> AsyncIterator[Kexie]:
    """A running kexie whose console is published at ``WEB_URL`` (KEXIE_WEB_URL)."""
    kexie_idle.settings = kexie_idle.settings.model_copy(update={"web_url": WEB_URL})
    await kexie_idle.start()
    yield kexie_idle


async def menu_button(standin: StandIn, chat_id: int, count: int = 1) -> dict[str, Any]:
    """The menu button of ``chat_id`` once kexie has set it ``count`` times for that chat."""
    total = 1
    while True:
        await standin.wait_for_call("setChatMenuButton", total)
        calls = standin.calls_of("setChatMenuButton")
        mine = [c for c in calls if c.params.get("chat_id") == chat_id]
        if len(mine) >= count:
            button: dict[str, Any] = mine[count - 1].params.get("menu_button") or {}
            return button
        total = len(calls) + 1


async def command_menu_set(standin: StandIn, chat_id: int) -> None:
    """Wait until kexie has set the member's own command menu (the menu work is then done)."""
    total = 1
    while True:
        await standin.wait_for_call("setMyCommands", total)
        calls = standin.calls_of("setMyCommands")
        if any((c.params.get("scope") or {}).get("chat_id") == chat_id for c in calls):
            return
        total = len(calls) + 1


async def status_card(admin: FakeUser) -> BotMessage:
    """/status: the card (returned) and the chart photo after it."""
    await admin.send("/status")
    card = await admin.expect_any("报送情况")
    photo = await admin.expect()
    assert photo.media_type == "photo", photo.describe()
    return card


# --- the menu button ---------------------------------------------------------------------------


async def test_a_district_admin_who_joins_gets_the_console_as_menu_button(
    published: Kexie,
) -> None:
    await published.member(6101, "district_admin", district="锦江区")
    assert await menu_button(published.standin, 6101) == CONSOLE_BUTTON
    assert published.standin.menu_buttons[6101] == CONSOLE_BUTTON


async def test_a_city_admin_gets_it_too_in_their_language(published: Kexie) -> None:
    admin = await published.member(6111, "city_admin")
    assert await menu_button(published.standin, 6111) == CONSOLE_BUTTON
    await admin.send("/settings")
    await admin.expect_any("语言")
    await admin.press("English")
    await admin.expect_answer()
    assert await menu_button(published.standin, 6111, count=2) == {
        **CONSOLE_BUTTON,
        "text": "Console",
    }


async def test_reporters_and_association_admins_keep_the_default_menu_button(
    published: Kexie,
) -> None:
    org = await published.org("某某科技有限公司科协")
    await published.member(6121, "reporter", org=org)
    await published.member(6122, "org_admin", org=org)
    for user_id in (6121, 6122):
        assert await menu_button(published.standin, user_id) == {"type": "default"}
    assert all(b.get("type") != "web_app" for b in published.standin.menu_buttons.values())


async def test_a_removed_district_admin_gets_the_default_menu_button_back(
    published: Kexie,
) -> None:
    admin = await published.member(6131, "district_admin", district="锦江区")
    assert await menu_button(published.standin, 6131) == CONSOLE_BUTTON
    # District roles end outside the chat (the operator); the next menu refresh follows it.
    async with published.session() as session:
        await session.execute(update(Membership).values(active=False))
    await admin.send("/start")
    await admin.expect_any("您好")
    assert await menu_button(published.standin, 6131, count=2) == {"type": "default"}
    assert published.standin.menu_buttons[6131] == {"type": "default"}


async def test_an_association_admin_removed_from_the_chat_gets_the_default_back(
    published: Kexie,
) -> None:
    # The removal in /members sets the removed member's menus again (the console is not theirs).
    org = await published.org("某某科技有限公司科协")
    await published.member(6141, "reporter", org=org, first_name="李明")
    await published.member(6142, "district_admin", district="锦江区")
    admin = published.standin.users[6142]
    assert await menu_button(published.standin, 6142) == CONSOLE_BUTTON
    await admin.send("/members")
    await admin.expect_any("李明")
    await admin.press("移除 1. 李明")
    await admin.expect_any("确定移除")
    await admin.press("确认移除")
    await admin.expect_any("已移除")
    assert await menu_button(published.standin, 6141, count=2) == {"type": "default"}


# --- the /status button ------------------------------------------------------------------------


async def test_status_card_carries_the_console_button(published: Kexie) -> None:
    admin = await published.member(6151, "district_admin", district="锦江区")
    card = await status_card(admin)
    button = card.button("控制台")
    assert button.web_app == f"{WEB_URL}/" and button.callback_data is None


# --- without KEXIE_WEB_URL ---------------------------------------------------------------------


async def test_without_a_web_url_there_is_no_console_button_anywhere(kexie: Kexie) -> None:
    assert kexie.settings.web_url is None
    admin = await kexie.member(6161, "district_admin", district="锦江区")
    await command_menu_set(kexie.standin, 6161)
    card = await status_card(admin)
    assert "控制台" not in card.button_texts
    assert all(b.web_app is None for row in card.buttons for b in row)
    assert kexie.standin.calls_of("setChatMenuButton") == []
    assert kexie.standin.menu_buttons == {}


async def test_an_http_web_url_loses_neither_the_status_card_nor_the_menu(
    kexie_idle: Kexie,
) -> None:
    # Telegram refuses a Mini App that is not https (400): offering one would lose the card.
    kexie_idle.settings = kexie_idle.settings.model_copy(
        update={"web_url": "http://kexie.example.org/console"}
    )
    await kexie_idle.start()
    admin = await kexie_idle.member(6165, "district_admin", district="锦江区")
    await command_menu_set(kexie_idle.standin, 6165)
    card = await status_card(admin)
    assert all(b.web_app is None for row in card.buttons for b in row)
    assert kexie_idle.standin.errors == []
    assert all(b.get("type") != "web_app" for b in kexie_idle.standin.menu_buttons.values())


# --- the console's own server in polling mode ---------------------------------------------------


class KexieRun:
    """``kexie run`` as a subprocess, its log in a file (a pipe could fill up and block it)."""

    def __init__(self, kexie: Kexie, name: str, **env: str) -> None:
        self.kexie = kexie
        self.env = env
        self.log_path = kexie.data_dir.parent / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> KexieRun:
        with self.log_path.open("ab") as log_file:
            self.proc = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "kexie"),
                "run",
                env={**self.kexie.env, **self.env},
                cwd=self.kexie.data_dir,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log_file,
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), SLOW)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


async def _get_when_up(url: str) -> httpx.Response:
    """GET ``url`` as soon as something listens there (a fresh process needs a moment)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SLOW
    async with httpx.AsyncClient() as client:
        while True:
            try:
                return await client.get(url)
            except httpx.ConnectError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)


async def test_kexie_run_serves_the_console_on_its_port_and_shrugs_off_a_busy_one(
    kexie_idle: Kexie,
) -> None:
    kexie = kexie_idle
    user = kexie.standin.user(6171, "周强")
    port = free_port()
    async with KexieRun(kexie, "free", KEXIE_WEB_LISTEN=f"127.0.0.1:{port}") as run:
        await user.send("/help")
        await user.expect_any("邀请链接", timeout=SLOW)  # a stranger's /help: how to join
        answer = await _get_when_up(f"http://127.0.0.1:{port}/console/")
        assert answer.status_code == 200, answer.text[:300]
        assert 'id="entry-form"' in answer.text
        assert "default-src 'self'" in answer.headers["content-security-policy"]
        assert (await _get_when_up(f"http://127.0.0.1:{port}/console/reports")).status_code == 401
    assert "console served on" in run.log, run.log

    # Someone else holds the port: one warning, and the bot still answers.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = squatter.getsockname()[1]
        async with KexieRun(kexie, "busy", KEXIE_WEB_LISTEN=f"127.0.0.1:{busy}") as run:
            await user.send("/help")
            await user.expect_any("邀请链接", timeout=SLOW)  # a stranger's /help: how to join
            assert run.proc is not None and run.proc.returncode is None
        warnings = [line for line in run.log.splitlines() if "console not served" in line]
        assert len(warnings) == 1 and "WARNING" in warnings[0], run.log
        assert f":{busy}" in warnings[0] and "Traceback" not in run.log


async def test_web_listen_off_serves_nothing(kexie_idle: Kexie) -> None:
    kexie = kexie_idle
    kexie.settings = kexie.settings.model_copy(update={"web_listen": "off"})
    await kexie.start()
    assert kexie.app is not None
    stop = asyncio.Event()
    # It returns at once, stop never set: nothing was bound, nothing is served.
    await asyncio.wait_for(serve_console(kexie.app, stop), SLOW)
    assert not stop.is_set()
