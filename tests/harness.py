"""End-to-end harness: the real kexie application against the local Bot API stand-in.

``Kexie`` owns one installation for a test: a temporary data dir and database (SQLite, or a
fresh PostgreSQL database when the test asks for ``postgres``), the application built by
``bot.app.build_application`` polling the stand-in through python-telegram-bot's HTTP stack, and
helpers to run the real ``kexie`` CLI and to set up associations and members.

    async def test_something(kexie: Kexie) -> None:
        org = await kexie.org("某某科技有限公司科协")
        user = await kexie.member(1001, "reporter", org=org)
        await user.send("/report")
        await user.expect_any("第1步")
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram.ext import Application

from bot.app import build_application
from bot.polling import poll
from core.enums import OrgKind, Role
from core.settings import Settings, load_settings
from storage.db import Database
from storage.members import create_invite
from storage.migrate import upgrade
from storage.models import District, Organisation
from storage.registry import create_organisation, district_by_name, seed_districts
from tests.standin import FakeUser, StandIn

CLOCK_SHIM = Path(__file__).parent / "clock"


def clock_env() -> dict[str, str]:
    """Environment that starts a subprocess at this test's clock (``tests/clock/``): the
    moment now, as the test sees it, from which the process's time runs on."""
    path = os.pathsep.join(p for p in (str(CLOCK_SHIM), os.environ.get("PYTHONPATH")) if p)
    return {"KEXIE_TEST_NOW": datetime.now(UTC).isoformat(), "PYTHONPATH": path}


# A token of the real shape (the stand-in accepts whatever token it was created with).
TOKEN = "7000001:AAHkexieStandinTestToken0123456789ab"
REPO = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    """What a ``kexie`` command printed and returned."""

    rc: int
    out: str
    err: str


