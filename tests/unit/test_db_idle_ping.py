"""PostgreSQL connections are pinged when the pool hands them out only after they were idle
(storage/db.py, PING_AFTER_IDLE; issue 23: a ping per update was a tenth of the bot's CPU). A
connection dropped while idle is replaced unseen; one dropped while the pool is busy fails one
session, after which every older connection is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from storage import db as db_module
from storage.db import TRANSIENT_DB_ERRORS, Database

pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


async def _drop_connections(db: Database) -> int:
    """Terminate every server connection to this test's database but the one asking."""
    other = Database(db.url)
    try:
        async with other.session() as session:
            killed = await session.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
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
    await _backend_pid(db)
    assert await _drop_connections(db) >= 1
    # Used a moment ago: not pinged, so this session meets the dropped connection.
    with pytest.raises(TRANSIENT_DB_ERRORS):
        await _backend_pid(db)
    await _backend_pid(db)  # SQLAlchemy replaced the dead connection
