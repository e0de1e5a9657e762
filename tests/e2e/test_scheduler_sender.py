"""The outbox and its sender against the Bot API stand-in (a plain ``telegram.Bot``, no app).

429 with ``retry_after`` is honoured (the row waits, nothing is lost, nothing doubled), 5xx is
retried, 403 marks the member unreachable, Telegram's limits hold with ``enforce_limits``, and
the unique key keeps a message single however often it is enqueued.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from telegram import Bot

from channels.telegram.messenger import TelegramMessenger
from core.enums import Channel
from scheduler import outbox
from scheduler.clock import ManualClock
from scheduler.outbox import OutRow
from scheduler.rows import Timing
from scheduler.sender import Sender
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Member, OutboxMessage
from tests.accounts import telegram_member, tg
from tests.harness import drop_postgres_database, postgres_database
from tests.standin import DEFAULT_TOKEN, StandIn

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(params=["sqlite", "postgres"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated, empty database: SQLite, and PostgreSQL when the test cluster is there."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'kexie.db'}"
        await asyncio.to_thread(upgrade, url)
        yield url
        return
    made = await postgres_database()
    if made is None:
        pytest.skip("PostgreSQL not available (KEXIE_TEST_POSTGRES_URL unset)")
    url, name = made
    await asyncio.to_thread(upgrade, url)
    yield url
    await drop_postgres_database(name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    """The database of :func:`db_url`, opened."""
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    """A plain Bot pointed at the stand-in (no rate limiter: the sender is the only guard)."""
    async with Bot(DEFAULT_TOKEN, base_url=standin.base_url) as the_bot:
        yield the_bot


async def add_member(db: Database, telegram_id: int) -> int:
    async with db.session() as session:
        member = telegram_member(telegram_id, first_name=f"u{telegram_id}")
        session.add(member)
        await session.flush()
        return member.id


def message(key: str, chat_id: int, member_id: int | None, text: str = "提醒") -> OutRow:
    return OutRow(key=key, to=tg(chat_id), kind="test", payload={"text": text}, member_id=member_id)


async def enqueue(db: Database, rows: list[OutRow]) -> int:
    async with db.session() as session:
        return await outbox.enqueue(session, rows, datetime.now(UTC))


async def statuses(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = await session.execute(select(OutboxMessage.key, OutboxMessage.status))
        return {key: status for key, status in rows.all()}


async def test_enqueue_is_insert_or_ignore(db: Database) -> None:
    """The same key enqueued again (a second tick, another process) stays one row."""
    member = await add_member(db, 501)
    assert await enqueue(db, [message("a", 501, member), message("b", 501, member)]) == 2
    assert await enqueue(db, [message("a", 501, member, "again"), message("c", 501, member)]) == 1
    results = await asyncio.gather(*(enqueue(db, [message("d", 501, member)]) for _ in range(5)))
    assert sorted(results) == [0, 0, 0, 0, 1]
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 4
        first = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == "a"))
        assert first is not None and first.payload["text"] == "提醒"


async def test_429_retry_after_is_honoured(db: Database, bot: Bot, standin: StandIn) -> None:
    """The row waits ``retry_after`` and is then sent once; the attempt is not held against it."""
    user = standin.user(601)
    member = await add_member(db, 601)
    await enqueue(db, [message("r", 601, member, "限流之后")])
    standin.fail_next("sendMessage", status=429, retry_after=2)
    sender = Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)})
    started = time.monotonic()
    stats = await sender.drain(wait_retries=10)
    assert stats.retried_429 == 1 and stats.sent == 1
    calls = standin.calls_of("sendMessage")
    assert len(calls) == 2
    assert calls[1].time - calls[0].time >= 2.0
    assert time.monotonic() - started >= 2.0
    assert [m.text for m in user.messages] == ["限流之后"]
    async with db.session() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.key == "r"))
        assert row is not None
        assert row.status == outbox.SENT and row.attempts == 1
        assert row.message_ref == str(user.messages[0].message_id)
        assert row.sent_at is not None


async def test_server_errors_are_retried_with_backoff(
    db: Database, bot: Bot, standin: StandIn
) -> None:
    """502 then 500: two retries with growing pauses, then delivered."""
    user = standin.user(602)
    member = await add_member(db, 602)
    await enqueue(db, [message("s", 602, member, "终于送达")])
    standin.fail_next("sendMessage", status=502, times=2)
    stats = await Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)}).drain(wait_retries=10)
    assert stats.retried_other == 2 and stats.sent == 1
    times = [c.time for c in standin.calls_of("sendMessage")]
    assert len(times) == 3
    assert times[2] - times[1] > times[1] - times[0] > 1.0
    assert [m.text for m in user.messages] == ["终于送达"]


async def test_403_marks_the_member_unreachable(db: Database, bot: Bot, standin: StandIn) -> None:
    """A blocked bot gets one 403; the member is marked and their other rows are not tried."""
    standin.user(603)
    other = standin.user(604)
    blocked = await add_member(db, 603)
    fine = await add_member(db, 604)
    await enqueue(
        db,
        [
            message("x1", 603, blocked),
            message("x2", 603, blocked),
            message("y1", 604, fine, "你好"),
        ],
    )
    standin.block(603)
    stats = await Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)}).drain(wait_retries=3)
    assert stats.blocked == 1 and stats.skipped == 1 and stats.sent == 1
    assert len(standin.blocked_hits) == 1
    assert await statuses(db) == {"x1": outbox.BLOCKED, "x2": outbox.SKIPPED, "y1": outbox.SENT}
    async with db.session() as session:
        assert (await session.get(Member, blocked)).unreachable is True  # type: ignore[union-attr]
        assert (await session.get(Member, fine)).unreachable is False  # type: ignore[union-attr]
    assert [m.text for m in other.messages] == ["你好"]


async def test_limits_hold_with_enforcement_on(db: Database, bot: Bot, standin: StandIn) -> None:
    """120 messages to 40 chats: no 429 from the stand-in enforcing 30/s and 1/s per chat."""
    standin.enforce_limits = True
    rows = []
    for chat in range(700, 740):
        standin.user(chat)
        member = await add_member(db, chat)
        rows += [message(f"m{chat}-{i}", chat, member, f"第{i}条") for i in range(3)]
    await enqueue(db, rows)
    stats = await Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)}).drain(wait_retries=5)
    assert stats.sent == 120
    assert standin.rate_limited == 0 and stats.retried_429 == 0
    for chat in range(700, 740):
        assert [m.text for m in standin.users[chat].messages] == ["第0条", "第1条", "第2条"]
        times = [c.time for c in standin.calls_of("sendMessage") if c.params["chat_id"] == chat]
        assert all(b - a >= 0.99 for a, b in itertools.pairwise(times))


async def test_two_senders_send_each_row_once(db_url: str, bot: Bot, standin: StandIn) -> None:
    """Two processes (two engines) drain one outbox at the same time."""
    first, second = Database(db_url), Database(db_url)
    try:
        rows = []
        for chat in range(800, 830):
            standin.user(chat)
            member = await add_member(first, chat)
            rows.append(message(f"k{chat}", chat, member, "一次"))
        await enqueue(first, rows)
        await asyncio.gather(
            Sender(first, {Channel.TELEGRAM: TelegramMessenger(bot)}).drain(),
            Sender(second, {Channel.TELEGRAM: TelegramMessenger(bot)}).drain(),
        )
        assert len(standin.calls_of("sendMessage")) == 30
        assert set((await statuses(first)).values()) == {outbox.SENT}
    finally:
        await first.dispose()
        await second.dispose()


async def test_stale_rows_expire_and_quiet_hours_hold(
    db: Database, bot: Bot, standin: StandIn
) -> None:
    """A row whose moment passed is dropped; at night a row waits for the morning."""
    standin.user(901)
    member = await add_member(db, 901)
    night = datetime(2026, 11, 20, 23, 0, tzinfo=Timing(tz=TZ).tz)
    clock = ManualClock(night)
    stale = OutRow(
        "old",
        tg(901),
        "test",
        {"text": "过时", "expires_at": (night - timedelta(hours=1)).isoformat()},
        member,
    )
    held = OutRow("held", tg(901), "test", {"text": "早上好"}, member)
    async with db.session() as session:
        await outbox.enqueue(session, [stale, held], night)
    sender = Sender(
        db, {Channel.TELEGRAM: TelegramMessenger(bot)}, clock=clock, timing=Timing(tz=TZ)
    )
    stats = await sender.drain()
    assert stats.expired == 1 and stats.held_quiet == 1 and stats.sent == 0
    assert standin.calls_of("sendMessage") == []
    clock.set(night + timedelta(hours=9))  # 08:00 the next morning
    stats = await sender.drain()
    assert stats.sent == 1
    assert [m.text for m in standin.users[901].messages] == ["早上好"]


async def test_a_sender_killed_mid_send_leaves_the_row_to_the_next(
    db: Database, bot: Bot, standin: StandIn
) -> None:
    """A claimed row whose sender died is taken over once the lease ran out, not before."""
    user = standin.user(950)
    member = await add_member(db, 950)
    now = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
    async with db.session() as session:
        await outbox.enqueue(session, [message("lease", 950, member, "接手")], now)
    async with db.session() as session:
        (row,) = await outbox.due_rows(session, now, 10)
        assert await outbox.claim(session, row, now)  # …and then the process was killed
    clock = ManualClock(now + timedelta(minutes=1))
    sender = Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)}, clock=clock)
    assert (await sender.drain()).sent == 0
    clock.set(now + outbox.LEASE + timedelta(seconds=1))
    assert (await sender.drain()).sent == 1
    assert [m.text for m in user.messages] == ["接手"]


async def test_one_busy_chat_does_not_hold_up_the_others(
    db: Database, bot: Bot, standin: StandIn
) -> None:
    """Five cards for one admin queued first, then one message each for ten others."""
    busy = await add_member(db, 960)
    standin.user(960)
    rows = [message(f"busy{i}", 960, busy, f"卡片{i}") for i in range(5)]
    for chat in range(961, 971):
        standin.user(chat)
        rows.append(message(f"one{chat}", chat, await add_member(db, chat)))
    await enqueue(db, rows)
    # A chat's next message waits 2.5 s, not the default 1 s: at 25 messages a second the ten
    # others need 0.4 s at least, and on a loaded machine (tests in parallel workers) they took
    # longer than 1 s, so the second card overtook one of them. The ordering is what is tested.
    sender = Sender(db, {Channel.TELEGRAM: TelegramMessenger(bot)}, per_chat_interval=2.5)
    await sender.drain(wait_retries=3)
    order = [c.params["chat_id"] for c in standin.calls_of("sendMessage")]
    assert len(order) == 15
    # The ten others are all served before the busy chat's second card (2.5 s later).
    second_card = order.index(960, order.index(960) + 1)
    assert max(order.index(chat) for chat in range(961, 971)) < second_card