class Kexie:
    """One kexie installation under test."""

    def __init__(self, standin: StandIn, data_dir: Path, db_url: str | None = None) -> None:
        self.standin = standin
        self.data_dir = data_dir
        self.settings: Settings = load_settings(
            bot_token=TOKEN,
            data_dir=data_dir,
            database_url=db_url,
            telegram_api_url=standin.base_url,
            bot_username=None,
            poll_timeout=1,
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.settings.db_url)
        self.app: Application | None = None
        self.process: asyncio.subprocess.Process | None = None

    # --- environment for subprocesses (the CLI, a separately running bot) ---
    @property
    def env(self) -> dict[str, str]:
        """Environment that points a ``kexie`` process at this installation and the stand-in."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KEXIE_")}
        env.update(
            KEXIE_BOT_TOKEN=TOKEN,
            KEXIE_DATA_DIR=str(self.data_dir),
            KEXIE_DATABASE_URL=self.settings.db_url,
            KEXIE_TELEGRAM_API_URL=self.standin.base_url,
            KEXIE_POLL_TIMEOUT="1",
            PYTHONUNBUFFERED="1",
            **clock_env(),
        )
        return env

    async def cli(self, *args: str, timeout: float = 60) -> CliResult:
        """Run the real ``kexie`` console script (as the README does) and capture its output."""
        kexie = Path(sys.executable).parent / "kexie"
        proc = await asyncio.create_subprocess_exec(
            str(kexie),
            *args,
            env=self.env,
            cwd=self.data_dir,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
        assert proc.returncode is not None
        return CliResult(proc.returncode, out.decode(), err.decode())

    # --- the bot, in this process ---
    async def migrate(self) -> None:
        """Apply the migrations (Alembic runs its own event loop, so in a thread)."""
        await asyncio.to_thread(upgrade, self.settings.db_url)

    async def start(self) -> None:
        """Build the application and poll the stand-in (bot.polling, as ``kexie run`` does)."""
        self.app = build_application(self.settings, self.db)
        await self.app.initialize()
        if self.app.post_init:
            await self.app.post_init(self.app)
        await self.app.start()
        self._stop = asyncio.Event()
        self._poller = asyncio.create_task(poll(self.app, self._stop, timeout=1))

    async def stop(self) -> None:
        """Stop polling and shut the application down."""
        if self.app is None:
            return
        app, self.app = self.app, None
        self._stop.set()
        await self._poller
        if app.running:
            await app.stop()
        await app.shutdown()

    async def restart(self) -> None:
        """Stop and start again (a fresh application object on the same database)."""
        await self.stop()
        await self.start()

    # --- the bot as a separate process (for kill -9 tests) ---
    async def start_process(self, env: dict[str, str] | None = None) -> None:
        """Run ``kexie run`` in a subprocess against the stand-in (``env``: another
        environment than :attr:`env`)."""
        kexie = Path(sys.executable).parent / "kexie"
        self.process = await asyncio.create_subprocess_exec(
            str(kexie),
            "run",
            env=env or self.env,
            cwd=self.data_dir,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def kill_process(self) -> None:
        """SIGKILL the bot process: no shutdown code runs, like a power cut."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.process = None

    # --- data set-up through the services ---
    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A committed session on this installation's database."""
        async with self.db.session() as session:
            yield session

    async def district(self, name: str = "锦江区") -> District:
        """A seeded district by name."""
        async with self.session() as session:
            district = await district_by_name(session, name)
            assert district is not None, name
            return district

    async def org(self, name: str, district: str = "锦江区", kind: str = "enterprise") -> int:
        """Create an association, return its id."""
        async with self.session() as session:
            found = await district_by_name(session, district)
            assert found is not None
            org = await create_organisation(session, found, OrgKind(kind), name)
            return org.id

    async def invite_token(
        self,
        role: str,
        *,
        org: int | None = None,
        district: str | None = None,
        uses: int = 1,
        days: int = 7,
    ) -> str:
        """Create an invitation directly, return its token."""
        async with self.session() as session:
            district_id = None
            if district is not None:
                found = await district_by_name(session, district)
                assert found is not None
                district_id = found.id
            invite = await create_invite(
                session,
                role=Role(role),
                org_id=org,
                district_id=district_id,
                uses=uses,
                days=days,
            )
            return invite.token

    async def member(
        self,
        user_id: int,
        role: str = "reporter",
        *,
        org: int | None = None,
        district: str | None = None,
        first_name: str = "王芳",
    ) -> FakeUser:
        """A simulated user who joined through an invite link (as a real user would)."""
        user = self.user(user_id, first_name)
        token = await self.invite_token(role, org=org, district=district)
        await user.send(f"/start {token}")
        await user.expect_any("您好")
        return user

    def user(self, user_id: int, first_name: str = "王芳") -> Any:
        """A person on this installation's channel who has not joined yet (Telegram's
        :class:`tests.standin.FakeUser` here; DingTalk's in ``tests/dingtalk_harness.py``)."""
        return self.standin.user(user_id, first_name)

    async def get(self, model: type[Any], ident: int) -> Any:
        """Load one row by primary key."""
        async with self.session() as session:
            return await session.get(model, ident)

    async def org_row(self, org_id: int) -> Organisation:
        """An association row."""
        row = await self.get(Organisation, org_id)
        assert row is not None
        return row  # type: ignore[no-any-return]


async def postgres_database() -> tuple[str, str] | None:
    """Create a fresh PostgreSQL database; return (its URL, its name) or None if unavailable."""
    admin = os.environ.get("KEXIE_TEST_POSTGRES_URL")
    if not admin:
        return None
    import asyncpg

    name = f"kexie_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = admin.rpartition("/")
    return f"{base}/{name}", name


async def drop_postgres_database(name: str) -> None:
    """Drop a database made by :func:`postgres_database`."""
    import asyncpg

    admin = os.environ["KEXIE_TEST_POSTGRES_URL"]
    conn = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seeded(kexie: Kexie) -> Kexie:
    """Migrate and seed the districts."""
    await kexie.migrate()
    async with kexie.session() as session:
        await seed_districts(session)
    return kexie
