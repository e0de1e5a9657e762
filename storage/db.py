"""Engine and session factory; the one helper that opens and commits a session per unit of work.

An SQLite database is a file: deleted or replaced while the bot runs, the open connections keep
writing into the old, unlinked file and everything is lost at exit. :meth:`Database.check_file`
notices (the file is gone, or is another inode); from then on nothing is committed, and the
owner of the process (``kexie run``) stops it so a supervisor starts it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)


class DatabaseLost(RuntimeError):
    """The SQLite file was deleted or replaced under the running process: nothing may be
    committed (it would be lost, yet acknowledged to the user)."""


class Database:
    """Owns the async engine and hands out one committed session per unit of work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        # The SQLite file, its identity (device, inode) once it exists, and what happened to it.
        self.path: Path | None = None
        self._identity: tuple[int, int] | None = None
        self.lost: str | None = None
        self.on_lost: Callable[[str], None] | None = None
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                self.path = Path(parsed.database).resolve()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._identity = _identity(self.path)
            # A second process or instance may write concurrently: wait instead of failing.
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session, commit it when the block succeeds, roll back when it raises."""
        async with self.sessionmaker() as session:
            try:
                yield session
                if self.check_file() is not None:
                    raise DatabaseLost(f"the database file was {self.lost}; not committing")
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    def check_file(self) -> str | None:
        """None while the SQLite file is the one this process opened; else what happened to it
        (``deleted`` or ``replaced``), logged once, reported to :attr:`on_lost`, and kept."""
        if self.lost is not None or self.path is None:
            return self.lost
        now = _identity(self.path)
        if self._identity is None:
            self._identity = now  # created since (the first connection makes the file)
            return None
        if now == self._identity:
            return None
        self.lost = "deleted" if now is None else "replaced"
        log.critical(
            "the database file %s was %s while kexie was running: nothing more is saved; "
            "stopping (restore the file from a backup before starting again)",
            self.path,
            self.lost,
        )
        if self.on_lost is not None:
            self.on_lost(self.lost)
        return self.lost

    async def watch_file(self, stop: asyncio.Event, interval: float) -> None:
        """Check the SQLite file every ``interval`` seconds until ``stop`` is set or it is lost
        (between checks, every commit checks it too)."""
        if self.path is None:
            return
        while not stop.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            if self.check_file() is not None:
                return

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
