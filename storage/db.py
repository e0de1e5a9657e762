"""Engine and session factory; the one helper that opens and commits a session per unit of work.

SQLite lets one transaction write at a time; a second writer waits in SQLite's busy loop and
gives up with "database is locked" after the busy timeout. Handlers run concurrently (one per
chat, see ``bot/polling.py``), so on SQLite a session takes an in-process writer lock just
before its first write statement and keeps it until it has committed or rolled back: writers
queue up in order instead of polling the file lock, reads never wait, and transactions stay
short (the lock is held only from the first write on). PostgreSQL needs none of this.

Each trip to aiosqlite's connection thread waits for the event loop, which is busy with every
other handler: aiosqlite takes four per query (open a cursor, execute, fetch, close), and a writer
holds the lock through all of them. :class:`_OneTripConnection` makes it one per statement.

A session lets the next writer in as soon as it has committed, not when it has closed; and a
commit or rollback with no transaction open (the pool's reset after every commit, the commit of a
session that only read) makes no trip at all.

An SQLite database is a file: deleted or replaced while the bot runs, the open connections keep
writing into the old, unlinked file and everything is lost at exit. :meth:`Database.check_file`
notices (the file is gone, or is another inode); from then on nothing is committed, and the
owner of the process (``kexie run``) stops it so a supervisor starts it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext, make_url

# AsyncSession and AsyncConnection (the reminder snapshot's reads run on one) are named here
# (``as``) also for the layers above storage that only pass a session through: outside storage/
# and services/ no module imports sqlalchemy (import-linter).
from sqlalchemy.ext.asyncio import AsyncConnection as AsyncConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.util.concurrency import await_, in_greenlet

from storage import column_writes

log = logging.getLogger(__name__)


class DatabaseLost(RuntimeError):
    """The SQLite file was deleted or replaced under the running process: nothing may be
    committed (it would be lost, yet acknowledged to the user)."""


# The database's own failures that trying again later may get past: unreachable or gone, a
# dropped connection, a pool timeout, the SQLite file replaced. Anything else it raises (an
# integrity error, a bad statement) would fail again. Named here so that the layers above
# storage (the webhook's answer to Telegram) need not import sqlalchemy.
TRANSIENT_DB_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    sa_exc.DisconnectionError,
    DatabaseLost,
)

SQLITE_TIMEOUT = 30.0  # seconds a connection waits for another process's write lock
# PostgreSQL connections the pool keeps open: KEXIE_CONCURRENCY's default of 32 handlers, each
# holding a session, beside the scheduler, the sender, exports and the console. A smaller pool
# does not make them wait, but every connection past it is opened for one session and closed
# after it (SQLAlchemy's overflow): a TCP connection, its start-up and its type set-up. With a
# pool of 10 that cost a fifth of the bot's CPU per update (benchmarks/processes.py, issue 23).
POOL_SIZE = 40
# Beyond the pool, for a burst (an export, the console): the total stays at 50 per process.
POOL_OVERFLOW = 10
# A PostgreSQL connection idle for longer than this is pinged when the pool hands it out: PostgreSQL
# restarted, or a firewall or an idle timeout dropped it, while nobody used it. A ping on every
# hand-out (SQLAlchemy's pool_pre_ping) is one more round trip per update, about a tenth of the
# bot's CPU on PostgreSQL (benchmarks/processes.py, issue 23); a busy pool instead learns of a
# restart from its first failed statement, after which SQLAlchemy replaces every connection
# opened before it.
PING_AFTER_IDLE = 5.0  # seconds
# Statements that never write (everything else takes the SQLite writer lock first).
_READS = ("SELECT", "PRAGMA", "EXPLAI")


@dataclass
class _Turn:
    """One :meth:`Database.session` block: its database, its task, whether it holds the lock."""

    db: Database
    task: asyncio.Task[Any] | None
    holds: bool = False


# The session block the current task is in; the ORM runs statements in greenlets that share it.
_current: ContextVar[_Turn | None] = ContextVar("kexie_db_turn", default=None)


class _Session(Session):
    """The sessions :class:`Database` hands out: they run staged column writes
    (:mod:`storage.column_writes`) before their queries, flushes and commits."""


column_writes.install(_Session)


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
            if self.path is not None and not parsed.query:
                # A second process or instance may write concurrently: wait instead of failing.
                kwargs["async_creator"] = partial(_connect_sqlite, str(self.path), SQLITE_TIMEOUT)
            else:
                kwargs["connect_args"] = {"timeout": SQLITE_TIMEOUT}
        else:
            # Up to KEXIE_CONCURRENCY (32) handlers hold a session at once, beside the scheduler
            # and exports; SQLAlchemy's default of 15 connections would make them queue, and
            # a wait past pool_timeout (30 s) fail; the pool holds them all (see POOL_SIZE).
            kwargs["pool_size"] = POOL_SIZE
            kwargs["max_overflow"] = POOL_OVERFLOW
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "before_cursor_execute", self._before_write)
        else:
            event.listen(self.engine.sync_engine, "checkin", _note_idle)
            event.listen(self.engine.sync_engine, "checkout", partial(_ping_if_idle, self.engine))
            event.listen(self.engine.sync_engine, "handle_error", _dropped_mid_turn)
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_Session
        )
        # The SQLite writer lock, made in the event loop that first needs it.
        self._writer: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._writer_task: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """Open a session, commit it when the block succeeds, roll back when it raises."""
        turn = _Turn(self, asyncio.current_task())
        token = _current.set(turn)
        try:
            async with self.sessionmaker() as session:
                try:
                    yield session
                    if self.check_file() is not None:
                        raise DatabaseLost(f"the database file was {self.lost}; not committing")
                    staged = column_writes.take_staged(session.sync_session)
                    if staged:
                        await session.run_sync(self._commit_staged, staged)
                    await session.commit()
                    # Committed: the next writer may start while this session closes.
                    self._release(turn)
                except BaseException:
                    await session.rollback()
                    raise
        finally:
            _current.reset(token)
            self._release(turn)

    def _commit_staged(self, session: Session, staged: list[column_writes.Write]) -> None:
        """Run the staged column writes for the commit that follows: on SQLite they wait in the
        connection and go to its thread with the COMMIT, one trip for all (see
        :class:`_OneTripConnection`), on PostgreSQL as one statement; the writer lock is taken
        as for any write."""
        connection = session.connection()
        deferring = connection.connection.driver_connection if self.is_sqlite else None
        if isinstance(deferring, _OneTripConnection):
            deferring.deferring = True
        try:
            for statement, parameters in column_writes.statements(
                staged, together=not self.is_sqlite
            ):
                connection.execute(statement, parameters)
        finally:
            if isinstance(deferring, _OneTripConnection):
                deferring.deferring = False

    def _release(self, turn: _Turn) -> None:
        """Let the next writer in, if this session block holds the SQLite writer lock."""
        if turn.holds:
            turn.holds = False
            self._writer_task = None
            self._writer_lock().release()

    def _writer_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer[0] is not loop:
            self._writer = (loop, asyncio.Lock())
        return self._writer[1]

    def _before_write(
        self, _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
    ) -> None:
        """Before a session's first write on SQLite, wait for the writer lock (see above)."""
        turn = _current.get()
        if turn is None or turn.db is not self or turn.holds:
            return
        if statement.lstrip()[:6].upper() in _READS or not in_greenlet():
            return
        if turn.task is not None and self._writer_task is turn.task:
            # A session opened inside another of the same task that already writes: waiting
            # for the outer one would never end, so this one meets SQLite's own busy timeout.
            return
        # The ORM runs this hook inside SQLAlchemy's greenlet, which may await the event loop.
        await_(self._writer_lock().acquire())
        turn.holds = True
        self._writer_task = turn.task

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

    async def ping(self) -> None:
        """Run ``SELECT 1`` on a connection of its own, outside any session (no writer lock, no
        commit): raises when the database does not answer. The readiness probe (``/healthz``)."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


class _OneTripCursor:
    """A cursor whose statement runs, is fetched and is closed in one trip to the connection's
    thread; the rows wait here for SQLAlchemy to fetch them."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> _OneTripCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._rows.clear()

    def _run(self, many: bool, sql: str, parameters: Any) -> tuple[Any, int, int | None, list[Any]]:
        cursor = self._connection._conn.cursor()  # in the connection's thread
        try:
            if many:
                cursor.executemany(sql, parameters)
            else:
                cursor.execute(sql, parameters)
            rows = cursor.fetchall() if cursor.description else []
            return cursor.description, cursor.rowcount, cursor.lastrowid, rows
        finally:
            cursor.close()

    async def _trip(self, many: bool, sql: str, parameters: Any) -> _OneTripCursor:
        result = await self._connection._execute(self._run, many, sql, parameters)
        self.description, self.rowcount, self.lastrowid, rows = result
        self._rows = deque(rows)
        return self

    async def execute(self, sql: str, parameters: Any = None) -> _OneTripCursor:
        """Run one statement and keep its rows (or, while the connection defers, keep the
        statement for its commit: a staged column write returns nothing)."""
        if isinstance(self._connection, _OneTripConnection) and self._connection.deferring:
            self._connection.deferred.append((sql, () if parameters is None else parameters))
            self.description, self.rowcount, self.lastrowid = None, -1, None
            return self
        return await self._trip(False, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Any) -> _OneTripCursor:
        """Run one statement for each set of parameters."""
        return await self._trip(True, sql, parameters)

    async def fetchone(self) -> Any:
        """The next row, or None."""
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """The next ``size`` rows (``arraysize`` by default)."""
        count = min(len(self._rows), size or self.arraysize)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        """Every row not fetched yet."""
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        """Nothing is open in SQLite any more: forget the rows."""
        self._rows.clear()


