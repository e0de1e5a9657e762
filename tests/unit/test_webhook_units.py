"""Webhook-mode pieces without a bot: settings, metric labels, which failures are redelivered,
and the advisory locks several instances take turns with (PostgreSQL; no-ops on SQLite)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot import metrics
from bot.webhook import parse_update, worth_retrying
from core.settings import SettingsError, load_settings, parse_listen
from exports import runs
from scheduler import outbox
from scheduler.outbox import OutRow
from storage.db import Database, DatabaseLost
from storage.locks import lock_chat, lock_pair
from storage.migrate import upgrade
from storage.models import Member, utcnow
from tests.accounts import tg

# Lock waits of this test's own database: the cluster is shared with the tests running beside
# (pytest-xdist), whose waits are none of this test's business. A wait for a row lock is on the
# holder's transaction id, a lock with no database, hence the join on the waiting backend.
WAITING_HERE = (
    "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE NOT l.granted AND a.datname = current_database()"
)


def test_webhook_settings_defaults_and_refusals() -> None:
    settings = load_settings()
    assert settings.webhook_listen == "127.0.0.1:8080"
    assert settings.webhook_path == "/telegram"
    assert settings.webhook_secret is None
    assert settings.webhook_max_connections == 40
    for bad in (
        {"webhook_secret": "has space"},
        {"webhook_secret": "x" * 257},
        {"webhook_listen": "8080"},
        {"webhook_listen": "host:99999"},
        {"webhook_path": "telegram"},
        {"webhook_path": "/metrics"},
        {"webhook_url": "ftp://x"},
        {"webhook_max_connections": 101},
    ):
        with pytest.raises(SettingsError) as caught:
            load_settings(**bad)
        assert len(caught.value.problems) == 1, bad
        assert caught.value.problems[0].startswith("KEXIE_WEBHOOK_"), caught.value.problems


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8081") == ("127.0.0.1", 8081)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    with pytest.raises(ValueError):
        parse_listen(":80")


def test_api_method_never_carries_the_token() -> None:
    token = "7000001:AAHsecretsecretsecretsecretsecret"
    assert metrics.api_method(f"https://api.telegram.org/bot{token}/sendMessage") == "sendMessage"
    assert metrics.api_method(f"https://api.telegram.org/file/bot{token}/photos/a.jpg") == "file"


def test_api_calls_and_errors_are_counted_by_method_and_status() -> None:
    url = "http://127.0.0.1/bot1:x/sendPhoto"
    before = metrics.API_ERRORS.labels("sendPhoto", "429")._value.get()
    metrics.count_api_call(url, 200)
    metrics.count_api_call(url, 429)
    metrics.count_api_call(url, None)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    calls = {
        (s.labels["method"], s.labels["status"])
        for s in families["kexie_bot_api_calls"].samples
        if s.name.endswith("_total")
    }
    assert {("sendPhoto", "200"), ("sendPhoto", "429"), ("sendPhoto", "error")} <= calls
    assert metrics.API_ERRORS.labels("sendPhoto", "429")._value.get() == before + 1


def test_update_type() -> None:
    assert metrics.update_type({"update_id": 1, "callback_query": {}}) == "callback_query"
    assert metrics.update_type([1]) == "unknown"


def test_only_failures_a_retry_may_get_past_are_redelivered() -> None:
    lost = OperationalError("SELECT 1", {}, ConnectionResetError())
    assert worth_retrying(lost)
    assert worth_retrying(DatabaseLost("deleted"))
    wrapped = RuntimeError("while handling")
    wrapped.__cause__ = ConnectionRefusedError()
    assert worth_retrying(wrapped)
    assert not worth_retrying(RuntimeError("a bug"))
    assert not worth_retrying(IntegrityError("INSERT", {}, Exception("duplicate")))
    assert not worth_retrying(ValueError())


def test_parse_update_takes_only_objects_with_an_integer_update_id() -> None:
    assert parse_update(b'{"update_id": 7, "message": {}}') == (
        {"update_id": 7, "message": {}},
        "",
    )
    for body, why in (
        (b"{", "not JSON"),
        (b"\xff", "not JSON"),
        (b"[" * 100_000, "not JSON"),
        (b"[7]", "a JSON list, not an object"),
        (b'{"message": {}}', "no update_id"),
        (b'{"update_id": "7"}', "update_id is a str"),
        (b'{"update_id": true}', "update_id is a bool"),
        (b'{"update_id": 7.0}', "update_id is a float"),
        (b'{"update_id": -1}', "update_id out of range"),
        (b'{"update_id": 9223372036854775808}', "update_id out of range"),
    ):
        assert parse_update(body) == (None, why), body


async def _claim_twice(database: Database) -> list[int]:
    """Two transactions at once recording the same already-sent message (an album's
    acknowledgement, decided by two instances)."""
    row = OutRow(key="album_ack:1:g:5", to=tg(1), kind="album_ack", payload={})

    async def claim() -> int:
        async with database.session() as session:
            return await outbox.enqueue(session, [row], utcnow(), sent=True)

    return sorted(await asyncio.gather(claim(), claim()))


async def test_a_message_recorded_as_sent_is_claimed_once_and_never_sent_again(
    db: Database,
) -> None:
    assert await _claim_twice(db) == [0, 1]
    async with db.session() as session:
        assert await outbox.due_rows(session, utcnow(), 10) == []


async def test_a_message_recorded_as_sent_is_claimed_once_on_postgres(pg: Database) -> None:
    await asyncio.to_thread(upgrade, pg.url)
    assert await _claim_twice(pg) == [0, 1]
    async with pg.session() as session:
        assert await outbox.due_rows(session, utcnow(), 10) == []


async def test_locks_are_no_ops_on_sqlite(db: Database) -> None:
    async with db.session() as one, db.session() as two:
        await lock_chat(one, tg(42))
        await lock_chat(two, tg(42))  # would wait forever on PostgreSQL
        await lock_pair(one, 1, 7)


@pytest.fixture
async def pg() -> AsyncIterator[Database]:
    from tests.harness import drop_postgres_database, postgres_database

    if not os.environ.get("KEXIE_TEST_POSTGRES_URL"):
        pytest.skip("PostgreSQL not available (KEXIE_TEST_POSTGRES_URL unset)")
    made = await postgres_database()
    assert made is not None
    url, name = made
    database = Database(url)
    yield database
    await database.dispose()
    await drop_postgres_database(name)


async def test_a_chat_lock_makes_the_second_transaction_wait_for_the_first(
    pg: Database,
) -> None:
    order: list[str] = []
    first_holds = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with pg.session() as session:
            await lock_chat(session, tg(5001))
            order.append("first locked")
            first_holds.set()
            await release.wait()
            order.append("first commits")

    async def second() -> None:
        await first_holds.wait()
        async with pg.session() as session:
            await lock_chat(session, tg(5001))
            order.append("second locked")

    async def other_chat() -> None:
        await first_holds.wait()
        async with pg.session() as session:
            await lock_chat(session, tg(5002))  # another chat never waits
            order.append("other chat locked")
        release.set()

    await asyncio.gather(first(), second(), other_chat())
    assert order == ["first locked", "other chat locked", "first commits", "second locked"]


async def test_two_export_claims_of_one_member_run_once_on_postgres(pg: Database) -> None:
    """The claim's ids come from a sequence: here the smaller id commits last. Without the
    per-member lock both claimants would find no earlier running row and both would run."""
    await asyncio.to_thread(upgrade, pg.url)
    async with pg.session() as session:
        member = Member(first_name="管理员")
        session.add(member)
        await session.flush()
        member_id = member.id

    first_inserted = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> bool:
        async with pg.session() as session:
            job = await runs.open_job(session, member_id, "all:district:1")
            first_inserted.set()
            await release_first.wait()
        async with pg.session() as session:
            return await runs.confirm_job(session, job.id)

    async def second() -> bool:
        await first_inserted.wait()
        async with pg.session() as session:
            job = await runs.open_job(session, member_id, "all:district:1")
        async with pg.session() as session:
            return await runs.confirm_job(session, job.id)

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await first_inserted.wait()
    # Let the second claimant either finish (no lock) or queue behind the first (the lock).
    async with pg.engine.connect() as conn:
        while not two.done():
            waiting = await conn.scalar(text(WAITING_HERE + " AND l.locktype = 'advisory'"))
            await conn.rollback()
            if waiting:
                break
            await asyncio.sleep(0.02)
    release_first.set()
    results = await asyncio.gather(one, two)
    assert sorted(results) == [False, True]


async def test_a_claim_skips_a_row_another_sender_is_claiming_on_postgres(pg: Database) -> None:
    """Senders of two instances: the second never waits for the first's open claim; it gives
    the row up at once (FOR UPDATE SKIP LOCKED), and the row is sent once."""
    await asyncio.to_thread(upgrade, pg.url)
    now = utcnow()
    async with pg.session() as session:
        await outbox.enqueue(session, [OutRow("k1", tg(42), "test", {})], now)
    async with pg.session() as session:
        (row,) = await outbox.due_rows(session, now, 10)

    first_claimed = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> bool:
        async with pg.session() as session:
            claimed = await outbox.claim(session, row, now)
            first_claimed.set()
            await release_first.wait()
        return claimed

    async def second() -> bool:
        await first_claimed.wait()
        async with pg.session() as session:
            return await outbox.claim(session, row, now)

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await first_claimed.wait()
    waited = False
    async with pg.engine.connect() as conn:
        while not two.done():
            waited = bool(await conn.scalar(text(WAITING_HERE)))
            await conn.rollback()
            if waited:
                break
            await asyncio.sleep(0.02)
    release_first.set()
    results = await asyncio.gather(one, two)
    assert not waited
    assert results == [True, False]
