"""The SQLite session helper's trips to aiosqlite's connection thread, and its writer lock.

Each trip waits for a turn of the busy event loop, and a writer holding the in-process lock makes
every other writer wait (issue 10): a session makes one trip per statement and one for its commit,
none for a commit or rollback with nothing open, and lets the next writer in once committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    async with database.session() as session:
        await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await session.execute(text("INSERT INTO t VALUES (1, 'a')"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to a connection's thread from now on."""
    seen: list[str] = []
    original = aiosqlite.Connection._execute

    async def recording(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", recording)
    return seen


async def test_a_session_that_only_reads_makes_one_trip(db: Database, trips: list[str]) -> None:
    async with db.session() as session:
        assert await session.scalar(text("SELECT v FROM t WHERE id = 1")) == "a"
    assert trips == ["_run"]  # the statement; no commit, no reset


async def test_a_write_costs_its_statements_and_one_commit(db: Database, trips: list[str]) -> None:
    async with db.session() as session:
        await session.scalar(text("SELECT v FROM t WHERE id = 1"))
        await session.execute(text("UPDATE t SET v = 'b' WHERE id = 1"))
    assert trips == ["_run", "_run", "commit"]  # no rollback when the pool takes it back
    async with db.session() as session:
        assert await session.scalar(text("SELECT v FROM t WHERE id = 1")) == "b"


async def test_a_failed_write_is_rolled_back(db: Database, trips: list[str]) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await session.execute(text("UPDATE t SET v = 'lost' WHERE id = 1"))
            raise RuntimeError("the handler failed")
    assert trips.count("rollback") == 1
    assert "commit" not in trips
    async with db.session() as session:
        assert await session.scalar(text("SELECT v FROM t WHERE id = 1")) == "a"


async def test_the_writer_lock_is_free_once_committed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    held_at_close: list[bool] = []
    close = AsyncSession.close

    async def recording_close(self: AsyncSession) -> None:
        held_at_close.append(db._writer_lock().locked())
        await close(self)

    monkeypatch.setattr(AsyncSession, "close", recording_close)
    async with db.session() as session:
        await session.execute(text("UPDATE t SET v = 'c' WHERE id = 1"))
        assert db._writer_lock().locked()  # taken at the first write
    assert held_at_close == [False]  # the next writer did not wait for the close
    assert not db._writer_lock().locked()
