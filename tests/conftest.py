"""Shared pytest fixtures: the Bot API stand-in and a running kexie installation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from storage.migrate import upgrade
from storage.registry import seed_districts
from tests.harness import Kexie, drop_postgres_database, postgres_database, seeded
from tests.standin import StandIn


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    """A running local Telegram Bot API stand-in (see tests/standin/).

    Fails the test at teardown if the stand-in rejected any request, unless the test set
    ``standin.allow_errors = True``.
    """
    async with StandIn() as server:
        yield server
    server.assert_no_errors()


@pytest.fixture(params=["sqlite"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """The database URL for a test: SQLite by default; parametrize with ``postgres`` to use a
    fresh PostgreSQL database (skipped when KEXIE_TEST_POSTGRES_URL is not set)."""
    if request.param == "sqlite":
        yield None
        return
    made = await postgres_database()
    if made is None:
        pytest.skip("PostgreSQL not available (KEXIE_TEST_POSTGRES_URL unset)")
    url, name = made
    yield url
    await drop_postgres_database(name)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database with the districts seeded, for service-level tests."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
    await asyncio.to_thread(upgrade, url)  # Alembic runs its own event loop
    database = Database(url)
    async with database.session() as session:
        await seed_districts(session)
    yield database
    await database.dispose()


@pytest.fixture
async def kexie_idle(standin: StandIn, tmp_path: Path, backend: str | None) -> AsyncIterator[Kexie]:
    """A migrated, district-seeded installation whose bot is NOT started."""
    installation = await seeded(Kexie(standin, tmp_path / "kexie", backend))
    yield installation
    await installation.stop()
    if installation.process is not None:
        await installation.kill_process()
    await installation.db.dispose()


@pytest.fixture
async def kexie(kexie_idle: Kexie) -> AsyncIterator[Kexie]:
    """A running kexie bot against the stand-in (in this process, real HTTP on loopback)."""
    await kexie_idle.start()
    yield kexie_idle
    await kexie_idle.stop()