class _OneTripConnection(aiosqlite.Connection):
    """aiosqlite's connection with :class:`_OneTripCursor` cursors, and statements deferred to
    the commit's trip (:meth:`Database._commit_staged`)."""

    # While set, a cursor's statement is kept for the commit instead of run.
    deferring = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deferred: list[tuple[str, Any]] = []

    def cursor(self) -> _OneTripCursor:  # type: ignore[override]
        """A cursor (SQLAlchemy enters it with ``__aenter__``)."""
        return _OneTripCursor(self)

    # A trip to the connection's thread waits for a turn of the busy event loop. The pool
    # resets every connection it takes back (a rollback), nearly always just after a commit,
    # and a session that only read commits nothing: with no transaction open (a plain
    # attribute, readable from any thread) neither makes the trip.

    async def commit(self) -> None:
        """Commit the open transaction, if there is one, with the deferred statements first
        (in the same trip)."""
        if self.deferred:
            deferred, self.deferred = self.deferred, []
            await self._execute(self._run_and_commit, deferred)
        elif not self._idle():
            await super().commit()

    def _run_and_commit(self, deferred: list[tuple[str, Any]]) -> None:
        connection = self._conn  # in the connection's thread
        for sql, parameters in deferred:
            connection.execute(sql, parameters).close()
        connection.commit()

    async def rollback(self) -> None:
        """Roll back the open transaction, if there is one (and forget deferred statements)."""
        self.deferred.clear()
        if not self._idle():
            await super().rollback()

    def _idle(self) -> bool:
        # A closed connection is no idle one: aiosqlite then says so as it always did.
        return self._connection is not None and not self._connection.in_transaction


