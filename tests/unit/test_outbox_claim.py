"""Exactly once with several senders: every write to an outbox row is conditional on ownership.

Two senders (two processes, or two instances on one PostgreSQL database) read the same due row.
Whatever the one that did not claim it does with its stale copy (hold it for quiet hours, wait
for the card it follows, drop it as expired or skipped) must not touch the row once the other has
claimed it, let alone put it back in the queue after it was sent; a sender whose lease ran out
writes nothing any more; and a row handed back (a 429's refund) is not taken before it is due
again. Each test runs on SQLite and, when ``KEXIE_TEST_POSTGRES_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.address import Address
from core.enums import Channel
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.messenger import Album, Outgoing
from scheduler.outbox import Claimable, OutRow
from scheduler.sender import Sender
from storage import outbox as stored_outbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests.accounts import tg

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)

T0 = datetime(2026, 11, 21, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def database(backend: str | None, db: Database) -> AsyncIterator[Database]:
    """The ``db`` fixture's migrated SQLite database, or a fresh migrated PostgreSQL one."""
    if backend is None:
        yield db
        return
    await asyncio.to_thread(upgrade, backend)  # Alembic runs its own event loop
    pg = Database(backend)
    yield pg
    await pg.dispose()


async def _enqueue(db: Database, *rows: OutRow, now: datetime = T0) -> None:
    async with db.session() as session:
        await outbox.enqueue(session, list(rows), now)


async def _read(db: Database, now: datetime = T0) -> Claimable:
    """What a sender's query sees: the one due row."""
    async with db.session() as session:
        (row,) = await outbox.due_rows(session, now, 10)
    return row


async def _state(db: Database, key: str) -> tuple[str, int, datetime]:
    async with db.session() as session:
        found = (
            await session.execute(
                select(
                    OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.next_attempt_at
                ).where(OutboxMessage.key == key)
            )
        ).one()
    return found.status, found.attempts, found.next_attempt_at


async def _claim(db: Database, row: Claimable, now: datetime = T0) -> bool:
    async with db.session() as session:
        return await outbox.claim(session, row, now)


# ---------------------------------------------------------------------------------------------
# the outbox's writes


async def test_a_stale_reader_leaves_a_row_another_sender_claimed_alone(database: Database) -> None:
    """B read the row before A claimed it; B's hold and drop (before any claim of its own)
    change nothing, neither while A sends it nor after A has sent it."""
    await _enqueue(database, OutRow("card", tg(7), "test", {"text": "card"}))
    seen_by_a = await _read(database)
    seen_by_b = await _read(database)
    assert await _claim(database, seen_by_a)
    claimed = await _state(database, "card")
    assert claimed == ("sending", 1, T0 + outbox.LEASE)

    async def b_writes(session: AsyncSession) -> list[bool]:
        return [
            await outbox.postpone(
                session, seen_by_b, T0 + timedelta(seconds=1), now=T0, claimed=False
            ),
            await outbox.finish(
                session, seen_by_b, outbox.SKIPPED, "follows a failed card", now=T0, claimed=False
            ),
            await outbox.finish(
                session, seen_by_b, outbox.EXPIRED, "moment passed", now=T0, claimed=False
            ),
        ]

    async with database.session() as session:
        assert await b_writes(session) == [False, False, False]
    assert await _state(database, "card") == claimed  # A still owns it
    async with database.session() as session:
        assert await outbox.mark_sent(session, seen_by_a, T0, "1001")
    async with database.session() as session:
        assert await b_writes(session) == [False, False, False]
    assert (await _state(database, "card"))[0] == "sent"  # not back in the queue
    assert not await _claim(database, seen_by_b, T0 + timedelta(seconds=2))


