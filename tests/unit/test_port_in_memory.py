"""The conversation port is real: a flow runs in memory through a fake channel adapter — an
``Incoming`` event in, the queued outputs recorded — with a real database, no HTTP and no
python-telegram-bot (issue 21, item 2)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from core.address import Address
from core.enums import Channel, OrgKind, Role
from core.policy import Actor
from core.settings import Settings, load_settings
from handlers import report, router, start
from handlers.common import Handler, Turn
from handlers.port import Buttons, Capabilities, Deferred, Incoming, Later, Reply
from storage.db import Database
from storage.members import actor_of_loaded, create_invite, load_for_update
from storage.registry import create_organisation, district_by_name

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
CAPS = Capabilities(
    max_text=2000, max_button_data=64, max_album=9, max_file_bytes=20_000_000, max_caption=500
)


@dataclass
class MemoryFront:
    """A channel that keeps what it is asked to do."""

    channel: Channel = Channel.TELEGRAM  # storage knows one channel today
    caps: Capabilities = CAPS
    menus: list[tuple[Address, Actor, str]] = field(default_factory=list)
    sent: list[tuple[Address, str]] = field(default_factory=list)

    async def send(self, to: Address, text: str, buttons: Buttons | None = None) -> str | None:
        self.sent.append((to, text))
        return str(len(self.sent))

    async def edit(self, to: Address, ref: str, text: str, buttons: Buttons | None = None) -> None:
        self.sent.append((to, text))

    async def send_photo(
        self, to: Address, png: bytes, caption: str | None, *, html: bool = True
    ) -> None:
        self.sent.append((to, caption or ""))

    async def send_file(self, to: Address, path: Path) -> None:
        self.sent.append((to, path.name))

    async def set_menu(self, to: Address, actor: Actor, lang: str) -> None:
        self.menus.append((to, actor, lang))

    def start_link(self, token: str) -> str:
        return f"memory://start/{token}"

    def wake_sender(self) -> None:
        pass

    def debounce(self, name: str, delay: float, job: Deferred) -> None:
        pass

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        work.close()

    async def retrying(self, call: Callable[[], Awaitable[T]], *, what: str) -> T:
        return await call()


@dataclass
class Chat:
    """One person talking to the bot through the memory channel."""

    db: Database
    settings: Settings
    front: MemoryFront
    user_id: int
    seq: int = 0

    async def send(self, handler: Handler, text: str, *, args: tuple[str, ...] = ()) -> Turn:
        """One event through ``handler``, committed; then its outputs are performed."""
        self.seq += 1
        address = Address(Channel.TELEGRAM, str(self.user_id))
        event = Incoming(
            kind="command" if text.startswith("/") else "text",
            key=str(self.seq),
            sender=address,
            sender_name="王芳",
            time=datetime.now(UTC),
            text=text,
            args=args,
        )
        async with self.db.session() as session:
            member = await load_for_update(session, address)
            lang = member.language if member else "zh"
            turn = Turn(
                event, self.front, self.db, session, self.settings, member,
                actor_of_loaded(member), lang,
            )  # fmt: skip
            await handler(turn)
        for output in turn.outbox:  # what an adapter does after the commit
            if isinstance(output, Reply):
                await self.front.send(address, output.text, output.buttons)
            elif isinstance(output, Later):
                await output.action()
        return turn


def replies(turn: Turn) -> list[str]:
    return [o.text for o in turn.outbox if isinstance(o, Reply)]


async def test_start_and_the_first_report_questions_run_in_memory(
    db: Database, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=tmp_path, database_url="sqlite+aiosqlite://")
    async with db.session() as session:
        district = await district_by_name(session, "锦江区")
        assert district is not None
        org = await create_organisation(session, district, OrgKind.ENTERPRISE, "蓉城科技科协")
        invite = await create_invite(
            session, role=Role.REPORTER, org_id=org.id, uses=1, days=7, created_by=None
        )
        token = invite.token
    chat = Chat(db, settings, MemoryFront(), user_id=7001)
    router.register_flow(report.FLOW, report.receive_message, report.cancel_report)

    joined = await chat.send(start.start, f"/start {token}", args=(token,))
    assert any("蓉城科技科协" in text for text in replies(joined))
    # The menu is the channel's business: asked for through the port, after the commit.
    assert [(to.external_id, lang) for to, _, lang in chat.front.menus] == [("7001", "zh")]

    first = await chat.send(report.start_report, "/report")
    assert any("第1步" in text for text in replies(first)), replies(first)
    second = await chat.send(router.route_message, "昨天")
    assert any("第2步" in text for text in replies(second)), replies(second)
    # Each output fits the channel's capabilities, and the buttons' data its limit.
    for output in second.outbox:
        assert isinstance(output, Reply) and len(output.text) <= CAPS.max_text


def test_the_flows_import_no_telegram() -> None:
    """Below the adapter nothing knows Telegram: importing every flow loads no ``telegram``."""
    code = (
        "import sys, pkgutil, importlib, handlers\n"
        "for m in pkgutil.walk_packages(handlers.__path__, 'handlers.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'telegram' or n.startswith('telegram.'))\n"
        "print(len(bad), bad[:3])\n"
        "sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
