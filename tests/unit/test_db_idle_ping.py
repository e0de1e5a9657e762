"""PostgreSQL connections are pinged when the pool hands them out only after they were idle
(storage/db.py, PING_AFTER_IDLE; issue 23: a ping per update was a tenth of the bot's CPU). A
connection dropped while idle is replaced unseen; one dropped while the pool is busy fails one
session, after which every older connection is replaced."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from storage import db as db_module
from storage.db import TRANSIENT_DB_ERRORS, Database

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def _drop_connections(db: Database) -> int:
    """Terminate every server connection to this test's database but the one asking."""
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    other = Database(db.url)
    try:
        async with other.session() as session:
            killed = await session.scalar(text(f"SELECT count(pg_terminate_backend(pid)) {others}"))
        # Terminating only signals them: wait until they are gone, so that the next statement
        # on their connections surely fails (a loaded machine is slow to exit). A transaction
        # sees one snapshot of pg_stat_activity, hence a session per look.
        for _ in range(100):
            async with other.session() as session:
                if not await session.scalar(text(f"SELECT count(*) {others}")):
                    break
            await asyncio.sleep(0.05)
    finally:
        await other.dispose()
    return int(killed or 0)


async def _backend_pid(db: Database) -> int:
    async with db.session() as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        assert isinstance(pid, int)
        return pid


async def test_a_connection_dropped_while_idle_is_replaced_unseen(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await _backend_pid(db)
    assert await _drop_connections(db) >= 1
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.0)  # as if idle for long
    after = await _backend_pid(db)  # no error: the ping found it dead, the pool opened another
    assert after != before


async def test_a_connection_dropped_while_busy_fails_once_then_the_pool_recovers(
    db: Database,
) -> None:
    before = await _backend_pid(db)
    assert await _drop_connections(db) >= 1
    # Used a moment ago: not pinged, so this session meets the dropped connection (asyncpg
    # reports it as closed, or, if it read the server's farewell first, as another operation
    # in progress: both are transient).
    with pytest.raises(TRANSIENT_DB_ERRORS):
        await _backend_pid(db)
    assert await _backend_pid(db) != before  # SQLAlchemy replaced the dead connection


async def test_a_connection_caught_between_farewell_and_close_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race behind a flaky CI run: asyncpg has read the terminated server's error but not
    # yet the socket's close, so the connection is not closed and the next statement fails
    # with InternalClientError. Made certain here by failing that connection's next BEGIN.
    async with db.session() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        broken = raw.driver_connection
        before = await session.scalar(text("SELECT pg_backend_pid()"))
    execute = asyncpg.Connection.execute

    async def fail_its_begin(
        self: asyncpg.Connection, query: str, *args: object, **kw: object
    ) -> str:
        if self is broken and query.startswith("BEGIN"):
            raise asyncpg.exceptions.InternalClientError(
                "cannot switch to state 15; another operation (2) is in progress"
            )
        return await execute(self, query, *args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "execute", fail_its_begin)
    with pytest.raises(TRANSIENT_DB_ERRORS):
        await _backend_pid(db)
    assert await _backend_pid(db) != before  # that connection was not handed out again