async def test_a_pre_claim_write_needs_the_row_as_it_was_read(database: Database) -> None:
    """Before its claim a sender may hold or drop a row it read, but only that row as it read
    it: not once it was held further (it is no longer due) and not after a claim and refund."""
    await _enqueue(database, OutRow("card", tg(7), "test", {"text": "card"}))
    seen_by_a = await _read(database)
    seen_by_b = await _read(database)
    async with database.session() as session:  # A: quiet hours, held until 08:00
        held = T0 + timedelta(hours=12)
        assert await outbox.postpone(session, seen_by_a, held, now=T0, claimed=False)
    assert await _state(database, "card") == ("pending", 0, held)
    async with database.session() as session:  # B's copy says "due": it is not any more
        assert not await outbox.postpone(
            session, seen_by_b, T0 + timedelta(seconds=1), now=T0, claimed=False
        )
        assert not await outbox.finish(
            session, seen_by_b, outbox.EXPIRED, "moment passed", now=T0, claimed=False
        )
    assert await _state(database, "card") == ("pending", 0, held)
    # Due again at 08:00: read afresh, it may be held or dropped as usual.
    fresh = await _read(database, held)
    async with database.session() as session:
        assert await outbox.finish(
            session, fresh, outbox.EXPIRED, "moment passed", now=held, claimed=False
        )
    assert (await _state(database, "card"))[0] == "expired"


async def test_a_sender_that_lost_its_lease_writes_nothing(database: Database) -> None:
    """A's lease ran out and B took the row over: A's outcome, whatever it is, is not recorded."""
    await _enqueue(database, OutRow("card", tg(7), "test", {"text": "card"}))
    seen_by_a = await _read(database)
    assert await _claim(database, seen_by_a)
    later = T0 + outbox.LEASE + timedelta(seconds=1)
    seen_by_b = await _read(database, later)
    assert (seen_by_b.attempts, seen_by_a.attempts) == (1, 0)
    assert await _claim(database, seen_by_b, later)
    taken_over = await _state(database, "card")
    assert taken_over == ("sending", 2, later + outbox.LEASE)
    async with database.session() as session:
        assert not await outbox.mark_sent(session, seen_by_a, later, "1001")
        assert not await outbox.postpone(
            session, seen_by_a, later + timedelta(seconds=3), "429", claimed=True, refund=True
        )
        assert not await outbox.postpone(
            session, seen_by_a, later + timedelta(seconds=3), "timeout", claimed=True
        )
        assert not await outbox.finish(session, seen_by_a, outbox.BLOCKED, "403", claimed=True)
    assert await _state(database, "card") == taken_over
    async with database.session() as session:
        assert await outbox.mark_sent(session, seen_by_b, later, "1002")
    assert (await _state(database, "card"))[0] == "sent"


async def test_a_refunded_row_is_not_claimed_before_it_is_due(database: Database) -> None:
    """A got a 429 and handed the row back without counting the attempt: ``attempts`` is what
    B read before A's claim, yet B's stale copy can neither take nor change the row until the
    retry is due; then it is an ordinary due row again."""
    await _enqueue(database, OutRow("card", tg(7), "test", {"text": "card"}))
    seen_by_a = await _read(database)
    seen_by_b = await _read(database)
    assert await _claim(database, seen_by_a)
    retry = T0 + timedelta(seconds=30)
    async with database.session() as session:
        assert await outbox.postpone(
            session, seen_by_a, retry, "429 retry after 30s", claimed=True, refund=True
        )
    assert await _state(database, "card") == ("pending", 0, retry)  # the attempt is refunded
    # The refund hands the row back: A cannot record anything on it any more.
    async with database.session() as session:
        assert not await outbox.mark_sent(session, seen_by_a, T0, "1001")
    assert not await _claim(database, seen_by_b, T0)
    async with database.session() as session:
        assert not await outbox.postpone(
            session, seen_by_b, T0 + timedelta(seconds=1), now=T0, claimed=False
        )
    assert await _state(database, "card") == ("pending", 0, retry)
    assert await _claim(database, await _read(database, retry), retry)


async def test_a_claim_needs_the_row_to_be_due(database: Database) -> None:
    """The compare-and-swap alone is not enough: a row put back with the ``attempts`` a stale
    copy has (a refund) but due later is not taken early."""
    await _enqueue(database, OutRow("card", tg(7), "test", {"text": "card"}))
    stale = await _read(database)
    async with database.session() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == "card")
            .values(status="pending", attempts=0, next_attempt_at=T0 + timedelta(seconds=30))
        )
    assert not await _claim(database, stale, T0)
    assert await _state(database, "card") == ("pending", 0, T0 + timedelta(seconds=30))
    assert await _claim(database, stale, T0 + timedelta(seconds=30))


# ---------------------------------------------------------------------------------------------
# two senders on one database


