"""Shared pytest fixtures: the Bot API stand-in and a running kexie installation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from storage.db import Database
from storage.migrate import upgrade
from storage.registry import seed_districts
from tests.harness import Kexie, drop_postgres_database, postgres_database, seeded
from tests.standin import StandIn

TZ = ZoneInfo("Asia/Shanghai")
# The suite's "today" unless a test says otherwise: an ordinary working Wednesday in June, far
# from the annual deadline. `KEXIE_TEST_TODAY=2026-12-05 make test` runs the whole suite on
# another day (the deadline's edges above all); the clock starts there at 10:00 and runs on.
DEFAULT_TODAY = date(2026, 6, 10)


def suite_today() -> date:
    """The day the suite runs on: ``KEXIE_TEST_TODAY`` (YYYY-MM-DD), else :data:`DEFAULT_TODAY`."""
    text = os.environ.get("KEXIE_TEST_TODAY")
    return date.fromisoformat(text) if text else DEFAULT_TODAY


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "real_clock: the test runs at the machine's real time (a smoke test)"
    )
    config.addinivalue_line(
        "markers",
        "today(day): the test runs on this day (10:00 Asia/Shanghai), not the suite's",
    )


# The files that take longest (a --durations profile of the whole suite, December 2026), longest
# first. Under pytest-xdist (--dist loadfile, scripts/test.sh) a file runs on one worker from its
# first test to its last, so a long file that happens to be collected last is the run's tail
# while the other workers idle; these start first instead. Order only: a file not named here
# runs as collected, after them.
SLOW_FILES_FIRST = (
    "tests/unit/test_scheduler_fortnight.py",
    "tests/e2e/test_registry_e2e.py",
    "tests/e2e/test_digest_switch_e2e.py",
    "tests/e2e/test_role_home.py",
    "tests/e2e/test_review_e2e.py",
    "tests/e2e/test_console_phone.py",
    "tests/e2e/test_report_flow_e2e.py",
    "tests/e2e/test_newuser_journeys.py",
    "tests/e2e/test_webhook_cluster.py",
    "tests/e2e/test_restore_hostile.py",
    "tests/e2e/test_scheduler_sender.py",
    "tests/e2e/test_scheduler_e2e.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_report_header(config: pytest.Config) -> str:
    return f"kexie test clock: {suite_today().isoformat()} 10:00 Asia/Shanghai (KEXIE_TEST_TODAY)"


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[datetime]:
    """Every test runs at a fixed moment, never at the machine's date: 10:00 (Shanghai) of
    :func:`suite_today`, of the day a ``today`` marker names, or of the ``today`` parameter of a
    test parametrized over days (:data:`tests.harness.EDGE_DAYS`); the clock then runs on (timeouts
    and sleeps behave). Tests marked ``real_clock`` keep the real time. Subprocesses that a test
    starts through ``tests.harness`` follow the same clock (``tests/clock/``)."""
    if request.node.get_closest_marker("real_clock") is not None:
        yield datetime.now(TZ)
        return
    marker = request.node.get_closest_marker("today")
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if isinstance(params.get("today"), date):  # parametrized over days: EDGE_DAYS
        day = params["today"]
    else:
        day = marker.args[0] if marker is not None else suite_today()
    moment = datetime.combine(day, time(10, 0), tzinfo=TZ)
    with time_machine.travel(moment, tick=True):
        yield moment


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
async def db(tmp_path: Path, backend: str | None) -> AsyncIterator[Database]:
    """A migrated database with the districts seeded, for service-level tests: SQLite, or
    PostgreSQL where a test parametrizes ``backend`` with ``postgres``."""
    url = backend or f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
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