async def _connect_sqlite(path: str, timeout: float) -> _OneTripConnection:
    connection = _OneTripConnection(partial(sqlite3.connect, path, timeout=timeout), 64)
    connection._thread.daemon = True  # as SQLAlchemy makes aiosqlite's: never blocks exit
    await connection  # starts its thread and connects
    return connection


_IDLE_SINCE = "kexie_idle_since"  # in a pooled connection's info: when it was given back


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(engine: AsyncEngine, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that was idle past :data:`PING_AFTER_IDLE`; a dead one is replaced
    (the pool tries another when this raises DisconnectionError)."""
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < PING_AFTER_IDLE:
        return
    try:
        alive = engine.dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise sa_exc.DisconnectionError("the connection was dropped while idle") from exc
    if not alive:
        raise sa_exc.DisconnectionError("the connection was dropped while idle")


def _dropped_mid_turn(ctx: ExceptionContext) -> BaseException | None:
    """Treat asyncpg's "another operation is in progress" as a dropped connection.

    When PostgreSQL ends a connection between two statements (a restart,
    pg_terminate_backend), asyncpg may read the server's farewell error before it sees the
    socket close: the connection is not yet closed, so SQLAlchemy does not call it a
    disconnect, and the next statement fails with InternalClientError, which is not transient.
    A connection used one statement at a time (SQLAlchemy's adapter serialises them) only
    reaches that state when it is broken, so it is invalidated and the error is an
    OperationalError (transient: the update is tried again on a fresh connection).
    """
    dbapi = ctx.dialect.loaded_dbapi
    internal_client_error = getattr(dbapi, "InternalClientError", None)
    if internal_client_error is None or not isinstance(
        ctx.original_exception, internal_client_error
    ):
        return None
    ctx.is_disconnect = True
    return sa_exc.OperationalError(
        ctx.statement, ctx.parameters, ctx.original_exception, connection_invalidated=True
    )


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