class Recorder:
    """A messenger that records every message it sends (its text is the row's key)."""

    def __init__(self, sent: list[str]) -> None:
        self.sent = sent

    async def send_message(self, address: Address, message: Outgoing) -> str | None:
        await asyncio.sleep(random.uniform(0, 0.003))  # let the other sender run meanwhile
        self.sent.append(message.text)
        return str(len(self.sent))

    async def send_album(self, address: Address, album: Album) -> str | None:
        raise AssertionError("no albums here")


async def test_a_stale_after_check_does_not_send_a_follower_twice(database: Database) -> None:
    """Issue 18: sender B looked at the album while its card was not sent yet and decided to
    hold it a second; meanwhile sender A sent the card and the album. B's late hold must not
    put the album back in the queue (it was sent again two seconds later)."""
    await _enqueue(
        database,
        OutRow("card", tg(7), "test", {"text": "card"}, not_before=T0 + timedelta(seconds=1)),
        OutRow("album", tg(8), "test", {"text": "album", "after": "card"}),
    )
    clock = ManualClock(T0)
    sent: list[str] = []
    sender_a = Sender(
        database, {Channel.TELEGRAM: Recorder(sent)}, clock=clock, rate=None, per_chat_interval=0.0
    )
    b_db = Database(database.url)  # the other process: its own engine and connections
    sender_b = Sender(
        b_db, {Channel.TELEGRAM: Recorder(sent)}, clock=clock, rate=None, per_chat_interval=0.0
    )

    # B reads the card's status (not sent: not even due yet), then stalls before acting on it.
    b_looked = asyncio.Event()
    b_may_go = asyncio.Event()
    real_status_of = stored_outbox.status_of

    async def status_of(session: AsyncSession, key: str) -> str | None:
        status = await real_status_of(session, key)
        if session.get_bind() is b_db.engine.sync_engine:
            b_looked.set()
            await b_may_go.wait()
        return status

    mp = pytest.MonkeyPatch()
    mp.setattr(stored_outbox, "status_of", status_of)
    try:
        b_run = asyncio.create_task(sender_b.drain())
        await asyncio.wait_for(b_looked.wait(), 10)
        assert (await _state(database, "album"))[0] == "pending"
        # Meanwhile A sends the card, then the album.
        clock.advance(timedelta(seconds=2))
        for _ in range(3):
            await sender_a.drain()
            clock.advance(timedelta(seconds=2))
        assert sent == ["card", "album"]
        b_may_go.set()  # B now acts on what it saw: "card not sent yet, hold the album 1 s"
        await asyncio.wait_for(b_run, 10)
        assert sent == ["card", "album"]
    finally:
        mp.undo()
        b_may_go.set()
        await b_db.dispose()
    assert (await _state(database, "album"))[0] == "sent"
    clock.advance(timedelta(seconds=2))
    assert (await sender_a.drain()).sent == 0
    assert sent == ["card", "album"]


async def test_two_senders_draining_one_database_send_each_row_once(database: Database) -> None:
    """Cards and the albums that follow them, for many chats, drained by two senders at once
    second after second until nothing is left: each row is sent exactly once, card first."""
    chats = range(101, 131)
    rows = []
    for chat in chats:
        rows.append(OutRow(f"card-{chat}", tg(chat), "test", {"text": f"card-{chat}"}))
        after = {"text": f"album-{chat}", "after": f"card-{chat}"}
        rows.append(OutRow(f"album-{chat}", tg(chat + 1000), "test", after))
    await _enqueue(database, *rows)
    clock = ManualClock(T0)
    sent: list[str] = []
    b_db = Database(database.url)
    senders = [
        Sender(
            db,
            {Channel.TELEGRAM: Recorder(sent)},
            clock=clock,
            rate=None,
            per_chat_interval=0.0,
            concurrency=4,
        )
        for db in (database, b_db)
    ]
    try:
        for _ in range(20):
            await asyncio.gather(*(s.drain() for s in senders))
            async with database.session() as session:
                if await outbox.next_pending_at(session) is None:
                    break
            clock.advance(timedelta(seconds=2))
    finally:
        await b_db.dispose()
    assert sorted(sent) == sorted(r.key for r in rows)
    assert len(set(sent)) == len(sent)
    for chat in chats:
        assert sent.index(f"card-{chat}") < sent.index(f"album-{chat}")
    async with database.session() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {"sent"}
